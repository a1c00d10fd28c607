"""Humanity's Last Exam (HLE): 2,500 expert-written questions in over a hundred subjects, at the frontier of
human knowledge; the text-only questions here.

Phan, Gatti, Han, Li et al. (Center for AI Safety and Scale AI), "Humanity's Last Exam", 2025 (arXiv:2501.14249). HF
``cais/hle`` (gated: accept its terms on the hub and set ``HF_TOKEN``, or pass a local copy with
``dataset_args.hle.dataset_id``; a gated answer is one line naming the page), EvalScope's id ``cais/hle`` on
ModelScope; split ``test``; fields ``id``, ``question``, ``image`` (a data URI, empty for a text-only question),
``answer``, ``answer_type`` (``exactMatch`` or ``multipleChoice``, whose options are in the question and whose
answer is the letter), ``rationale``, ``raw_subject``, ``category`` (the subsets: Math, Physics, ...) and the
``canary`` string that asks for the data never to be shared (the fixture rows are synthetic look-alikes).
MIT, as the card states.

Protocol (the authors' hle_eval): the system prompt asks for "Explanation: / Exact Answer: / Confidence: N%"
(exact-match questions) or "Explanation: / Answer: / Confidence: N%" (multiple choice), the question as the user
message; a judge model (o3-mini) reads the final answer and the stated confidence from the response and says
whether it matches the answer. Reported: accuracy, and the RMS calibration error of the stated confidence:
answers sorted by confidence, cut into bins of 100 (the remainder joins the last bin), the root of the
bin-size-weighted mean squared gap between each bin's mean confidence and its accuracy.

In assay: ``judge_strategy llm`` (or ``rule_then_llm``) grades with the LLM judge (``judge_model_args``; assay's
judge prompt, not the authors'); without it (``auto``, ``rule``) the rule grades: the last "Exact Answer:" /
"Answer:" line, normalised (case, spaces, markdown, a final full stop), equal to the answer; for multiple choice
the letter that line starts with. The confidence is read from the response's last "Confidence: N%" line by rule
(100 where none is stated, as the authors' judge is told), reported as ``confidence`` (its mean, 0-1) and used
for ``calibration_error`` (0-1; the paper prints it in percent), computed per category and overall from the
graded answers. Where assay differs: the authors' code leaves the last bin out of the sum (100-199 answers give
0 there, fewer fail); assay counts every bin. Their accuracy counts an answer the judge could not grade as wrong;
assay counts it apart (ungraded). Questions with an image are left out (the text-only subset).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from assay.data import DatasetLoader, HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import JudgedBenchmark
from assay.eval.report import DerivedMetrics
from assay.types import Message, Sample, Score
from assay.types.report import MetricScore

CATEGORIES = ("Biology/Medicine", "Chemistry", "Computer Science/AI", "Engineering", "Humanities/Social Science",
              "Math", "Physics", "Other")

# The authors' system prompts (hle_eval/run_model_predictions.py), by answer type.
SYSTEM_EXACT_ANSWER = ("Your response should be in the following format:\nExplanation: {your explanation for your "
                       "final answer}\nExact Answer: {your succinct, final answer}\nConfidence: {your confidence "
                       "score between 0% and 100% for your answer}")
SYSTEM_MULTIPLE_CHOICE = ("Your response should be in the following format:\nExplanation: {your explanation for "
                          "your answer choice}\nAnswer: {your chosen answer}\nConfidence: {your confidence score "
                          "between 0% and 100% for your answer}")

CALIBRATION_BIN = 100  # answers per bin, as the authors' calib_err (beta=100)

_MARKUP = "*_`"
_ANSWER_LINE = re.compile(r"^[\s*_#>-]*(?:final[\s*_]+)?(?:exact[\s*_]+)?answer[\s*_]*[:：](.*)$",
                          re.IGNORECASE | re.MULTILINE)
_CONFIDENCE = re.compile(r"confidence[\s*_]*(?:score)?[\s*_]*[:：]?[\s*_]*(\d+(?:\.\d+)?)\s*%?", re.IGNORECASE)
_LETTER = re.compile(r"^[(\[]?([A-Z])(?:[)\].:,]|\s|$)")


def answer_line(response: str) -> str | None:
    """The text of the response's last "Exact Answer:" or "Answer:" line (markdown around it stripped), or None."""
    found = _ANSWER_LINE.findall(response or "")
    if not found:
        return None
    text = found[-1].strip().strip(_MARKUP).strip()
    return text or None


def normalise(text: str) -> str:
    """Case, spacing, markdown emphasis, surrounding quotes or ``$``, and a final full stop do not count."""
    text = " ".join(str(text).split()).strip()
    for _ in range(3):  # nested wrappers: **"x"**, `$x$`
        text = text.strip(_MARKUP + "\"'“”").strip()
        if len(text) > 1 and text.startswith("$") and text.endswith("$"):
            text = text.strip("$").strip()
        text = text.rstrip(".").strip()
    return text.casefold()


