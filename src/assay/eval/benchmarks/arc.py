"""ARC: the AI2 Reasoning Challenge, grade-school science questions (Easy: 2,376 test, Challenge: 1,172).

Clark et al., "Think you have Solved Question Answering? Try ARC, the AI2 Reasoning Challenge", 2018
(arXiv:1803.05457). Asked with the simple-evals multiple-choice prompt; the few questions labelled 1-4
instead of A-D are relabelled by position.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MultipleChoice
from assay.types import Sample


@register_benchmark("arc", task_type="mcq", tags=("en", "reasoning"))
class ARC(MultipleChoice):
    """ARC Easy and Challenge (Clark et al., 2018)."""

    version = "1"
    licence = "CC-BY-SA-4.0"
    source = HubDataset(hubs=(("huggingface", "allenai/ai2_arc"), ("modelscope", "allenai/ai2_arc"),
                              ("modelscope", "modelscope/ai2_arc")), split="test", subset_is_config=True)
    subsets = ("ARC-Easy", "ARC-Challenge")
    few_shot_split = "train"

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        labels = [str(label) for label in row["choices"]["label"]]
        answer = labels.index(str(row["answerKey"]))
        return self.make_sample(str(row.get("id", f"{subset}/{index}")), row["question"], row["choices"]["text"],
                                [answer], subset)
