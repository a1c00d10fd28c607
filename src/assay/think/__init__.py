"""``assay think``: how efficiently reasoning models think, from the predictions of finished eval runs.

``run_think(ThinkConfig(runs=[run_a, run_b], dataset="math_500", tokenizer_path=...))`` measures every
reasoning trace (reasoning tokens, tokens to the first correct step, reflection tokens, token efficiency,
thought count, accuracy, and the outcome and process efficiency of Chen et al., 2024), groups them by
difficulty level or subset, prints the table and writes ``think.json``, ``traces.jsonl`` and ``think.png``.
"""

from assay.think.config import DEFAULT_MARKERS, JudgeConfig, ThinkConfig
from assay.think.metrics import METRICS, GroupMetrics, TraceResult
from assay.think.report import ThinkReport
from assay.think.run import ThinkResult, arun_think, run_think

__all__ = [
    "DEFAULT_MARKERS", "METRICS", "GroupMetrics", "JudgeConfig", "ThinkConfig", "ThinkReport", "ThinkResult",
    "TraceResult", "arun_think", "run_think",
]
