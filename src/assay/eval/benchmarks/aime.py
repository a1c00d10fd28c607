"""AIME 2024, 2025 and 2026: the American Invitational Mathematics Examination, I and II (30 problems a year).

Problems published by the MAA; used as in the DeepSeek-R1 and Qwen3 reports. Every answer is an integer in
0-999, compared as an integer (the hub copies store "025" or 70.0). Usually run with several repeats (mean@n).
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark, integer_answer
from assay.types import Sample


class _AIME(MathBenchmark):
    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        question = row.get("problem", row.get("question"))
        return Sample(id=str(row.get("id", index)), target=integer_answer(row["answer"]), subset=subset,
                      metadata={"question": question})


@register_benchmark("aime24", task_type="math", tags=("en", "math", "reasoning"))
class AIME24(_AIME):
    """AIME 2024 I and II: integer answers."""

    version = "1"
    licence = "problems (c) MAA; the card states no licence"
    source = HubDataset(hubs=(("huggingface", "HuggingFaceH4/aime_2024"), ("modelscope", "evalscope/aime24"),
                              ("modelscope", "AI-ModelScope/aime_2024")), split="train")


@register_benchmark("aime25", task_type="math", tags=("en", "math", "reasoning"))
class AIME25(_AIME):
    """AIME 2025 I and II: integer answers."""

    version = "1"
    licence = "problems (c) MAA; the card states no licence"
    source = HubDataset(hubs=(("huggingface", "opencompass/AIME2025"), ("modelscope", "opencompass/AIME2025"),
                              ("modelscope", "evalscope/aime25")), split="test")


@register_benchmark("aime26", task_type="math", tags=("en", "math", "reasoning"))
class AIME26(_AIME):
    """AIME 2026 I and II: integer answers.

    EvalScope reads ``evalscope/aime26`` (ModelScope, split ``test``); the HF id ``MathArena/aime_2026`` follows
    MathArena's naming (``aime_2025``, ``hmmt_feb_2025``) and is not verified here (the hubs are not reachable).
    """

    version = "1"
    licence = "CC-BY-NC-SA-4.0"
    source = HubDataset(hubs=(("modelscope", "evalscope/aime26"), ("huggingface", "MathArena/aime_2026")),
                        split="test", aliases=("aime_2026",))
