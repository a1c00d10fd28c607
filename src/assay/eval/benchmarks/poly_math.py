"""PolyMath: 125 math problems at each of four difficulty levels, in 18 parallel languages (9,000 in all).

Wang, Zhang, Tang, Wei, Yang, Wang, Sun, Sun, Zhang, Wu, Cang, Zhang, Huang, Lin, Huang, Zhou, "PolyMath: Evaluating
Mathematical Reasoning in Multilingual Contexts", 2025 (arXiv:2504.18428). HF ``Qwen/PolyMath``, ModelScope
``evalscope/PolyMath``: a config per language (en zh ar bn de es fr id it ja ko ms pt ru sw te th vi), a split per
level (``low``, ``medium``, ``high``, ``top``: K-12 up to frontier problems) as ``<lang>/<level>.parquet``; fields
``id`` (``top-en-1``), ``question``, ``answer``. Apache-2.0 as the authors' repository states (QwenLM/PolyMath; the
HF card names none). EvalScope's name ``poly_math`` is kept (``polymath`` names a local copy's folder too).

Protocol (the authors'): the question, then a note in its language to put the final answer in ``$\\boxed{}$``;
0-shot; the boxed answer against ``answer`` by the math checker (the authors use their own symbolic checker; the
LLM judge is available through ``judge_strategy``). The published score is the difficulty-weighted accuracy,
DW-ACC = (1·acc_low + 2·acc_medium + 4·acc_high + 8·acc_top) / 15 per language, and its mean over languages
overall; it is the main metric here, computed at report level from the per-level accuracies (``acc_<level>``,
reported per language and overall beside the plain ``acc``). ``extra_params.levels`` runs fewer levels: DW-ACC is
then over those levels, the weights renormalised, and is no longer the published number; so it is when a level
has no graded answer in a language (a ``--limit`` under 4: rows are interleaved by level, so a limit takes each
level in turn).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from assay.data import DatasetLoader, HubDataset
from assay.eval.benchmarks.base import BenchmarkParams, register_benchmark
from assay.eval.benchmarks.common import MathBenchmark
from assay.eval.config import TaskConfig
from assay.types import Message, Sample, SampleResult, Score
from assay.types.report import BenchmarkReport, MetricScore

Level = Literal["low", "medium", "high", "top"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high", "top")
WEIGHTS: dict[str, int] = {"low": 1, "medium": 2, "high": 4, "top": 8}

# The note the authors append to each question (their instruction.py), per language.
INSTRUCTIONS: dict[str, str] = {
    "en": "Note: Please put the final answer in the $\\boxed{}$.",
    "zh": "注意：请将最终答案放在 $\\boxed{}$ 中。",
    "ar": "ملاحظة: يُرجى وضع الإجابة النهائية في $\\boxed{}$.",
    "bn": "বিঃদ্রঃ: অনুগ্রহ করে চূড়ান্ত উত্তরটি $\\boxed{}$ এর মধ্যে রাখুন।",
    "de": "Hinweis: Bitte setzen Sie die endgültige Antwort in $\\boxed{}$.",
    "es": "Nota: Por favor, coloque la respuesta final en el $\\boxed{}$.",
    "fr": "Remarque : Veuillez mettre la réponse finale dans le $\\boxed{}$.",
    "id": "Catatan: Silakan letakkan jawaban akhir di dalam $\\boxed{}$.",
    "it": "Nota: Per favore, metti la risposta finale nel $\\boxed{}$.",
    "ja": "注意：最終的な答えを $\\boxed{}$ に入れてください。",
    "ko": "참고: 최종 답안을 $\\boxed{}$ 안에 넣어 주세요.",
    "ms": "Nota: Sila letakkan jawapan akhir dalam $\\boxed{}$.",
    "pt": "Nota: Por favor, coloque a resposta final no $\\boxed{}$.",
    "ru": "Примечание: Пожалуйста, поместите окончательный ответ в $\\boxed{}$.",
    "sw": "Kumbuka: Tafadhali weka jibu la mwisho katika $\\boxed{}$.",
    "te": "గమనిక: దయచేసి తుది జవాబును $\\boxed{}$ లో ఉంచండి.",
    "th": "หมายเหตุ: กรุณาใส่คำตอบสุดท้ายใน $\\boxed{}$.",
    "vi": "Lưu ý: Vui lòng đặt câu trả lời cuối cùng trong $\\boxed{}$.",
}


@register_benchmark("poly_math", task_type="math", tags=("multilingual", "math", "reasoning"))
class PolyMath(MathBenchmark):
    """PolyMath (Wang et al., 2025): 18 languages × 4 levels; difficulty-weighted accuracy per language."""

    class Params(BenchmarkParams):
        levels: tuple[Level, ...] = Field(default=LEVELS, min_length=1,
                                          description="difficulty levels to run (splits): low, medium, high, top")

    version = "1"
    licence = "Apache-2.0"
    source = HubDataset(hubs=(("huggingface", "Qwen/PolyMath"), ("modelscope", "evalscope/PolyMath")),
                        split="top", subset_is_config=True, aliases=("polymath",))
    eval_splits = LEVELS  # a split per level: subset_rows reads those asked for, whatever split it is passed
    subsets = tuple(INSTRUCTIONS)
    main_metric = "dw_acc"
    protocol_note = ("the authors' prompt: the question and a note in its language to box the final answer; the "
                     "last boxed answer vs the target by math-verify equivalence; dw_acc = (1·low + 2·medium + "
                     "4·high + 8·top) / 15 per language, mean over languages overall")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.levels = tuple(level for level in LEVELS if level in self.params.levels)  # type: ignore[attr-defined]
        self.metrics = ("dw_acc", "acc", *(f"acc_{level}" for level in self.levels))

    def evaluated_splits(self) -> tuple[str, ...]:
        return self.levels

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        """The language's rows of every level asked for, interleaved (one of each level in turn) so that a
        ``--limit`` takes every level; a copy in one file is split by the level its ids name."""
        by_level = []
        for level in self.levels:
            rows = super().subset_rows(loader, root, subset, level)
            by_level.append([{"level": level, **row} for row in rows if row_level(row) in (None, level)])
        return [row for turn in zip_longest_rows(by_level) for row in turn]

    def subset_of(self, row: dict[str, Any]) -> str | None:
        # The ids name the language ("top-en-1"): a copy with every language in one file still splits by it.
        parts = str(row.get("id", "")).split("-")
        return parts[1] if len(parts) == 3 and parts[1] in INSTRUCTIONS else None

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        language = subset if subset in INSTRUCTIONS else self.subset_of(row) or "en"
        level = row_level(row) or str(row.get("level", ""))
        return Sample(id=str(row.get("id") or f"{level}-{language}-{index}"), target=str(row["answer"]).strip(),
                      subset=subset, metadata={"question": row["question"], "level": level, "language": language})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(f"{sample.metadata['question']}\n{INSTRUCTIONS[sample.metadata['language']]}")]

    def sample_metrics(self, sample: Sample) -> list[str]:
        own = ("acc", f"acc_{sample.metadata.get('level')}")
        return [metric for metric in self.report_metrics() if metric in own]

    def score(self, sample: Sample, answer: str) -> Score:
        return with_level(sample, super().score(sample, answer))

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        # After the LLM judge, if any: the level's accuracy follows its verdict.
        return with_level(sample, await super().ascore(sample, answer, checker))

    def extra_reports(self, results: list[SampleResult], folder: Path, task: TaskConfig, show: bool,
                      report: BenchmarkReport) -> BenchmarkReport | None:
        """The report with ``dw_acc`` per language and overall, from the per-level accuracies."""
        if "dw_acc" not in report.metrics:
            return None
        subsets, per_language = [], []
        for subset in report.subsets:
            weighted = difficulty_weighted(subset.metrics, self.levels)
            if weighted is not None:
                per_language.append(weighted)
                subset = subset.model_copy(update={"metrics": {"dw_acc": weighted, **subset.metrics}})
            subsets.append(subset)
        overall = mean_over_languages(per_language)
        return report.model_copy(update={"metrics": {**report.metrics, "dw_acc": overall}, "subsets": subsets,
                                         "score": overall.score if report.main_metric == "dw_acc" else report.score})


def row_level(row: dict[str, Any]) -> str | None:
    """The level a row's id names (``top-en-1`` → ``top``), or None."""
    level = str(row.get("id", "")).split("-", 1)[0]
    return level if level in WEIGHTS else None


