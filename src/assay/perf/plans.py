"""Load plans: closed loop at a fixed concurrency, or open loop at a request rate with a concurrency cap.

A plan is data; the runner executes it. Open-loop arrivals are absolute offsets from the plan's start,
drawn up front from a seeded generator, so the rate cannot drift however late the client runs; the runner
records how late each request actually went out (its send lag).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from assay.perf.config import PerfConfig
from assay.perf.ramps import DEFAULT_RATE_START_FRACTION, Ramp

DEFAULT_NUMBER = 1000


@dataclass(frozen=True)
class LoadPlan:
    """One load level.

    ``parallel``: the number of requests in flight (closed loop) or the cap on it (open loop, ``None`` =
    no cap). ``rate``: requests per second for an open loop, ``None`` for a closed loop. ``number``: how many
    requests; ``duration_s`` stops sending earlier. ``arrivals_s``: a replayed trace's arrival times (seconds
    from the start, already divided by ``trace_speed``), which make it an open loop without a rate.
    ``ramp``: the rate (open loop) or concurrency (closed loop) rises to its target along it (``assay.perf.ramps``).
    """

    number: int
    parallel: int | None = 1
    rate: float | None = None
    distribution: Literal["poisson", "constant", "gamma"] = "poisson"
    burstiness: float = 1.0
    duration_s: float | None = None
    arrivals_s: tuple[float, ...] | None = field(default=None, repr=False)
    trace_speed: float | None = None
    ramp: Ramp | None = None

    @property
    def name(self) -> str:
        """The plan's folder name, e.g. ``parallel_64_number_512`` or ``rate_20_parallel_64_number_500``."""
        parts = []
        if self.arrivals_s is not None:
            parts.append(f"trace_speed_{_number_text(self.trace_speed or 1.0)}")
        if self.rate is not None:
            parts.append(f"rate_{_number_text(self.rate)}")
        if self.parallel is not None:
            parts.append(f"parallel_{self.parallel}")
        parts.append(f"number_{self.number}")
        return "_".join(parts)

    @property
    def open_loop(self) -> bool:
        return self.rate is not None or self.arrivals_s is not None

    def arrival_offsets_s(self, seed: int) -> np.ndarray:
        """When each request is due, in seconds from the plan's start (zeros for a closed loop)."""
        if self.arrivals_s is not None:
            return np.asarray(self.arrivals_s, dtype=np.float64)
        return arrival_offsets_s(self.number, self.rate, self.distribution, self.burstiness, seed, ramp=self.ramp)

    def lane_offsets_s(self) -> np.ndarray:
        """When each closed-loop lane starts sending, in seconds from the plan's start (all at 0 without a ramp)."""
        lanes = self.parallel or 1
        if self.ramp is None:
            return np.zeros(lanes)
        return self.ramp.lane_offsets_s(lanes)

    def split(self, workers: int) -> list[LoadPlan]:
        """This plan shared by ``workers`` processes: concurrency, count and rate divided as evenly as can be.

        Independent Poisson streams at rates r/k add up to one Poisson stream at rate r, so an open loop
        split this way keeps its arrival process.
        """
        if workers <= 1:
            return [self]
        plans = []
        for k in range(workers):
            number = _share(self.number, workers, k)
            parallel = None if self.parallel is None else max(1, _share(self.parallel, workers, k))
            rate = None if self.rate is None else self.rate * number / self.number
            # A trace's worker k sends requests k, k+n, ... (the runner's global index) at their own times.
            arrivals = None if self.arrivals_s is None else self.arrivals_s[k::workers]
            ramp = self._ramp_share(number, parallel)
            if number > 0:
                plans.append(LoadPlan(number, parallel, rate, self.distribution, self.burstiness, self.duration_s,
                                      arrivals, self.trace_speed, ramp))
        return plans


    def _ramp_share(self, number: int, parallel: int | None) -> Ramp | None:
        """A worker's ramp: its start scaled as its rate (by its share of requests) or its concurrency."""
        if self.ramp is None:
            return None
        if self.open_loop:
            return self.ramp.scaled(number / self.number)
        return self.ramp.scaled((parallel or 1) / (self.parallel or 1))


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def arrival_offsets_s(
    number: int, rate: float | None, distribution: str = "poisson", burstiness: float = 1.0, seed: int = 0,
    *, ramp: Ramp | None = None,
) -> np.ndarray:
    """Absolute arrival times (s from start) for ``number`` requests at ``rate`` per second.

    ``poisson``: exponential gaps; ``gamma``: gamma gaps with shape ``burstiness`` and the same mean (vLLM's
    burstiness); ``constant``: equal gaps. The first request goes at 0. With a ``ramp`` the same process is
    drawn at unit rate and mapped through the ramp's inverse cumulative rate (time rescaling), so the rate
    rises along the ramp and the process keeps its shape.
    """
    if rate is None or number == 0:
        return np.zeros(number)
    if ramp is not None:
        return ramp.inverse_cumulative(arrival_offsets_s(number, 1.0, distribution, burstiness, seed), rate)
    mean_gap = 1.0 / rate
    if distribution == "constant":
        gaps = np.full(number, mean_gap)
    else:
        rng = np.random.default_rng(seed)
        shape = 1.0 if distribution == "poisson" else burstiness
        gaps = rng.gamma(shape, mean_gap / shape, size=number)
    gaps[0] = 0.0
    return np.cumsum(gaps)


