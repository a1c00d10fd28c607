"""Short-form factuality grading (SimpleQA, Chinese SimpleQA): a judge gives each answer one of three grades.

``A`` CORRECT (the answer holds the gold answer's key facts and contradicts none), ``B`` INCORRECT (a
statement contradicts the gold answer, hedged or not), ``C`` NOT_ATTEMPTED (the key facts are missing and
nothing contradicts them: "I don't know", a refusal, a question back). A reply in which no grade can be read
is a judge error: the sample is left ungraded (counted apart), never made a wrong or an abstained answer (the
published graders fall back to NOT_ATTEMPTED there, which hides a broken judge in the abstention rate).

The metrics (Wei et al. 2024, section 2.2; He et al. 2024 use the same): ``is_correct``, ``is_incorrect`` and
``is_not_attempted`` are per-sample 0/1 and reported as means; ``correct_given_attempted`` = correct / (correct
+ incorrect); ``f_score`` is the harmonic mean of ``is_correct`` and ``correct_given_attempted``. Both ratios are
computed from the sums over a group of samples, never averaged per sample. With C correct, I incorrect out of N
graded samples (A = C + I attempted), the harmonic mean simplifies to 2C / (N + A), so each ratio is a ratio of
two per-sample sums and gets the ratio estimator's standard error (``weighted_mean_stderr``).
"""

from __future__ import annotations

import re
from typing import Literal, Mapping, Sequence

from assay.eval.scoring.stats import weighted_mean_stderr
from assay.types.report import MetricScore

Grade = Literal["A", "B", "C"]

GRADE_METRICS: dict[str, str] = {"A": "is_correct", "B": "is_incorrect", "C": "is_not_attempted"}
SAMPLE_METRICS = tuple(GRADE_METRICS.values())
RATIO_METRICS = ("correct_given_attempted", "f_score")
GRADE_NAMES: dict[str, str] = {"A": "CORRECT", "B": "INCORRECT", "C": "NOT_ATTEMPTED"}

# The grade names as the judge prompts spell them, English and Chinese; NOT_ATTEMPTED before the rest so that
# "NOT ATTEMPTED" is not read as something else, INCORRECT and NOT CORRECT before CORRECT for the same reason.
_LABELS: tuple[tuple[str, Grade], ...] = (
    (r"NOT[_\s-]?ATTEMPTED", "C"), (r"INCORRECT", "B"), (r"NOT\s+CORRECT", "B"), (r"CORRECT", "A"),
    (r"【?未尝试】?", "C"), (r"【错误】", "B"), (r"【正确】", "A"),
)
_LABEL = re.compile("|".join(f"(?P<g{i}>{pattern})" for i, (pattern, _) in enumerate(_LABELS)))
# Markup a judge wraps a bare grade in: **B**, "B", (B), [B], `B`, B., B:, 答案：B ...
_WRAP = r"[\s*_`\"'“”‘’.\[\]()（）【】:：,，。!]*"
_BARE = re.compile(rf"{_WRAP}([ABC]){_WRAP}(?:(?:NOT[_\s-]?ATTEMPTED|INCORRECT|CORRECT|正确|错误|未尝试){_WRAP})?")
# An explicit statement of the grade: "Grade: B", "the verdict is C", "评定为：A", "Answer: B", "答案：C". The letter
# is a capital standing alone ("C. S. Lewis" in a judge's reasoning is no grade).
_STATED = re.compile(
    r"(?:(?:grade|grading|verdict|rating|评定|评级|评分|结果)(?:\s*(?:is|would be|should be|为|是))?"
    r"|(?:answer|choice|option|答案|选项)\s*[:：])"
    r"[\s*_`\"'“”:：=\-]*[(\[（【]?(?-i:([ABC]))(?![A-Za-z])(?!\.\s?[A-Z]\.)",
    re.IGNORECASE)


