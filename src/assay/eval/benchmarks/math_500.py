"""MATH-500: the 500-problem test subset of MATH used by "Let's Verify Step by Step".

Lightman et al., "Let's Verify Step by Step", 2023 (arXiv:2305.20050); problems from Hendrycks et al.,
"Measuring Mathematical Problem Solving With the MATH Dataset", 2021 (arXiv:2103.03874).
Reported by difficulty level; the boxed answer is compared with math-verify equivalence.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark
from assay.types import Sample

LEVELS = tuple(f"Level {n}" for n in range(1, 6))


def level_name(value: Any) -> str:
    """1, "1" and "Level 1" all name "Level 1"."""
    text = str(value).strip()
    return text if text.startswith("Level") else f"Level {text}"


@register_benchmark("math_500", task_type="math", tags=("en", "math"))
class Math500(MathBenchmark):
    """MATH-500 (Lightman et al., 2023), by level: boxed answer, math-verify equivalence."""

    version = "1"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "HuggingFaceH4/MATH-500"), ("modelscope", "AI-ModelScope/MATH-500")),
                        split="test", subset_column="level")
    subsets = LEVELS

    def subset_of(self, row: dict[str, Any]) -> str | None:
        return level_name(row["level"]) if "level" in row else None

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(
            id=str(row.get("unique_id", index)), target=str(row["answer"]), subset=subset,
            metadata={"question": row["problem"], "subject": row.get("subject"), "level": subset},
        )
