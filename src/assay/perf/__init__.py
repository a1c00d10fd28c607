"""``assay perf``: load-test an OpenAI-compatible endpoint (TTFT, TPOT, ITL, throughput, goodput).

``run_perf(PerfConfig(url=..., model=..., parallel=[1, 8, 32], number=[16, 64, 256]))`` runs the plans,
writes ``records.sqlite``, ``summary.json``, ``percentiles.json`` and charts per plan, and returns the
summaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assay.perf.config import PerfConfig
from assay.perf.plans import LoadPlan, build_plans
from assay.perf.summary import PlanSummary

if TYPE_CHECKING:
    from assay.perf.run import PerfResult, run_perf

__all__ = ["LoadPlan", "PerfConfig", "PerfResult", "PlanSummary", "build_plans", "run_perf"]


def __getattr__(name: str) -> Any:
    # Lazy, so that a worker process or Ray actor importing assay.perf.workers (or ray_workers) loads only what
    # it runs, not the driver (assay.perf.run) that starts it.
    if name in ("PerfResult", "run_perf"):
        from assay.perf import run

        return getattr(run, name)
    raise AttributeError(f"module 'assay.perf' has no attribute {name!r}")