def build_plans(config: PerfConfig) -> list[LoadPlan]:
    """The plans of a run: ``parallel``, ``number`` and ``rate`` lists zipped (a single value repeats), or
    the one plan of a replayed ``trace``."""
    if config.trace is not None:
        return [trace_plan(config)]
    lists = [v for v in (config.parallel, config.number, config.rate) if v is not None]
    count = max((len(v) for v in lists), default=1)

    def pick(values: list | None, i: int):
        if values is None:
            return None
        return values[0] if len(values) == 1 else values[i]

    plans = []
    for i in range(count):
        rate = pick(config.rate, i)
        parallel = pick(config.parallel, i)
        if parallel is None and rate is None:
            parallel = 1
        number = pick(config.number, i) or DEFAULT_NUMBER
        plans.append(LoadPlan(
            number=number, parallel=parallel, rate=rate, distribution=config.rate_distribution,
            burstiness=config.burstiness, duration_s=config.duration, ramp=plan_ramp(config, rate, parallel),
        ))
    return plans


def plan_ramp(config: PerfConfig, rate: float | None, parallel: int | None) -> Ramp | None:
    """The ramp of a plan with this ``rate`` (open loop) or ``parallel`` (closed loop), from ``config.ramp``;
    without ``--ramp-start`` a rate starts at a tenth of its target, a concurrency at one request."""
    if config.ramp == "none" or config.ramp_duration is None:
        return None
    if rate is not None:
        start = config.ramp_start if config.ramp_start is not None else rate * DEFAULT_RATE_START_FRACTION
    else:
        start = config.ramp_start if config.ramp_start is not None else 1.0
    return Ramp(config.ramp, config.ramp_duration, float(start))


def trace_plan(config: PerfConfig) -> LoadPlan:
    """The plan that replays ``config.trace``: its timestamps, relative to the first, over ``trace_speed``;
    ``--parallel`` (if given) caps the requests in flight, as for ``--rate``."""
    from assay.perf.traces import read_trace

    trace = read_trace(config.trace, limit=config.trace_limit, start_s=config.trace_start)  # type: ignore[arg-type]
    arrivals = tuple(float(t) for t in trace.arrival_offsets_s(config.trace_speed))
    return LoadPlan(number=len(arrivals), parallel=config.parallel[0] if config.parallel else None,
                    duration_s=config.duration, arrivals_s=arrivals, trace_speed=config.trace_speed)
