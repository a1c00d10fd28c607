"""Math answer equivalence without a symbolic engine, and its typed verdict.

The cheap stages of comparing a predicted answer with its target, in order: normalised strings (folding the
surface differences the MATH and Minerva normalisers list: ``\\dfrac``, ``\\left``, units, ``^\\circ``,
thousands separators, ``x =`` prefixes...), then numbers (exact rationals, a relative tolerance for
decimals, percentages), then tuples, intervals and sets of those. When they cannot tell,
:func:`decide_without_symbolic` gives no verdict and the symbolic stage (math-verify, in
:mod:`assay.eval.scoring.symbolic`) looks. Both the in-process :func:`~assay.eval.scoring.math.math_equal`
and the process-pool :class:`~assay.eval.scoring.symbolic.MathChecker` start here; this module imports neither.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

__all__ = [
    "Verdict",
    "balanced_group",
    "clean_math_answer",
    "decide_without_symbolic",
    "normalize_math_answer",
    "numbers_equal",
    "parse_number",
]


class Verdict(Enum):
    """The outcome of comparing an answer with its target."""

    EQUAL = "equal"
    NOT_EQUAL = "not equal"
    UNGRADABLE = "ungradable"  # the target cannot be read: counted apart from wrong answers

    @property
    def correct(self) -> bool | None:
        """The verdict as scores report it: True, False, or None for "could not grade"."""
        return {Verdict.EQUAL: True, Verdict.NOT_EQUAL: False, Verdict.UNGRADABLE: None}[self]

    @classmethod
    def of(cls, equal: bool) -> Verdict:
        return cls.EQUAL if equal else cls.NOT_EQUAL


# ----------------------------------------------------------------------------------------- brace groups

def balanced_group(text: str, open_index: int) -> str | None:
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
        inner = balanced_group(text, match.end() - 1)
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
            inner = balanced_group(text, text.index("{"))
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
    while text.startswith("{") and balanced_group(text, 0) == text[1:-1]:
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


def _decide_scalar(pred: str, target: str, rel_tol: float) -> Verdict | None:
    """EQUAL or NOT_EQUAL when the strings or numbers decide; None when they cannot tell."""
    if pred == target:
        return Verdict.EQUAL
    same_number = numbers_equal(pred, target, rel_tol=rel_tol)
    if same_number is not None:
        return Verdict.of(same_number)
    if re.fullmatch(r"[A-Za-z][A-Za-z ]+", pred) and re.fullmatch(r"[A-Za-z][A-Za-z ]+", target):
        return Verdict.of(pred.casefold() == target.casefold())  # word answers ("Devon", "yes")
    return None


def decide_without_symbolic(pred: str, target: str, *, rel_tol: float = 1e-4) -> Verdict | None:
    """The cheap stages of :func:`~assay.eval.scoring.math.math_equal`: a verdict when strings or numbers
    decide (UNGRADABLE for an empty target), or None when only the symbolic stage can tell."""
    norm_target = normalize_math_answer(target)
    if not norm_target:
        return Verdict.UNGRADABLE
    norm_pred = normalize_math_answer(pred)
    if not norm_pred:
        return Verdict.NOT_EQUAL
    scalar = _decide_scalar(norm_pred, norm_target, rel_tol)
    if scalar is not None:
        return scalar
    pred_items, target_items = _split_top_level(norm_pred), _split_top_level(norm_target)
    if pred_items is None or target_items is None or pred_items[:2] != target_items[:2]:
        return None
    (opener, _, left), (_, _, right) = pred_items, target_items
    unordered = opener in ("", "\\{")  # sets and bare lists of solutions: order does not matter
    if len(left) != len(right):
        return Verdict.NOT_EQUAL if unordered else None
    if unordered:
        if all(_parse_numbers(x) for x in left + right):
            return Verdict.of(Counter(map(_number_key, left)) == Counter(map(_number_key, right)))
        return None
    decisions = [_decide_scalar(x, y, rel_tol) for x, y in zip(left, right)]
    if Verdict.NOT_EQUAL in decisions:
        return Verdict.NOT_EQUAL
    return Verdict.EQUAL if all(d is Verdict.EQUAL for d in decisions) else None


def _number_key(text: str) -> Fraction:
    parsed = _parse_numbers(text)
    assert parsed is not None
    return parsed[0].value
