"""C-Eval: 52-subject Chinese exam questions from middle school to professional level (4 options).

Huang et al., "C-Eval: A Multi-Level Multi-Discipline Chinese Evaluation Suite for Foundation Models",
NeurIPS 2023 (arXiv:2305.08322). Run on the validation split (the test answers are not public), asked with
EvalScope's Chinese prompt; ``few_shot_num: 5`` prepends the subject's dev examples with their answers.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MultipleChoice, format_choices
from assay.types import Message, Sample

SUBJECTS = {
    "computer_network": "计算机网络", "operating_system": "操作系统", "computer_architecture": "计算机组成",
    "college_programming": "大学编程", "college_physics": "大学物理", "college_chemistry": "大学化学",
    "advanced_mathematics": "高等数学", "probability_and_statistics": "概率统计", "discrete_mathematics": "离散数学",
    "electrical_engineer": "注册电气工程师", "metrology_engineer": "注册计量师", "high_school_mathematics": "高中数学",
    "high_school_physics": "高中物理", "high_school_chemistry": "高中化学", "high_school_biology": "高中生物",
    "middle_school_mathematics": "初中数学", "middle_school_biology": "初中生物", "middle_school_physics": "初中物理",
    "middle_school_chemistry": "初中化学", "veterinary_medicine": "兽医学", "college_economics": "大学经济学",
    "business_administration": "工商管理", "marxism": "马克思主义基本原理",
    "mao_zedong_thought": "毛泽东思想和中国特色社会主义理论体系概论", "education_science": "教育学",
    "teacher_qualification": "教师资格", "high_school_politics": "高中政治", "high_school_geography": "高中地理",
    "middle_school_politics": "初中政治", "middle_school_geography": "初中地理", "modern_chinese_history": "近代史纲要",
    "ideological_and_moral_cultivation": "思想道德修养与法律基础", "logic": "逻辑学", "law": "法学",
    "chinese_language_and_literature": "中国语言文学", "art_studies": "艺术学", "professional_tour_guide": "导游资格",
    "legal_professional": "法律职业资格", "high_school_chinese": "高中语文", "high_school_history": "高中历史",
    "middle_school_history": "初中历史", "civil_servant": "公务员", "sports_science": "体育学",
    "plant_protection": "植物保护", "basic_medicine": "基础医学", "clinical_medicine": "临床医学",
    "urban_and_rural_planner": "注册城乡规划师", "accountant": "注册会计师", "fire_engineer": "注册消防工程师",
    "environmental_impact_assessment_engineer": "环境影响评价工程师", "tax_accountant": "税务师",
    "physician": "医师资格",
}

TEMPLATE = ("以下是中国关于{subject}考试的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："
            "“答案：LETTER”（不带引号），其中 LETTER 是 A、B、C、D 中的一个。\n\n")


@register_benchmark("ceval", task_type="mcq", tags=("zh", "knowledge"))
class CEval(MultipleChoice):
    """C-Eval (Huang et al., 2023), validation split, per subject."""

    version = "2"
    licence = "CC-BY-NC-SA-4.0"
    source = HubDataset(hubs=(("huggingface", "ceval/ceval-exam"), ("modelscope", "evalscope/ceval"),
                              ("modelscope", "modelscope/ceval-exam")), split="val", subset_is_config=True)
    subsets = tuple(SUBJECTS)
    few_shot_split = "dev"

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        choices = [row["A"], row["B"], row["C"], row["D"]]
        return self.make_sample(f"{subset}/{row.get('id', index)}", row["question"], choices,
                                ["ABCD".index(str(row["answer"]).strip())], subset)

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        examples = "".join(f"{s.metadata['question']}\n{format_choices(s.choices or [], '. ')}\n答案：{s.target}\n\n"
                           for s in shots)
        question = f"{sample.metadata['question']}\n{format_choices(sample.choices or [], '. ')}"
        return [Message.user(TEMPLATE.format(subject=SUBJECTS.get(sample.subset, sample.subset)) + examples + question)]
