"""``assay perf``: load-test an OpenAI-compatible endpoint (TTFT, TPOT, ITL, throughput, goodput).

``run_perf(PerfConfig(url=..., model=..., parallel=[1, 8, 32], number=[16, 64, 256]))`` runs the plans,
writes ``records.sqlite``, ``summary.json``, ``percentiles.json`` and charts per plan, and returns the
summaries.
"""

from assay.perf.config import PerfConfig
from assay.perf.plans import LoadPlan, build_plans
from assay.perf.run import PerfResult, run_perf
from assay.perf.summary import PlanSummary

__all__ = ["LoadPlan", "PerfConfig", "PerfResult", "PlanSummary", "build_plans", "run_perf"]
