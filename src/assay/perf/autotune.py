"""SLA auto-tune: the highest concurrency (or request rate) at which the server still meets the SLOs.

Doubling from the lower bound finds a load that fails (or reaches the upper bound), then bisection narrows
the gap to one for concurrency, or to 5% for a rate. A load passes when at least ``sla_met_fraction`` of
its requests succeeded within every SLO (the goodput share).
"""

from __future__ import annotations

import math
from typing import Awaitable, Callable

from pydantic import BaseModel, Field

from assay.perf.config import PerfConfig
from assay.perf.plans import LoadPlan
from assay.perf.summary import PlanSummary

_RATE_RESOLUTION = 0.05


class TuningTrial(BaseModel):
    """One load tried by the search."""

    value: float
    plan: str
    met_fraction: float
    passed: bool


class TuningResult(BaseModel):
    """The search's answer (``best`` is ``None`` when even the lower bound failed) and every trial."""

    variable: str
    slo_ms: dict[str, float]
    required_fraction: float
    best: float | None = None
    trials: list[TuningTrial] = Field(default_factory=list)
    stopped: bool = False

    def describe(self) -> str:
        slo = " ".join(f"{k}={v:g}" for k, v in self.slo_ms.items())
        if self.best is None:
            return f"SLA auto-tune: no {self.variable} from the lower bound up meets {slo}"
        return (f"SLA auto-tune: highest {self.variable} meeting {slo} for {self.required_fraction:.0%} of "
                f"requests: {self.best:g} ({len(self.trials)} trials)")


def met_fraction(summary: PlanSummary) -> float:
    """The share of a plan's requests that succeeded within every SLO."""
    if not summary.total_requests or summary.goodput_rps is None:
        return 0.0
    return round(summary.goodput_rps * summary.duration_s) / summary.total_requests


async def auto_tune(config: PerfConfig, template: LoadPlan,
                    execute: Callable[[LoadPlan], Awaitable[PlanSummary | None]]) -> TuningResult:
    """Search ``config.sla_variable`` between its bounds, running one plan per trial through ``execute``."""
    by_rate = config.sla_variable == "rate"
    result = TuningResult(variable=config.sla_variable, slo_ms=dict(config.slo),
                          required_fraction=config.sla_met_fraction)

    def plan_for(value: float) -> LoadPlan:
        k = config.sla_requests_per_unit
        if by_rate:
            # The cap is only what --parallel asked for: build_plans' default of 1 would throttle every rate.
            cap = config.parallel[0] if config.parallel else None
            return LoadPlan(number=max(8, math.ceil(value * k)), parallel=cap, rate=value,
                            distribution=template.distribution, burstiness=template.burstiness,
                            duration_s=template.duration_s)
        parallel = int(value)
        return LoadPlan(number=max(parallel * k, 8), parallel=parallel, duration_s=template.duration_s)

    async def trial(value: float) -> bool | None:
        summary = await execute(plan_for(value))
        if summary is None or summary.interrupted:
            result.stopped = True
            return None
        fraction = met_fraction(summary)
        passed = fraction >= config.sla_met_fraction
        result.trials.append(TuningTrial(value=value, plan=summary.plan, met_fraction=fraction, passed=passed))
        return passed

    def snap(value: float) -> float:
        return float(max(1, int(value))) if not by_rate else value

    low, high = config.sla_lower_bound, config.sla_upper_bound
    value, failed_at = snap(low), None
    while True:
        passed = await trial(value)
        if passed is None:
            return result
        if not passed:
            failed_at = value
            break
        result.best = value
        if value >= high:
            return result
        value = snap(min(high, value * 2))
    if result.best is None:
        return result
    good, bad = result.best, failed_at
    while (bad - good > 1) if not by_rate else ((bad - good) / good > _RATE_RESOLUTION):
        middle = snap((good + bad) / 2)
        if middle in (good, bad):
            break
        passed = await trial(middle)
        if passed is None:
            return result
        if passed:
            good = result.best = middle
        else:
            bad = middle
    return result
