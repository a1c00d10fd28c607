"""MATH (competition_math): 5,000 competition problems in seven subjects and five difficulty levels.

Hendrycks et al., "Measuring Mathematical Problem Solving With the MATH Dataset", NeurIPS 2021
(arXiv:2103.03874). The target is the last ``\\boxed{}`` of the reference solution; reported by level.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark
from assay.eval.benchmarks.math_500 import LEVELS, level_name
from assay.types import Sample


@register_benchmark("competition_math", task_type="math", tags=("en", "math"))
class CompetitionMath(MathBenchmark):
    """MATH (Hendrycks et al., 2021), by level: boxed answer vs the solution's last box."""

    version = "2"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "EleutherAI/hendrycks_math"),
                              ("modelscope", "evalscope/competition_math"),
                              ("modelscope", "modelscope/competition_math")),
                        split="test", subset_column="level", aliases=("math",))
    subsets = LEVELS
    few_shot_split = "train"

    def subset_of(self, row: dict[str, Any]) -> str | None:
        return level_name(row["level"]) if "level" in row else None

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        from assay.eval.scoring.math import extract_boxed

        target = row.get("answer") or extract_boxed(row["solution"])
        return Sample(
            id=str(row.get("unique_id", f"{subset}/{index}")), target=str(target), subset=subset,
            metadata={"question": row["problem"], "solution": row.get("solution"),
                      "subject": row.get("type", row.get("subject")), "level": subset},
        )
