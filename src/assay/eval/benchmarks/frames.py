"""FRAMES: 824 multi-hop questions whose answers need facts from 2 to 15 Wikipedia articles, with numerical,
tabular, temporal, multiple-constraint and post-processing reasoning.

Krishna, Krishna, Mohananey, Schwarcz, Stambler, Upadhyay, Faruqui, "Fact, Fetch, and Reason: A Unified
Evaluation of Retrieval-Augmented Generation", 2024 (arXiv:2409.12941). HF ``google/frames-benchmark`` (one file,
``test.tsv``), split ``test``; fields ``Prompt``, ``Answer``, ``reasoning_types`` (labels joined by " | "),
``wiki_links`` (the articles, a list literal) and ``wikipedia_link_1`` ... Apache-2.0. EvalScope's ``frames``
reads a ModelScope copy with the articles' text (``iic/frames``) and asks with it in the prompt; assay
implements the paper's *naive* setting instead: the question alone, no retrieval and no articles (the
setting the paper reports first, a model's closed-book knowledge and reasoning).

Grading, as the paper: an LLM judge decides whether the answer means the same as the gold answer
(``judge_strategy: llm`` with ``judge_model_args``; assay's judge prompt, see ``assay.eval.scoring.judge``).
Without a judge (``judge_strategy`` auto or rule) the fallback rule grades ``acc``: after normalisation
(lowercase, punctuation and articles removed, whitespace collapsed) the reply's final answer equals the gold, or
the gold appears in the reply as whole words. The rule is a rough floor (it misses paraphrases and credits a
reply that names the gold among other candidates); use the judge for reported numbers. ``acc`` is also reported
per reasoning type (``acc_numerical_reasoning``...; a question counts in each of its types).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import JudgedBenchmark
from assay.eval.benchmarks.general import normalise_answer
from assay.eval.config import TaskConfig
from assay.types import Message, Sample, SampleResult, Score
from assay.types.report import BenchmarkReport

_FINAL = re.compile(r"(?:final answer|the answer is|answer)\s*(?:is)?\s*[:：]\s*([^\n]+)", re.IGNORECASE)


def reasoning_types(value: Any) -> list[str]:
    """The row's reasoning labels: "Numerical reasoning | Multiple constraints" → both (a list is kept)."""
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value or "").split("|") if part.strip()]


def wiki_links(value: Any) -> list[str]:
    """The article URLs: the hub writes a Python list literal in a TSV cell."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    try:
        parsed = ast.literal_eval(str(value))
    except (ValueError, SyntaxError):
        return [part for part in re.split(r"[\s,]+", str(value or "")) if part.startswith("http")]
    return [str(v) for v in parsed] if isinstance(parsed, (list, tuple)) else []


def final_answer(reply: str) -> str:
    """The reply after any reasoning block, narrowed to the last "answer: ..." line where it writes one."""
    reply = reply.split("</think>")[-1].replace("**", "").strip()
    found = _FINAL.findall(reply)
    return found[-1].strip() if found else reply


def rule_correct(reply: str, gold: str) -> tuple[bool, str]:
    """The fallback rule: (correct, the final answer it read)."""
    answer = final_answer(reply)
    target = normalise_answer(gold)
    if not target:
        return False, answer
    if normalise_answer(answer) == target:
        return True, answer
    return f" {target} " in f" {normalise_answer(reply.split('</think>')[-1])} ", answer


def type_metric(label: str) -> str:
    """The metric name of a reasoning type: "Numerical reasoning" → ``acc_numerical_reasoning``."""
    return "acc_" + "_".join(normalise_answer(label).split())


@register_benchmark("frames", task_type="qa", tags=("en", "knowledge", "reasoning", "multi-hop"))
class FRAMES(JudgedBenchmark):
    """FRAMES (Krishna et al., 2024), naive setting: the question alone, graded by an LLM judge (else a rule)."""

    version = "1"
    source = HubDataset(hubs=(("huggingface", "google/frames-benchmark"),), split="test",
                        aliases=("frames_benchmark", "frames-benchmark"))
    licence = "Apache-2.0"
    metrics = ("acc",)
    main_metric = "acc"
    protocol_note = ("naive setting (the question alone, no retrieval); acc: normalised exact or whole-word "
                     "contained match of the gold answer unless an LLM judge grades")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        row_id = row.get("Unnamed: 0")
        return Sample(
            id=str(index if row_id in (None, "") else row_id), target=str(row["Answer"]).strip(), subset=subset,
            metadata={"question": str(row["Prompt"]).strip(),
                      "reasoning_types": reasoning_types(row.get("reasoning_types")),
                      "wiki_links": wiki_links(row.get("wiki_links"))})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(sample.metadata["question"])]

    def score(self, sample: Sample, answer: str) -> Score:
        correct, extracted = rule_correct(answer, str(sample.target))
        return Score(values={"acc": float(correct)}, extracted=extracted or None,
                     explanation=None if correct else "gold answer not found in the reply")

    def extra_reports(self, results: list[SampleResult], folder: Path, task: TaskConfig, show: bool,
                      report: BenchmarkReport) -> BenchmarkReport | None:
        """``acc`` per reasoning type, beside the overall one (the types overlap, so these are not subsets)."""
        from assay.eval.report import metric_values, summarise

        labels = sorted({label for r in results for label in r.sample.metadata.get("reasoning_types", [])})
        if not labels or "acc" not in report.metrics:
            return None
        as_zero = report.failed_scored_as == "wrong"
        per_type = {type_metric(label): summarise(metric_values(
            [r for r in results if label in r.sample.metadata.get("reasoning_types", [])], "acc", as_zero))
            for label in labels}
        return report.model_copy(update={"metrics": {**report.metrics, **per_type}})
