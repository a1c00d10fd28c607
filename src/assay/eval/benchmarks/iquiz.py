"""IQuiz: Chinese multiple-choice questions probing IQ (logic, arithmetic) and EQ (emotional understanding).

Published by ModelScope as AI-ModelScope/IQuiz (EvalScope's ``iquiz``); subsets IQ and EQ. Asked in
Chinese, the answer given as "答案：X", extracted with the Chinese and English answer markers.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import LETTERS, ZH_MCQ_TEMPLATE, MultipleChoice
from assay.types import Message, Sample


@register_benchmark("iquiz", task_type="mcq", tags=("zh", "reasoning"))
class IQuiz(MultipleChoice):
    """IQuiz (ModelScope): IQ and EQ multiple choice, in Chinese."""

    version = "1"
    licence = "the card states no licence"
    source = HubDataset(hubs=(("modelscope", "AI-ModelScope/IQuiz"),), split="test", subset_is_config=True)
    subsets = ("IQ", "EQ")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        choices = list(row["choices"])
        return self.make_sample(str(row.get("id", f"{subset}/{index}")), row["question"], choices,
                                [LETTERS.index(str(row["answer"]).strip().upper())], subset)

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(self.fill_template(ZH_MCQ_TEMPLATE, sample))]