def parse_grade(reply: str | None) -> Grade | None:
    """The grade (A/B/C) a judge's reply gives; None when it gives no readable grade (a judge error).

    Read in order of how plainly the grade is stated: a last line that is nothing but a grade (``B``,
    ``**A**``, ``C: NOT_ATTEMPTED``, ``A:【正确】``); else the last explicit statement ("Grade: B", "评定为A");
    else the grade names themselves (CORRECT / INCORRECT / NOT_ATTEMPTED in capitals, 【正确】/【错误】/【未尝试】),
    if the reply names exactly one. A reply naming several different grades only in passing has none.
    Reasoning before ``</think>`` is ignored.
    """
    if not reply:
        return None
    text = reply.split("</think>")[-1].strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    bare = _BARE.fullmatch(lines[-1])
    if bare:
        return bare.group(1)  # type: ignore[return-value]
    only_label = _LABEL.fullmatch(lines[-1].strip(" *_`\"'.。!"))
    if only_label:
        return _grade_of(only_label)
    stated = _STATED.findall(text)
    if stated:
        return stated[-1]  # type: ignore[no-any-return]
    named = {_grade_of(m) for m in _LABEL.finditer(text) if _is_label(text, m)}
    return named.pop() if len(named) == 1 else None


def _grade_of(match: re.Match[str]) -> Grade:
    index = next(i for i, value in enumerate(match.groups()) if value is not None)
    return _LABELS[index][1]


def _is_label(text: str, match: re.Match[str]) -> bool:
    """An English grade name counts only as a whole capitalised word ("CORRECT", not "INCORRECTLY")."""
    if not match.group(0)[:1].isascii():
        return True
    before = text[match.start() - 1] if match.start() else " "
    after = text[match.end()] if match.end() < len(text) else " "
    return not (before.isalnum() or before == "_" or after.isalnum() or after == "_")


def grade_values(grade: Grade | None) -> dict[str, float | None]:
    """The per-sample metrics of a grade: one of the three is 1, the others 0; all None when ungraded."""
    if grade is None:
        return {metric: None for metric in SAMPLE_METRICS}
    return {metric: float(letter == grade) for letter, metric in GRADE_METRICS.items()}


def ratio_metrics(values: Mapping[str, Sequence[float | None]]) -> dict[str, MetricScore]:
    """``correct_given_attempted`` and ``f_score`` of one group of samples from their per-sample ``is_correct``
    and ``is_incorrect`` (means over repeats are fine: the sums are still of correct and incorrect answers).

    correct_given_attempted = sum(correct) / sum(correct + incorrect); f_score = 2 sum(correct) / sum(1 +
    correct + incorrect), the harmonic mean of is_correct and correct_given_attempted. Ungraded samples (None)
    are left out of both and counted apart.
    """
    correct = values["is_correct"]
    incorrect = values["is_incorrect"]
    graded = [(c, i) for c, i in zip(correct, incorrect, strict=True) if c is not None and i is not None]
    ungraded = len(correct) - len(graded)
    attempted = [c + i for c, i in graded]
    given = weighted_mean_stderr([c / a if a else 0.0 for (c, _), a in zip(graded, attempted)], attempted)
    f_score = weighted_mean_stderr([2 * c / (1 + a) for (c, _), a in zip(graded, attempted)],
                                   [1 + a for a in attempted])
    return {"correct_given_attempted": _metric(given.mean, given.stderr, sum(1 for a in attempted if a), ungraded),
            "f_score": _metric(f_score.mean, f_score.stderr, len(graded), ungraded)}


def _metric(mean: float | None, stderr: float | None, num: int, ungraded: int) -> MetricScore:
    if mean is None:
        return MetricScore(score=None, num=0, ungraded=ungraded)
    ci95 = (mean - 1.96 * stderr, mean + 1.96 * stderr) if stderr is not None else None
    return MetricScore(score=mean, stderr=stderr, ci95=ci95, num=num, ungraded=ungraded)


def describe(grade: Grade | None) -> str:
    """The explanation kept with a score."""
    if grade is None:
        return "judge gave no readable grade (A/B/C); not graded"
    return f"judge: {grade} ({GRADE_NAMES[grade]})"
