"""``assay eval``: capability benchmarks against an API model, a local checkpoint or the simulator.

``from assay.eval import TaskConfig, run_task`` (also exported from ``assay``). Imports are lazy so that
``import assay.eval.scoring`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.eval.benchmarks import Benchmark, benchmark_names, get_benchmark, register_benchmark
    from assay.eval.config import DatasetArgs, TaskConfig
    from assay.eval.runner import RunResult, run_task

__all__ = ["Benchmark", "DatasetArgs", "RunResult", "TaskConfig", "benchmark_names", "get_benchmark",
           "register_benchmark", "run_task"]

_WHERE = {
    "TaskConfig": "assay.eval.config", "DatasetArgs": "assay.eval.config",
    "run_task": "assay.eval.runner", "RunResult": "assay.eval.runner",
    "Benchmark": "assay.eval.benchmarks", "benchmark_names": "assay.eval.benchmarks",
    "get_benchmark": "assay.eval.benchmarks", "register_benchmark": "assay.eval.benchmarks",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'assay.eval' has no attribute {name!r}")
