"""MMLU: 57-subject multiple-choice knowledge test (14,042 test questions, 4 options).

Hendrycks et al., "Measuring Massive Multitask Language Understanding", ICLR 2021 (arXiv:2009.03300).
Zero-shot with the simple-evals prompt by default; ``few_shot_num: 5`` prepends the subject's five dev
examples, as in the paper. Reported per subject.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MCQ_TEMPLATE, MultipleChoice, format_choices
from assay.types import Message, Sample

SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
    "college_chemistry", "college_computer_science", "college_mathematics", "college_medicine", "college_physics",
    "computer_security", "conceptual_physics", "econometrics", "electrical_engineering", "elementary_mathematics",
    "formal_logic", "global_facts", "high_school_biology", "high_school_chemistry",
    "high_school_computer_science", "high_school_european_history", "high_school_geography",
    "high_school_government_and_politics", "high_school_macroeconomics", "high_school_mathematics",
    "high_school_microeconomics", "high_school_physics", "high_school_psychology", "high_school_statistics",
    "high_school_us_history", "high_school_world_history", "human_aging", "human_sexuality", "international_law",
    "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing", "medical_genetics",
    "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition", "philosophy", "prehistory",
    "professional_accounting", "professional_law", "professional_medicine", "professional_psychology",
    "public_relations", "security_studies", "sociology", "us_foreign_policy", "virology", "world_religions",
)


def few_shot_block(subject: str, shots: list[Sample]) -> str:
    """The paper's few-shot header and solved examples ("Answer: X" after each)."""
    header = f"The following are multiple choice questions (with answers) about {subject.replace('_', ' ')}.\n\n"
    examples = [f"{s.metadata['question']}\n{format_choices(s.choices or [])}\nAnswer: {s.target}" for s in shots]
    return header + "\n\n".join(examples) + "\n\n"


@register_benchmark("mmlu", task_type="mcq", tags=("en", "knowledge"))
class MMLU(MultipleChoice):
    """MMLU (Hendrycks et al., 2021), per subject, 0-shot or 5-shot from dev."""

    version = "2"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "cais/mmlu"), ("modelscope", "cais/mmlu"),
                              ("modelscope", "modelscope/mmlu")),
                        split="test", subset_is_config=True, subset_column="subject")
    subsets = SUBJECTS
    few_shot_split = "dev"
    protocol_note = ("simple-evals CoT prompt ('Answer: $LETTER'), with few-shot the paper's header and the "
                     "subject's dev examples; acc: letter from the last answer marker, then fallbacks")

    def subset_of(self, row: dict[str, Any]) -> str | None:
        return row.get("subject")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        return self.make_sample(f"{subset}/{index}", row["question"], row["choices"], [int(row["answer"])], subset)

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        question = self.fill_template(MCQ_TEMPLATE, sample)
        return [Message.user(few_shot_block(sample.subset, shots) + question if shots else question)]
