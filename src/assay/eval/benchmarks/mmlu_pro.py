"""MMLU-Pro: 12,032 harder, reasoning-focused questions with up to ten options, in 14 categories.

Wang et al., "MMLU-Pro: A More Robust and Challenging Multi-Task Language Understanding Benchmark",
NeurIPS 2024 (arXiv:2406.01574). Asked as in TIGER-Lab's evaluate_from_api.py: chain of thought with five
solved examples of the same category from the validation split, the answer given as "The answer is (X)".
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import LETTERS, MultipleChoice
from assay.types import Message, Sample

CATEGORIES = (
    "biology", "business", "chemistry", "computer science", "economics", "engineering", "health", "history",
    "law", "math", "other", "philosophy", "physics", "psychology",
)

INSTRUCTION = (
    "The following are multiple choice questions (with answers) about {subject}. Think step by step and then "
    'output the answer in the format of "The answer is (X)" at the end.\n\n'
)


def format_question(sample: Sample) -> str:
    options = "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(sample.choices or []))
    return f"Question:\n{sample.metadata['question']}\nOptions:\n{options}\n"


def format_shot(shot: Sample) -> str:
    cot = str(shot.metadata.get("cot_content") or "").replace("A: Let's think step by step.",
                                                             "Answer: Let's think step by step.", 1)
    return format_question(shot) + (cot if cot.startswith("Answer:") else f"Answer: {cot}") + "\n\n"


@register_benchmark("mmlu_pro", task_type="mcq", tags=("en", "knowledge", "reasoning"))
class MMLUPro(MultipleChoice):
    """MMLU-Pro (Wang et al., 2024): CoT, 5 validation shots per category, up to 10 options."""

    version = "1"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "TIGER-Lab/MMLU-Pro"), ("modelscope", "TIGER-Lab/MMLU-Pro"),
                              ("modelscope", "modelscope/MMLU-Pro")), split="test", subset_column="category")
    subsets = CATEGORIES
    few_shot_split = "validation"
    default_few_shot = 5
    protocol_note = ("TIGER-Lab evaluate_from_api CoT prompt with the category's shots from the validation split "
                     "(their CoT answers); acc: letter from the last 'The answer is (X)' marker, then fallbacks")

    def subset_of(self, row: dict[str, Any]) -> str | None:
        return row.get("category")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        options = [o for o in row["options"] if o != "N/A"]
        return self.make_sample(str(row.get("question_id", f"{subset}/{index}")), row["question"], options,
                                [int(row["answer_index"])], subset, cot_content=row.get("cot_content"))

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        text = INSTRUCTION.format(subject=sample.subset) + "".join(format_shot(s) for s in shots)
        return [Message.user(text + format_question(sample) + "Answer: Let's think step by step.")]