def zip_longest_rows(lists: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The i-th row of each list, for i up to the longest list's length."""
    return [[rows[i] for rows in lists if i < len(rows)] for i in range(max(map(len, lists), default=0))]


def with_level(sample: Sample, score: Score) -> Score:
    """``score`` with ``acc_<level>`` set to its ``acc``, so the report's per-level accuracies need no grouping."""
    level = sample.metadata.get("level")
    if level not in WEIGHTS or "acc" not in score.values:
        return score
    return score.model_copy(update={"values": {**score.values, f"acc_{level}": score.values["acc"]}})


def difficulty_weighted(metrics: dict[str, MetricScore], levels: tuple[str, ...]) -> MetricScore | None:
    """DW-ACC of one language: its level accuracies weighted 1, 2, 4, 8 over the levels with a graded answer
    (the weights renormalised); the standard error combines the levels' as independent samples."""
    present = [(WEIGHTS[level], metrics[f"acc_{level}"]) for level in levels
               if f"acc_{level}" in metrics and metrics[f"acc_{level}"].score is not None]
    if not present:
        return None
    total = sum(weight for weight, _ in present)
    score = sum(weight * stat.score for weight, stat in present) / total  # type: ignore[operator]
    stderr = None if any(stat.stderr is None for _, stat in present) else \
        math.sqrt(sum((weight / total * stat.stderr) ** 2 for weight, stat in present))  # type: ignore[operator]
    return metric_score(score, stderr, sum(stat.num for _, stat in present),
                        sum(stat.ungraded for _, stat in present))


def mean_over_languages(per_language: list[MetricScore]) -> MetricScore:
    """The overall DW-ACC: the unweighted mean of the languages' (the paper's average over languages)."""
    if not per_language:
        return MetricScore(score=None)
    count = len(per_language)
    score = sum(stat.score for stat in per_language) / count  # type: ignore[misc]
    stderr = None if any(stat.stderr is None for stat in per_language) else \
        math.sqrt(sum(stat.stderr ** 2 for stat in per_language)) / count  # type: ignore[operator]
    return metric_score(score, stderr, sum(stat.num for stat in per_language),
                        sum(stat.ungraded for stat in per_language))


def metric_score(score: float, stderr: float | None, num: int, ungraded: int) -> MetricScore:
    ci95 = (score - 1.96 * stderr, score + 1.96 * stderr) if stderr is not None else None
    return MetricScore(score=score, stderr=stderr, ci95=ci95, num=num, ungraded=ungraded)
