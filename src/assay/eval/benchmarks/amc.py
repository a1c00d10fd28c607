"""AMC: problems of the American Mathematics Competitions (AMC 10/12) of 2022, 2023 and 2024.

The problems are the MAA's; the answer-only copies come from Project Numina's AIMO validation set (HF
``AI-MO/aimo-validation-amc``, the 83 AMC 12 problems of 2022-2023 with the multiple choices removed and a
numeric answer) as used in the Qwen2.5-Math and DeepSeek-R1 reports. EvalScope's ``amc`` (the name kept here)
reads ModelScope ``evalscope/amc_22-24`` (fields ``problem``, ``answer``, ``year``, ``url``, ``solution``), one
split per year, as subsets ``amc22``, ``amc23``, ``amc24``; ``subset_list: [amc23]`` is AMC 2023 alone
(HF ``math-ai/amc23``/``AI-MO/aimo-validation-amc`` hold that year too: a local copy of either runs as
``default`` when its rows carry no ``year``). Grading: the last boxed answer against the numeric answer by the
math checker (EvalScope: its math parser and numeric equality), so ``142.0`` and ``142`` agree.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark
from assay.types import Sample

YEARS = ("amc22", "amc23", "amc24")


def numeric_answer(value: Any) -> str:
    """The answer as text: a whole float (142.0) as an integer, anything else as written."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and "." in text else text


@register_benchmark("amc", task_type="math", tags=("en", "math", "reasoning"))
class AMC(MathBenchmark):
    """AMC 10/12, 2022-2024, answer-only: a subset per year."""

    version = "1"
    licence = "problems (c) MAA; the card states no licence"
    subsets = YEARS
    source = HubDataset(hubs=(("modelscope", "evalscope/amc_22-24"), ("huggingface", "AI-MO/aimo-validation-amc")),
                        split="test", aliases=("amc_22-24", "amc23"))

    def subset_of(self, row: dict[str, Any]) -> str | None:
        # The hub copy keeps a split per year; its rows name the year, which is what selects a subset here.
        year = str(row.get("year") or "").strip()
        return f"amc{year[-2:]}" if len(year) == 4 and f"amc{year[-2:]}" in YEARS else None

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(id=str(row.get("id", index)), target=numeric_answer(row["answer"]), subset=subset,
                      metadata={"question": row["problem"], "url": row.get("url"), "year": row.get("year")})