def chosen_letter(text: str) -> str | None:
    """The option letter an answer line starts with: "B", "(B)", "B. text", "**B**", a lone "b"."""
    text = text.strip().strip(_MARKUP).strip()
    match = _LETTER.match(text.upper() if len(text) == 1 else text)
    return match.group(1) if match else None


def stated_confidence(response: str) -> float:
    """The last stated "Confidence: N%" as 0-1 (clamped); 1.0 where none is stated, as the authors' judge is told."""
    found = _CONFIDENCE.findall(response or "")
    if not found:
        return 1.0
    return min(max(float(found[-1]) / 100, 0.0), 1.0)


def grade(response: str, target: str, answer_type: str) -> Score:
    """The rule: the answer line against the target (the letter for multiple choice), and the stated confidence."""
    confidence = stated_confidence(response)
    line = answer_line(response)
    if line is None:
        return Score(values={"acc": 0.0, "confidence": confidence}, extracted=None,
                     explanation="no 'Answer:' line found")
    target = str(target).strip()
    if answer_type == "multipleChoice" and re.fullmatch(r"[A-Za-z]", target):
        letter = chosen_letter(line)
        correct = letter is not None and letter == target.upper()
        return Score(values={"acc": float(correct), "confidence": confidence}, extracted=letter or line,
                     explanation=None if letter else "no option letter on the answer line")
    return Score(values={"acc": float(normalise(line) == normalise(target)), "confidence": confidence},
                 extracted=line)


def calibration_error(confidence: Sequence[float], correct: Sequence[float], bin_size: int = CALIBRATION_BIN) -> float:
    """The paper's RMS calibration error: sorted by confidence, bins of ``bin_size`` (the remainder joins the last
    bin; fewer answers make one bin), sqrt(sum over bins of (bin size / n) * (mean confidence - accuracy)^2)."""
    pairs = sorted(zip(confidence, correct), key=lambda pair: pair[0])
    total = len(pairs)
    if not total:
        return math.nan
    starts = list(range(0, max(total // bin_size, 1) * bin_size, bin_size))
    squared = 0.0
    for number, start in enumerate(starts):
        chunk = pairs[start: total if number == len(starts) - 1 else start + bin_size]
        gap = sum(c for c, _ in chunk) / len(chunk) - sum(a for _, a in chunk) / len(chunk)
        squared += len(chunk) / total * gap * gap
    return math.sqrt(squared)


def calibration_metrics(values: Mapping[str, Sequence[float | None]]) -> dict[str, MetricScore]:
    """``calibration_error`` of one group of samples: those with both a grade and a stated confidence (a failed
    request counted as wrong has no confidence, and is left out as the authors leave out unjudged answers)."""
    pairs = [(c, a) for c, a in zip(values["confidence"], values["acc"]) if c is not None and a is not None]
    if not pairs:
        return {"calibration_error": MetricScore(score=None)}
    return {"calibration_error": MetricScore(score=calibration_error([c for c, _ in pairs], [a for _, a in pairs]),
                                             num=len(pairs))}


@register_benchmark("hle", task_type="qa", tags=("en", "knowledge", "reasoning", "llm_judge"))
class HLE(JudgedBenchmark):
    """Humanity's Last Exam (Phan et al., 2025), text-only expert questions; accuracy and calibration error."""

    version = "1"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "cais/hle"), ("modelscope", "cais/hle")), split="test",
                        subset_column="category")
    subsets = CATEGORIES
    metrics = ("acc", "confidence")
    main_metric = "acc"
    protocol_note = ("the authors' system prompt (Explanation / Exact Answer or Answer / Confidence: N%), the "
                     "question as the user message; rule: the last answer line, normalised, equal to the answer "
                     "(the letter for multiple choice); calibration_error: RMS over confidence-sorted bins of 100")

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        """Only the text-only questions: an empty ``image``."""
        return [row for row in super().subset_rows(loader, root, subset, split) if not row.get("image")]

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(id=str(row.get("id", index)), target=str(row["answer"]).strip(), subset=subset,
                      metadata={"question": row["question"], "answer_type": row["answer_type"],
                                "raw_subject": row.get("raw_subject"), "category": row.get("category")})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        system = SYSTEM_MULTIPLE_CHOICE if sample.metadata["answer_type"] == "multipleChoice" else SYSTEM_EXACT_ANSWER
        return [Message.system(system), Message.user(str(sample.metadata["question"]))]

    def derived_metrics(self) -> DerivedMetrics:
        return DerivedMetrics(names=("calibration_error",), inputs=("acc", "confidence"), compute=calibration_metrics)

    def score(self, sample: Sample, answer: str) -> Score:
        return grade(answer, str(sample.target), str(sample.metadata.get("answer_type")))

