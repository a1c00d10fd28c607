"""GSM8K: grade-school math word problems.

Cobbe et al., "Training Verifiers to Solve Math Word Problems", 2021 (arXiv:2110.14168).
1,319 test problems; the reference answer ends with ``#### N``. The model reasons and boxes its final number;
the boxed (or, failing that, the last) number is compared with N.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark
from assay.types import Sample


@register_benchmark("gsm8k", task_type="math", tags=("en", "math"))
class GSM8K(MathBenchmark):
    """GSM8K test (Cobbe et al., 2021): boxed final number vs the ``#### N`` answer."""

    version = "2"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "openai/gsm8k"), ("modelscope", "AI-ModelScope/gsm8k"),
                              ("modelscope", "modelscope/gsm8k")), config="main", split="test")
    few_shot_split = "train"

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        solution, _, answer = str(row["answer"]).rpartition("####")
        return Sample(
            id=str(row.get("id", index)), target=answer.strip().replace(",", ""), subset=subset,
            metadata={"question": row["question"], "solution": f"{solution.strip()}\nThe answer is "
                                                                f"\\boxed{{{answer.strip()}}}."},
        )
