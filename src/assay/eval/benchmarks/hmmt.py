"""HMMT February 2025: the Harvard-MIT Mathematics Tournament, February 2025 (30 short-answer problems).

As collected by MathArena (Balunović, Dekoninck, Petrov, Jovanović, Vechev, "MathArena: Evaluating LLMs on
Uncontaminated Math Competitions", 2025, arXiv:2505.23281): HF ``MathArena/hmmt_feb_2025``, ModelScope
``evalscope/hmmt_feb_2025`` (split ``train``; fields ``problem_idx``, ``problem``, ``answer``, ``problem_type``).
Answers are short closed forms (integers, fractions, radicals), so the grading is the math checker's
equivalence of the last boxed answer, as EvalScope's ``hmmt25`` (the name kept here). EvalScope grades with a
judge model by default; assay grades by rule and offers the LLM judge (``judge_strategy``).
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark
from assay.types import Sample


@register_benchmark("hmmt25", task_type="math", tags=("en", "math", "reasoning"))
class HMMT25(MathBenchmark):
    """HMMT February 2025: short closed-form answers."""

    version = "1"
    licence = "CC-BY-NC-SA-4.0"
    source = HubDataset(hubs=(("huggingface", "MathArena/hmmt_feb_2025"), ("modelscope", "evalscope/hmmt_feb_2025")),
                        split="train", aliases=("hmmt_feb_2025",))

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        types = row.get("problem_type") or []
        return Sample(id=str(row.get("problem_idx", index)), target=str(row["answer"]).strip(), subset=subset,
                      metadata={"question": row["problem"],
                                "problem_type": list(types) if isinstance(types, (list, tuple)) else [types]})
