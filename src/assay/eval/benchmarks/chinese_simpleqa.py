"""Chinese SimpleQA: 3,000 short fact-seeking questions in Chinese over six topics, graded by an LLM judge.

He et al., "Chinese SimpleQA: A Chinese Factuality Evaluation for Large Language Models", 2024
(arXiv:2411.07140). Hugging Face ``OpenStellarTeam/Chinese-SimpleQA``, ModelScope
``AI-ModelScope/Chinese-SimpleQA`` (EvalScope's copy); one file, split ``train``; fields ``id``,
``primary_category``, ``secondary_category``, ``question``, ``answer``, ``urls``. The subsets are the six
``primary_category`` values (EvalScope's subset list). CC-BY-NC-SA-4.0.

Protocol: as SimpleQA (``assay.eval.benchmarks.simple_qa``), with a Chinese grader prompt: the question alone
as the user message, the judge grades A 正确 / B 错误 / C 未尝试, and the report gives ``is_correct``,
``is_incorrect``, ``is_not_attempted``, ``correct_given_attempted`` and ``f_score`` overall and per primary
category (the paper's columns CO, IN, NA, CGA, F-score). Its numeric rule is not SimpleQA's: a number must
agree with the gold digit by digit at least to its integer part, dropping the gold's last decimals being
fine (gold 3518.17: 3518 is correct, 3520 is not), as in the published Chinese grader. Where assay differs:
the grader prompt is assay's wording of the published rules; an unreadable grade is ungraded (EvalScope reads
it as 未尝试); EvalScope's "请回答问题：" wrapper is not added.
"""

from __future__ import annotations

from typing import Any, ClassVar

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.simple_qa import FactualityBenchmark
from assay.types import Sample

CATEGORIES = ("中华文化", "人文与社会科学", "工程、技术与应用科学", "生活、艺术与文化", "社会", "自然与自然科学")

GRADER_SYSTEM = "你是一名严谨的评分员：根据问题和标准答案，判断模型对简短事实问题的回答是否正确。"

GRADER_TEMPLATE = """请根据问题和标准答案，把模型的预测答案评定为以下三类之一：【正确】、【错误】或【未尝试】。

【正确】：预测答案包含标准答案的关键信息，且没有任何与之矛盾的内容。
- 只看语义：中英文、大小写、标点、措辞和顺序都不重要，多出的正确细节也不影响。
- 带有不确定语气或猜测的回答，只要明确给出了标准答案且没有错误内容，仍算【正确】（例如“我记得是鲁迅，但不太确定”）。
- 人名、地名译法不同或有轻微错别字，但显然指同一对象的，算【正确】。

【错误】：预测答案中有与标准答案矛盾的事实陈述。
- 语气保留不能挽回错误：标准答案为“1905年”，回答“可能是1912年吧，我不确定”算【错误】。
- 同时给出多个候选且其中有错的（“可能是杭州，也可能是苏州”），算【错误】。

【未尝试】：预测答案没有给出标准答案的关键信息，但也没有与之矛盾的内容。
- 例如“我不知道”、拒绝回答、要求补充上下文，或只说了相关背景而没有回答所问的内容。

另外：
- 标准答案是数字时，预测的数字须与标准答案逐位一致，至少到整数位；可以省略标准答案末尾的小数位。标准答案为“8848.86米”时，\
“8848.86米”“8848.8米”“8848米”算【正确】，“8850米”“9000米”算【错误】，“大约八千多米”“超过8000米”这类模糊说法算【未尝试】。
- 标准答案的信息可能多于问题所问，预测答案只需包含问题所问的部分（标准答案“氯化钠（NaCl）”时，“氯化钠”或“NaCl”都算【正确】）。
- 问题中已能推断出的信息，预测答案可以省略（问题问的是某省的哪座城市，只答城市名即可）。

请评定下面的例子：
问题：{question}
标准答案：{reference}
预测答案：{candidate}

只回复一个字母：
A：【正确】
B：【错误】
C：【未尝试】"""


@register_benchmark("chinese_simpleqa", task_type="qa", tags=("zh", "knowledge", "factuality", "llm_judge"))
class ChineseSimpleQA(FactualityBenchmark):
    """Chinese SimpleQA (He et al., 2024): graded 正确 / 错误 / 未尝试, reported per primary category."""

    version = "1"
    source = HubDataset(hubs=(("modelscope", "AI-ModelScope/Chinese-SimpleQA"),
                              ("huggingface", "OpenStellarTeam/Chinese-SimpleQA")),
                        split="train", subset_column="primary_category", aliases=("chinese_simple_qa",))
    licence = "CC-BY-NC-SA-4.0"
    subsets = CATEGORIES
    judge_system: ClassVar[str | None] = GRADER_SYSTEM
    judge_template: ClassVar[str] = GRADER_TEMPLATE

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        metadata = {"question": str(row["question"]), "primary_category": row.get("primary_category"),
                    "secondary_category": row.get("secondary_category"), "urls": row.get("urls")}
        return Sample(id=str(row.get("id") or f"{subset}/{index}"), target=str(row["answer"]), subset=subset,
                      metadata=metadata)
