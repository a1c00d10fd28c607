"""assay: how good and how fast is your LLM.

Load-test OpenAI-compatible servers (``assay perf``), run capability benchmarks (``assay eval``), mix them
into weighted collections, analyse thinking efficiency and browse everything in a web viewer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from assay.eval.config import TaskConfig
    from assay.eval.runner import run_task
    from assay.perf import PerfConfig, run_perf

__all__ = ["PerfConfig", "TaskConfig", "__version__", "run_perf", "run_task"]

# Lazy, so that `import assay` (and the CLI's start-up) stays cheap.
_LAZY = {
    "TaskConfig": "assay.eval.config", "run_task": "assay.eval.runner",
    "PerfConfig": "assay.perf", "run_perf": "assay.perf",
    "ThinkConfig": "assay.think", "run_think": "assay.think",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'assay' has no attribute {name!r}")
