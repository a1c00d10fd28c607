"""BeyondAIME: 100 competition problems harder than the AIME, every answer a positive integer.

ByteDance Seed, "BeyondAIME: Advancing Math Reasoning Evaluation Beyond High School Olympiads", 2025 (the dataset
card; no paper): HF ``ByteDance-Seed/BeyondAIME``, split ``test``, fields ``problem`` and ``answer`` (an integer).
The card describes problems beyond high-school olympiad level, each with a positive-integer answer, so a rule
grades every answer (no judge needed). Usually run with several repeats (mean@n), as AIME. CC0-1.0, as the card
states.

Graded as AIME: the Qwen / EvalScope prompt (reason step by step, final answer in ``\\boxed{}``), the last boxed
answer against the integer target by the math checker; a target stored as ``"025"`` or ``70.0`` is read as the
integer. The ids are the row numbers (the hub rows have no id column). No ModelScope copy is known to assay.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark, integer_answer
from assay.types import Sample


@register_benchmark("beyond_aime", task_type="math", tags=("en", "math", "reasoning"))
class BeyondAIME(MathBenchmark):
    """BeyondAIME (ByteDance Seed, 2025): 100 problems beyond the AIME, integer answers."""

    version = "1"
    licence = "CC0-1.0"
    source = HubDataset(hubs=(("huggingface", "ByteDance-Seed/BeyondAIME"),), split="test",
                        aliases=("beyondaime",))

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(id=str(row.get("id", index)), target=integer_answer(row["answer"]), subset=subset,
                      metadata={"question": row["problem"]})
