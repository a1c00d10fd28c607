"""CMMLU: 67-subject Chinese multiple-choice knowledge test (11,528 test questions, 4 options), with
China-specific subjects (ancient Chinese, Chinese law, driving rules, food culture) beside MMLU-like ones.

Li et al., "CMMLU: Measuring Massive Multitask Language Understanding in Chinese", Findings of ACL 2024
(arXiv:2306.09212). As EvalScope's ``cmmlu``: the test split, per subject, asked in Chinese with a step-by-step
prompt and the answer as "答案：X"; ``few_shot_num: 5`` prepends the subject's five dev examples with their
answers, as in the paper. Reads both the authors' schema (``Question``, ``A``-``D``, ``Answer``; a config per
subject) and EvalScope's (``question``, ``choices`` as "(A) text", ``answer``, the subject in ``category``).
"""

from __future__ import annotations

import re
from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import LETTERS, ZH_MCQ_TEMPLATE, MultipleChoice, format_choices
from assay.types import Message, Sample

SUBJECTS = (
    "agronomy", "anatomy", "ancient_chinese", "arts", "astronomy", "business_ethics", "chinese_civil_service_exam",
    "chinese_driving_rule", "chinese_food_culture", "chinese_foreign_policy", "chinese_history",
    "chinese_literature", "chinese_teacher_qualification", "clinical_knowledge", "college_actuarial_science",
    "college_education", "college_engineering_hydrology", "college_law", "college_mathematics",
    "college_medical_statistics", "college_medicine", "computer_science", "computer_security",
    "conceptual_physics", "construction_project_management", "economics", "education", "electrical_engineering",
    "elementary_chinese", "elementary_commonsense", "elementary_information_and_technology",
    "elementary_mathematics", "ethnology", "food_science", "genetics", "global_facts", "high_school_biology",
    "high_school_chemistry", "high_school_geography", "high_school_mathematics", "high_school_physics",
    "high_school_politics", "human_sexuality", "international_law", "journalism", "jurisprudence",
    "legal_and_moral_basis", "logical", "machine_learning", "management", "marketing", "marxist_theory",
    "modern_chinese", "nutrition", "philosophy", "professional_accounting", "professional_law",
    "professional_medicine", "professional_psychology", "public_relations", "security_study", "sociology",
    "sports_science", "traditional_chinese_medicine", "virology", "world_history", "world_religions",
)

_LETTER_PREFIX = re.compile(r"^\s*[(（]?[A-D][)）.．]\s*")


def options_and_answer(row: dict[str, Any]) -> tuple[list[str], int]:
    """The four option texts and the answer's index, from either schema."""
    if "choices" in row:
        choices = [_LETTER_PREFIX.sub("", str(choice), count=1) for choice in row["choices"]]
        answer = str(row["answer"]).strip().strip("()（）")
    else:
        choices = [str(row[letter]) for letter in "ABCD"]
        answer = str(row["Answer"]).strip()
    return choices, LETTERS.index(answer.upper())


@register_benchmark("cmmlu", task_type="mcq", tags=("zh", "knowledge"))
class CMMLU(MultipleChoice):
    """CMMLU (Li et al., 2024), test split per subject, 0-shot or 5-shot from dev."""

    version = "1"
    licence = "CC-BY-NC-4.0"
    source = HubDataset(hubs=(("huggingface", "haonan-li/cmmlu"), ("modelscope", "evalscope/cmmlu"),
                              ("modelscope", "modelscope/cmmlu")),
                        split="test", subset_is_config=True, subset_column="category")
    subsets = SUBJECTS
    few_shot_split = "dev"
    protocol_note = ("Chinese step-by-step prompt ('答案：X'), with few-shot the subject's dev examples and their "
                     "answers first; acc: letter from the last answer marker, then fallbacks")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        choices, answer = options_and_answer(row)
        return self.make_sample(f"{subset}/{index}", str(row.get("Question", row.get("question"))), choices,
                                [answer], subset)

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        examples = "".join(f"{s.metadata['question']}\n{format_choices(s.choices or [])}\n答案：{s.target}\n\n"
                           for s in shots)
        return [Message.user(examples + self.fill_template(ZH_MCQ_TEMPLATE, sample))]
