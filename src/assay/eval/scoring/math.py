"""Math answers: extraction, normalisation and equivalence.

Extraction follows the conventions of the MATH benchmark (Hendrycks et al., 2021, "Measuring
Mathematical Problem Solving With the MATH Dataset": the answer is the last ``\\boxed{...}``), the
Minerva prompt format (Lewkowycz et al., 2022: "Final Answer: The final answer is $X$.") and GSM8K
(Cobbe et al., 2021: the answer follows ``####``). Normalisation folds the surface differences those
projects list (``\\dfrac``, ``\\left``, units, ``^\\circ``, thousands separators, ``x =`` prefixes...).

Equivalence is decided in three stages, cheapest first: normalised strings, then numbers (exact
rationals, a relative tolerance for decimals, percentages), then symbolic equivalence with Hugging
Face's ``math-verify`` (see :mod:`assay.eval.scoring.symbolic`). Only the last stage can be slow, so
:class:`~assay.eval.scoring.symbolic.MathJudge` runs it in a process pool with a timeout.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

__all__ = [
    "Extraction",
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


def _balanced_group(text: str, open_index: int) -> str | None:
    """The text inside the brace group opening at ``open_index``; None when it never closes."""
    depth = 0
    for i in range(open_index, len(text)):
        char = text[i]
        if char == "\\":  # an escaped brace (\{ or \}) does not count
            continue
        if char == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif char == "}" and (i == 0 or text[i - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return text[open_index + 1 : i]
    return None


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
            content = _balanced_group(text, rest)
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


# ------------------------------------------------------------------------------------- normalisation

_UNIT_WORDS = (
    "square units|sq units|units|unit|square feet|square inches|square meters|square centimeters|"
    "cubic feet|cubic inches|cubic meters|cubic centimeters|inches|inch|feet|foot|ft|yards|yard|miles|mile|"
    "mph|centimeters|centimetres|centimeter|cm|millimeters|mm|meters|metres|meter|km|kilometers|"
    "kilograms|kg|grams|pounds|ounces|liters|litres|ml|dollars|dollar|cents|cent|degrees|degree|"
    "hours|hour|minutes|minute|seconds|second|days|day|weeks|years|people|students|ways|times|sq"
)
_TRAILING_UNIT = re.compile(
    rf"(?<=[\d}}\s)])\s*(?:\\(?:text|mbox|mathrm)\s*\{{\s*(?:{_UNIT_WORDS})\s*\}}|(?:{_UNIT_WORDS}))"
    r"(?:\^\{?[23]\}?)?\s*$",
    re.IGNORECASE,
)
_TEXT_TRAILER = re.compile(r"(?<=[\d}])\s*\\(?:text|mbox|mathrm)\s*\{\s*[A-Za-z][A-Za-z .]*\}(?:\^\{?[23]\}?)?$")
_TEXT_COMMANDS = re.compile(r"\\(?:text|textbf|textit|textrm|mbox|mathrm|mathbf|mathit|operatorname)\s*\{")
_VARIABLE_PREFIX = re.compile(r"^\s*[A-Za-z](?:_\{?[\w]+\}?)?(?:\([A-Za-z]\))?\s*(?:=|\\in)\s*")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def _unwrap_commands(text: str) -> str:
    """Replace ``\\text{X}`` (and kin) by ``X``, however the braces nest."""
    while True:
        match = _TEXT_COMMANDS.search(text)
        if match is None:
            return text
        inner = _balanced_group(text, match.end() - 1)
        if inner is None:
            return text[: match.start()] + text[match.end() :]
        text = text[: match.start()] + inner + text[match.end() + len(inner) + 1 :]


def _strip_wrappers(text: str) -> str:
    while True:
        before = text
        text = text.strip()
        for opener, closer in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            if text.startswith(opener) and text.endswith(closer) and len(text) >= len(opener) + len(closer):
                text = text[len(opener) : len(text) - len(closer)]
        if re.match(r"^\\(?:boxed|fbox)\s*\{", text):
            inner = _balanced_group(text, text.index("{"))
            if inner is not None and text.rstrip().endswith("}") and len(inner) == len(text) - text.index("{") - 2:
                text = inner
        if text == before:
            return text


def clean_math_answer(answer: str) -> str:
    """Fold LaTeX surface forms while keeping the answer parseable (spaces kept).

    Drops ``$``/``\\(\\)`` wrappers, ``\\left``/``\\right``, spacing commands, ``\\displaystyle``,
    degree marks, trailing units, ``\\text{}`` wrappers, a single ``x =`` / ``x \\in`` prefix, LaTeX
    and comma thousands separators and a trailing full stop; ``\\dfrac``/``\\tfrac`` become ``\\frac``;
    ``\\frac12`` and ``\\sqrt2`` get their braces (facts from the MATH and Minerva normalisers).
    """
    text = _strip_wrappers(answer)
    while text != (stripped := _strip_wrappers(text.rstrip(" .\n"))):
        text = stripped  # "$5$." ends a sentence; the full stop is not part of the answer
    text = text.replace("\\$", "").replace("$", "")
    text = re.sub(r"\\(?:displaystyle|textstyle)\b", "", text)
    text = re.sub(r"\\left\s*\.|\\right\s*\.", "", text)
    text = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])", "", text)
    # spacing commands; "(?<!\\)" keeps the row separator "\\\\" of matrices intact
    text = re.sub(r"(?<!\\)\\[!,;: ]|~", lambda m: "" if m.group(0) == "\\!" else " ", text)
    text = text.replace("{,}", ",")
    text = re.sub(r"\\[dtc]frac", r"\\frac", text)
    text = re.sub(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree", "", text)
    text = text.replace("\\%", "%")
    for _ in range(2):
        text = _TRAILING_UNIT.sub("", text).rstrip()
        text = _TEXT_TRAILER.sub("", text).rstrip()
    text = _unwrap_commands(text)
    if text.count("=") == 1 or ("\\in" in text and "=" not in text):
        text = _VARIABLE_PREFIX.sub("", text, count=1)
    text = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\frac\s*(\d)\s*\{", r"\\frac{\1}{", text)
    text = re.sub(r"\\frac\s*(\{[^{}]*\})\s*(\d)", r"\\frac\1{\2}", text)
    text = re.sub(r"\\sqrt\s*(\d+|[a-zA-Z])", r"\\sqrt{\1}", text)
    text = re.sub(r"\binfinity\b", r"\\infty", text)
    text = text.strip().rstrip(".;,").strip()
    compact = text.replace(" ", "")
    if _THOUSANDS.match(compact):
        text = compact.replace(",", "")
    return text


def normalize_math_answer(answer: str) -> str:
    """A canonical string for comparing answers: :func:`clean_math_answer` without any whitespace,
    redundant outer braces, a leading ``0`` before bare decimals, and ``(A)`` reduced to ``A``."""
    text = clean_math_answer(answer)
    text = re.sub(r"\s+", "", text)
    while text.startswith("{") and _balanced_group(text, 0) == text[1:-1]:
        text = text[1:-1]
    text = re.sub(r"(?<![\d.])\.(\d)", r"0.\1", text)
    letter = re.fullmatch(r"\(([A-Z])\)", text)
    return letter.group(1) if letter else text


# --------------------------------------------------------------------------------------------- numbers

_DECIMAL = r"[+-]?(?:\d+\.?\d*|\.\d+)"
_PLAIN_NUMBER = re.compile(rf"^{_DECIMAL}(?:[eE][+-]?\d+)?$")
_LATEX_FRACTION = re.compile(r"^([+-]?)\\frac\{([+-]?\d+)\}\{([+-]?\d+)\}$")
_SLASH_FRACTION = re.compile(r"^([+-]?\d+)/([+-]?\d+)$")
_SCIENTIFIC = re.compile(rf"^({_DECIMAL})(?:\\times|\\cdot|\*|x)10\^\{{?([+-]?\d+)\}}?$")


@dataclass(frozen=True)
class _Number:
    value: Fraction
    exact: bool  # written as an integer or a fraction, not as a (possibly rounded) decimal


def parse_number(text: str) -> list[Fraction] | None:
    """The numbers a normalised answer can mean (``50%`` means 50 and 0.5), or None if not a number.

    Reads integers (``025``), decimals, scientific notation (``1.5e3``, ``1.5\\times10^{3}``),
    fractions (``3/4``, ``\\frac{3}{4}``) and a trailing percent sign.
    """
    parsed = _parse_numbers(text)
    return None if parsed is None else [number.value for number in parsed]


def _parse_numbers(text: str) -> list[_Number] | None:
    text = normalize_math_answer(text) if isinstance(text, str) else text
    percent = text.endswith("%")
    text = text.rstrip("%")
    number = _parse_one(text)
    if number is None or len(text) > 400:
        return None
    if percent:
        return [number, _Number(number.value / 100, number.exact)]
    return [number]


def _parse_one(text: str) -> _Number | None:
    try:
        if _PLAIN_NUMBER.match(text):
            return _Number(Fraction(text), not re.search(r"[.eE]", text))
        if match := _LATEX_FRACTION.match(text) or _SLASH_FRACTION.match(text):
            groups = match.groups()
            sign, numerator, denominator = ("", *groups) if len(groups) == 2 else groups
            value = Fraction(int(numerator), int(denominator))
            return _Number(-value if sign == "-" else value, True)
        if match := _SCIENTIFIC.match(text):
            return _Number(Fraction(match.group(1)) * Fraction(10) ** int(match.group(2)), False)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return None


def _values_close(a: _Number, b: _Number, rel_tol: float) -> bool:
    if a.value == b.value:
        return True
    if a.exact and b.exact:
        return False  # two exact values (e.g. AIME integers) must match exactly, whatever the tolerance
    return abs(a.value - b.value) <= rel_tol * max(abs(a.value), abs(b.value))


def numbers_equal(a: str, b: str, *, rel_tol: float = 1e-4) -> bool | None:
    """Whether two answers are the same number; None when either is not a plain number.

    Exact values (integers such as ``025`` and ``25``, fractions) compare exactly; when either side is
    a decimal the relative tolerance applies (``0.333`` is not ``1/3``; ``0.33333`` is). A percentage
    matches either its value or its hundredth (``50%`` vs ``0.5``).
    """
    left, right = _parse_numbers(a), _parse_numbers(b)
    if left is None or right is None:
        return None
    return any(_values_close(x, y, rel_tol) for x in left for y in right)


# ------------------------------------------------------------------------------------------ equality

_OPENERS = {"(": ")", "[": "]", "\\{": "\\}", "{": "}"}


def _split_top_level(text: str) -> tuple[str, str, list[str]] | None:
    """Split ``(a,b)``, ``[a,b)``, ``\\{a,b\\}`` or a bare ``a,b`` into (opener, closer, items)."""
    opener = closer = ""
    body = text
    if text.startswith("\\{") and text.endswith("\\}"):
        opener, closer, body = "\\{", "\\}", text[2:-2]
    elif text[:1] in "([" and text[-1:] in ")]":
        opener, closer, body = text[0], text[-1], text[1:-1]
    items, depth, start = [], 0, 0
    for i, char in enumerate(body):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                return None  # "(1)(2)": the outer brackets are not one group
        elif char == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    if depth != 0 or len(items) < 2 or not all(item.strip() for item in items):
        return None
    return opener, closer, [item.strip() for item in items]


_UNDECIDED = object()


def _decide_scalar(pred: str, target: str, rel_tol: float) -> bool | object:
    if pred == target:
        return True
    same_number = numbers_equal(pred, target, rel_tol=rel_tol)
    if same_number is not None:
        return same_number
    if re.fullmatch(r"[A-Za-z][A-Za-z ]+", pred) and re.fullmatch(r"[A-Za-z][A-Za-z ]+", target):
        return pred.casefold() == target.casefold()  # word answers ("Devon", "yes")
    return _UNDECIDED


def decide_without_symbolic(pred: str, target: str, *, rel_tol: float = 1e-4) -> bool | None | object:
    """The cheap stages of :func:`math_equal`: True/False when strings or numbers decide, None when
    the target is empty, else the sentinel ``UNDECIDED`` (the symbolic stage must look)."""
    norm_target = normalize_math_answer(target)
    if not norm_target:
        return None
    norm_pred = normalize_math_answer(pred)
    if not norm_pred:
        return False
    scalar = _decide_scalar(norm_pred, norm_target, rel_tol)
    if scalar is not _UNDECIDED:
        return scalar
    pred_items, target_items = _split_top_level(norm_pred), _split_top_level(norm_target)
    if pred_items is None or target_items is None or pred_items[:2] != target_items[:2]:
        return _UNDECIDED
    (opener, _, left), (_, _, right) = pred_items, target_items
    if len(left) != len(right):
        return False if opener in ("", "\\{") else _UNDECIDED
    if opener in ("", "\\{"):  # sets and bare lists of solutions: order does not matter
        if all(_parse_numbers(x) for x in left + right):
            return Counter(map(_number_key, left)) == Counter(map(_number_key, right))
        return _UNDECIDED
    decisions = [_decide_scalar(x, y, rel_tol) for x, y in zip(left, right)]
    if any(d is False for d in decisions):
        return False
    return True if all(d is True for d in decisions) else _UNDECIDED


UNDECIDED = _UNDECIDED


def _number_key(text: str) -> Fraction:
    parsed = _parse_numbers(text)
    assert parsed is not None
    return parsed[0].value


def math_equal(pred: str, target: str, *, timeout_s: float = 5.0, rel_tol: float = 1e-4) -> bool | None:
    """Whether a predicted math answer equals the target; None when it could not be graded.

    Normalised strings and numbers decide first; otherwise math-verify checks symbolic equivalence
    in this process, under a ``timeout_s`` alarm when called from the main thread. A timeout, a
    parser crash or an unparseable target gives None, never an exception. sympy work stuck in C code
    cannot be interrupted here: grade untrusted outputs at scale, or from async code, with
    :class:`~assay.eval.scoring.symbolic.MathJudge`, which runs this stage in a process pool.
    """
    try:
        decided = decide_without_symbolic(pred, target, rel_tol=rel_tol)
    except Exception:  # noqa: BLE001 - grading must never crash a run
        return None
    if decided is not _UNDECIDED:
        return decided  # type: ignore[return-value]
    from assay.eval.scoring.symbolic import symbolic_equal

    return symbolic_equal(clean_math_answer(pred), clean_math_answer(target), timeout_s=timeout_s)
