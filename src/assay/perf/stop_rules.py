"""Stop rules for a sweep: end it once the server is failing or saturated, instead of running every plan.

A sweep past a server's capacity spends most of its time on plans that only show a longer queue (or a wall
of errors); the rules end it after the plan that shows it, list the plans skipped, and keep the reason with
its numbers (``sweep_status.json``).

- ``error_rate`` (``--stop-error-rate PCT``): the plan's failed requests are over ``PCT`` percent of its
  requests. With ``--stop-error-after N`` the same check also runs during a plan, once ``N`` requests have
  finished, and cuts the plan short (``ErrorGuard``).
- ``saturation`` (``--stop-on-saturation``): the plan put more load than the one before (a higher
  ``--parallel`` or ``--rate``) but its request throughput rose by at most ``--saturation-throughput-gain``
  percent (default 10) while its median latency (end-to-end, or TTFT) rose by more than
  ``--saturation-latency-rise`` percent (default 50): more load only made the queue longer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from assay.perf.config import PerfConfig
from assay.perf.summary import PlanSummary

SWEEP_STATUS_FILE = "sweep_status.json"
Number = float | int | bool | str | None


class StoppedEarly(BaseModel):
    """Why a sweep ended before its last plan: the plan that tripped a rule, the rule, and its numbers."""

    plan: str
    rule: Literal["error_rate", "saturation"]
    numbers: dict[str, Number] = Field(default_factory=dict)
    message: str


class SweepStatus(BaseModel):
    """Which plans of a sweep ran and which were skipped, and what ended it early (``sweep_status.json``)."""

    planned: list[str]
    completed: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    stopped_early: StoppedEarly | None = None
    rules: dict[str, Number] = Field(default_factory=dict)


@dataclass(frozen=True)
class StopRules:
    """The stop rules of a run (``PerfConfig``'s ``--stop-*`` and ``--saturation-*`` options)."""

    error_rate_pct: float | None = None
    error_after: int | None = None
    saturation: bool = False
    throughput_gain_pct: float = 10.0
    latency_rise_pct: float = 50.0
    latency: Literal["e2e", "ttft"] = "e2e"

    @classmethod
    def from_config(cls, config: PerfConfig) -> StopRules:
        return cls(config.stop_error_rate, config.stop_error_after, config.stop_on_saturation,
                   config.saturation_throughput_gain, config.saturation_latency_rise, config.saturation_latency)

    @property
    def active(self) -> bool:
        return self.error_rate_pct is not None or self.saturation

    def describe(self) -> dict[str, Number]:
        """The rules as ``sweep_status.json`` keeps them."""
        out: dict[str, Number] = {}
        if self.error_rate_pct is not None:
            out["stop_error_rate_pct"] = self.error_rate_pct
            out["stop_error_after"] = self.error_after
        if self.saturation:
            out.update(saturation_throughput_gain_pct=self.throughput_gain_pct,
                       saturation_latency_rise_pct=self.latency_rise_pct, saturation_latency=self.latency)
        return out

    def check(self, summary: PlanSummary, previous: PlanSummary | None) -> StoppedEarly | None:
        """The rule ``summary`` (the plan just finished; ``previous``: the one before it) trips, if any."""
        return self._error_rate(summary) or self._saturation(summary, previous)

    def _error_rate(self, summary: PlanSummary) -> StoppedEarly | None:
        if self.error_rate_pct is None or not summary.total_requests:
            return None
        rate = 100.0 * summary.failed_requests / summary.total_requests
        if rate <= self.error_rate_pct:
            return None
        planned = summary.number * summary.repeats
        cut_short = self.error_after is not None and summary.total_requests < planned
        numbers: dict[str, Number] = {
            "error_rate_pct": round(rate, 3), "threshold_pct": self.error_rate_pct,
            "failed_requests": summary.failed_requests, "total_requests": summary.total_requests,
            "planned_requests": planned, "cut_short": cut_short}
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(summary.error_kinds.items(), key=lambda kv: -kv[1])[:3])
        message = (f"{summary.plan}: {rate:.1f}% of {summary.total_requests} requests failed "
                   f"(over --stop-error-rate {self.error_rate_pct:g}%{'; ' + kinds if kinds else ''})"
                   + (", cut short mid-plan" if cut_short else ""))
        return StoppedEarly(plan=summary.plan, rule="error_rate", numbers=numbers, message=message)

    def _saturation(self, summary: PlanSummary, previous: PlanSummary | None) -> StoppedEarly | None:
        if not self.saturation or previous is None:
            return None
        load, previous_load = offered_load(summary), offered_load(previous)
        if load is None or previous_load is None or load <= previous_load:
            return None  # only a rise in load can show saturation
        latency, previous_latency = self._latency_of(summary), self._latency_of(previous)
        throughput, previous_throughput = summary.request_throughput_rps, previous.request_throughput_rps
        if not (_positive(latency) and _positive(previous_latency) and _positive(previous_throughput)):
            return None
        gain = 100.0 * (throughput / previous_throughput - 1.0)
        rise = 100.0 * (latency / previous_latency - 1.0)  # type: ignore[operator]
        if gain > self.throughput_gain_pct or rise <= self.latency_rise_pct:
            return None
        name = "p50 TTFT" if self.latency == "ttft" else "p50 latency"
        numbers: dict[str, Number] = {
            "previous_plan": previous.plan, "load": load, "previous_load": previous_load,
            "throughput_rps": round(throughput, 4), "previous_throughput_rps": round(previous_throughput, 4),
            "throughput_gain_pct": round(gain, 2), "throughput_gain_threshold_pct": self.throughput_gain_pct,
            "latency_metric": f"p50_{self.latency}_s", "latency_s": latency, "previous_latency_s": previous_latency,
            "latency_rise_pct": round(rise, 2), "latency_rise_threshold_pct": self.latency_rise_pct}
        message = (f"{summary.plan}: saturated: throughput {gain:+.1f}% (at most {self.throughput_gain_pct:g}%) "
                   f"while {name} {rise:+.1f}% (over {self.latency_rise_pct:g}%) from {previous.plan}")
        return StoppedEarly(plan=summary.plan, rule="saturation", numbers=numbers, message=message)

    def _latency_of(self, summary: PlanSummary) -> float | None:
        return summary.median_ttft_s if self.latency == "ttft" else summary.median_latency_s


def offered_load(summary: PlanSummary) -> float | None:
    """What a sweep raises from plan to plan: the request rate of an open loop, else the concurrency."""
    if summary.rate is not None:
        return summary.rate
    return None if summary.parallel is None else float(summary.parallel)


def _positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


@dataclass
class ErrorGuard:
    """The mid-plan error check (``--stop-error-after N`` with ``--stop-error-rate PCT``): once ``N`` requests
    of this runner's share have finished with more than ``PCT`` percent failed, the runner stops sending."""

    after: int
    error_rate_pct: float
    tripped: bool = False

    @classmethod
    def from_config(cls, config: PerfConfig, workers: int = 1) -> ErrorGuard | None:
        """The guard of one runner of ``workers`` (each checks its own share, so ``N`` is shared out too)."""
        if config.stop_error_after is None or config.stop_error_rate is None:
            return None
        return cls(max(1, math.ceil(config.stop_error_after / max(workers, 1))), config.stop_error_rate)

    def check(self, done: int, failed: int) -> bool:
        """Whether the runner should stop now (it stays stopped once tripped)."""
        if not self.tripped and done >= self.after and 100.0 * failed / done > self.error_rate_pct:
            self.tripped = True
        return self.tripped
