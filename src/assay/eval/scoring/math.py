"""Math answers: extraction, and the one call that grades them.

Extraction follows the conventions of the MATH benchmark (Hendrycks et al., 2021, "Measuring
Mathematical Problem Solving With the MATH Dataset": the answer is the last ``\\boxed{...}``), the
Minerva prompt format (Lewkowycz et al., 2022: "Final Answer: The final answer is $X$.") and GSM8K
(Cobbe et al., 2021: the answer follows ``####``).

Equivalence is decided in three stages, cheapest first: normalised strings, then numbers (exact
rationals, a relative tolerance for decimals, percentages), both in :mod:`assay.eval.scoring.equivalence`
(whose names this module re-exports), then symbolic equivalence with Hugging Face's ``math-verify`` (see
:mod:`assay.eval.scoring.symbolic`). Only the last stage can be slow, so
:class:`~assay.eval.scoring.symbolic.MathChecker` runs it in a process pool with a timeout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from assay.eval.scoring.equivalence import (
    Verdict,
    balanced_group,
    clean_math_answer,
    decide_without_symbolic,
    normalize_math_answer,
    numbers_equal,
    parse_number,
)
from assay.eval.scoring.symbolic import symbolic_equal

__all__ = [
    "Extraction",
    "Verdict",
    "clean_math_answer",
    "decide_without_symbolic",
    "extract_boxed",
    "extract_math_answer",
    "math_equal",
    "normalize_math_answer",
    "numbers_equal",
    "parse_number",
]

ExtractionRule = Literal["boxed", "answer_marker", "gsm8k", "last_number"]


@dataclass(frozen=True)
class Extraction:
    """An extracted answer and the rule that found it (reported beside the score)."""

    answer: str
    rule: ExtractionRule


# ----------------------------------------------------------------------------------------- extraction

_BOXED_START = re.compile(r"\\(?:boxed|fbox)\b")



def extract_boxed(text: str) -> str | None:
    """The content of the last complete ``\\boxed{...}`` or ``\\fbox{...}`` (nested braces kept).

    Also reads the brace-less form ``\\boxed 5``. An unclosed group (a truncated output) or an empty
    one is skipped in favour of the previous complete answer.
    """
    for match in reversed(list(_BOXED_START.finditer(text))):
        rest = match.end()
        while rest < len(text) and text[rest] == " ":
            rest += 1
        if rest < len(text) and text[rest] == "{":
            content = balanced_group(text, rest)
        elif rest > match.end():  # "\boxed 5": one token, up to whitespace or a closing "$"
            token = re.match(r"[^\s$]+", text[rest:])
            content = token.group(0) if token else None
        else:
            content = None
        if content is not None and content.strip():
            return content.strip()
    return None


_ANSWER_MARKER = re.compile(
    r"(?:final\s+answer|the\s+answer|answer)\s*(?:is|would\s+be|should\s+be|will\s+be)?\s*(?:[:：=])?\s*"
    r"|答案(?:是|为|應為|应为)?\s*[:：]?\s*",
    re.IGNORECASE,
)
_GSM8K_MARKER = re.compile(r"####\s*([^\n]+)")
_NUMBER_TOKEN = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|-?\.\d+")


def _answer_span(rest: str) -> str:
    """The answer written right after a marker: a ``$...$`` span, else the rest of the sentence."""
    rest = rest.lstrip(" *")  # "**Answer:** 5"
    for opener, closer in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if rest.startswith(opener):
            end = rest.find(closer, len(opener))
            if end > 0:
                return rest[len(opener) : end].strip()
    line = rest.split("\n", 1)[0]
    line = re.split(r"(?<=[^\d\s])\.\s|\.\s+(?=[A-Z])|。", line, maxsplit=1)[0]
    return line.strip().strip("*").strip().rstrip(".").strip()


def extract_math_answer(text: str, *, strict: bool = False) -> Extraction | None:
    """The final answer of a math solution, and which rule found it.

    Rules, first that applies wins: the last ``\\boxed{}``; the last "the answer is ..." / "Final
    Answer: ..."; GSM8K's ``#### N``; and, unless ``strict``, the last number in the text.
    """
    boxed = extract_boxed(text)
    if boxed is not None:
        return Extraction(boxed, "boxed")
    for match in reversed(list(_ANSWER_MARKER.finditer(text))):
        span = _answer_span(text[match.end() :])
        if span:
            return Extraction(span, "answer_marker")
    gsm8k = list(_GSM8K_MARKER.finditer(text))
    if gsm8k:
        answer = gsm8k[-1].group(1).strip().rstrip(".")
        if answer:
            return Extraction(answer, "gsm8k")
    if strict:
        return None
    numbers = _NUMBER_TOKEN.findall(text)
    if numbers:
        return Extraction(numbers[-1].replace(",", ""), "last_number")
    return None


# ------------------------------------------------------------------------------------------ equality


def math_equal(pred: str, target: str, *, timeout_s: float = 5.0, rel_tol: float = 1e-4) -> bool | None:
    """Whether a predicted math answer equals the target; None when it could not be graded.

    Normalised strings and numbers decide first; otherwise math-verify checks symbolic equivalence
    in this process, under a ``timeout_s`` alarm when called from the main thread. A timeout, a
    parser crash or an unparseable target gives None, never an exception. sympy work stuck in C code
    cannot be interrupted here: grade untrusted outputs at scale, or from async code, with
    :class:`~assay.eval.scoring.symbolic.MathChecker`, which runs this stage in a process pool.
    """
    try:
        verdict = decide_without_symbolic(pred, target, rel_tol=rel_tol)
    except Exception:  # noqa: BLE001 - grading must never crash a run
        return None
    if verdict is not None:
        return verdict.correct
    return symbolic_equal(clean_math_answer(pred), clean_math_answer(target), timeout_s=timeout_s)
