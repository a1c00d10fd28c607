"""Math answers: extraction, normalisation, and a golden table of hard equivalence cases."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.eval.scoring.equivalence import Verdict
from assay.eval.scoring.math import (
    Extraction,
    decide_without_symbolic,
    extract_boxed,
    extract_math_answer,
    math_equal,
    normalize_math_answer,
    numbers_equal,
)
from tests.helpers.shared_data import shared_data_dir

SHARED_DATA = shared_data_dir()

# (prediction, target, expected): True = same answer, False = different, None = cannot be graded.
GOLDEN: list[tuple[str, str, bool | None]] = [
    # numbers, fractions, percentages
    ("0.5", "\\frac{1}{2}", True),
    ("\\frac{1}{2}", "0.5", True),
    ("1/2", "\\frac12", True),
    ("\\dfrac{3}{4}", "0.75", True),
    ("\\tfrac{1}{2}", "\\frac{1}{2}", True),
    ("3/4", "75\\%", True),
    ("75%", "0.75", True),
    ("50\\%", "50", True),
    ("5\\%", "0.05", True),
    ("-\\frac{3}{4}", "\\frac{-3}{4}", True),
    ("\\frac{-3}{4}", "-0.75", True),
    ("\\frac{4}{8}", "\\frac{1}{2}", True),
    ("1/3", "\\frac{1}{3}", True),
    ("0.33333", "\\frac{1}{3}", True),
    (".5", "0.5", True),
    ("0.33", "\\frac{1}{3}", False),
    ("\\frac{3}{4}", "\\frac{4}{3}", False),
    ("\\frac{1}{2}", "\\frac{1}{3}", False),
    ("30", "30.5", False),
    ("-5", "5", False),
    ("0", "1", False),
    # integers in every dress (AIME "025", floats "70.0", separators)
    ("025", "25", True),
    ("25", "025", True),
    ("70.0", "70", True),
    ("70", "70.0", True),
    ("1,234", "1234", True),
    ("10,\\!000", "10000", True),
    ("1{,}000{,}000", "1000000", True),
    ("1000000", "10^6", True),
    ("5.", "5", True),
    ("{5}", "5", True),
    ("$7$", "7", True),
    ("\\boxed{7}", "7", True),
    ("24", "25", False),
    ("100001", "100000", False),  # exact integers never ride the decimal tolerance
    # units, currency, degrees
    ("\\$18.00", "18", True),
    ("18 dollars", "18", True),
    ("5\\text{ cm}", "5", True),
    ("12 \\text{inches}", "12", True),
    ("100\\text{ square units}", "100", True),
    ("4\\text{ cm}^2", "4", True),
    ("144 \\mbox{ m}^3", "144", True),
    ("\\frac{1}{2} \\text{ hours}", "\\frac12", True),
    ("30^\\circ", "30", True),
    ("30^{\\circ}", "30", True),
    ("90 degrees", "90", True),
    # scientific notation
    ("1.5e3", "1500", True),
    ("1.5 \\times 10^{3}", "1500", True),
    ("3.0 \\times 10^8", "300000000", True),
    ("1.5e3", "150", False),
    # equations and prefixes
    ("x = 5", "5", True),
    ("k = \\frac{1}{4}", "\\frac{1}{4}", True),
    ("y = 2x+1", "2x+1", True),
    ("2x + 1", "y=2x+1", True),
    ("2x+1", "2x-1", False),
    ("x \\in [1, 2]", "[1,2]", True),
    # tuples, intervals, sets, lists
    ("(1,2)", "\\left( 1, 2 \\right)", True),
    ("(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", True),
    ("\\left(\\frac{1}{2}, -3\\right)", "(0.5, -3)", True),
    ("(1,2)", "(2,1)", False),
    ("[0, \\infty)", "[0,\\infty)", True),
    ("(-\\infty, 3]", "(-\\infty,3]", True),
    ("\\left[ -2, 3 \\right]", "[-2,3]", True),
    ("(0, 1]", "(0, 1)", False),
    ("[1,2]", "(1,2)", False),
    ("\\{1,2\\}", "\\{2,1\\}", True),
    ("\\{1,2\\}", "\\{1,3\\}", False),
    ("1, 2, 3", "3, 2, 1", True),
    ("1, 2", "1, 2, 3", False),
    # matrices
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", True),
    ("\\begin{pmatrix} 1/2 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}\\frac{1}{2}\\\\2\\end{pmatrix}", True),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}", False),
    # radicals, pi, expressions
    ("2\\sqrt{2}", "\\sqrt{8}", True),
    ("\\sqrt2", "\\sqrt{2}", True),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", True),
    ("\\frac{1}{\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}", True),
    ("\\dfrac{\\sqrt{5}}{5}", "\\frac{1}{\\sqrt{5}}", True),
    ("\\sqrt{3}/3", "\\frac{\\sqrt3}{3}", True),
    ("1 + \\sqrt{2}", "\\sqrt{2} + 1", True),
    ("2\\sqrt{3}", "\\sqrt{8}", False),
    ("5\\sqrt{2}", "\\sqrt{10}", False),
    ("2\\pi", "2 \\pi", True),
    ("\\pi/2", "\\frac{\\pi}{2}", True),
    ("6.283185", "2\\pi", True),  # a decimal that agrees to math-verify's 6 places
    ("\\pi", "3.14", False),
    ("(x+1)^2", "x^2+2x+1", True),
    ("x^2 - 1", "(x-1)(x+1)", True),
    ("x^2+1", "(x+1)^2", False),
    ("2 - i", "-i + 2", True),
    ("\\infty", "-\\infty", False),
    # words and letters
    ("\\text{(C)}", "C", True),
    ("\\text{Evelyn}", "Evelyn", True),
    ("evelyn", "\\text{Evelyn}", True),
    ("yes", "no", False),
    ("I don't know", "5", False),
    # nothing to compare
    ("", "5", False),
    ("1+" * 2000 + "1", "5", False),  # no plausible final answer is this long
    ("5", "", None),
    ("5", "   ", None),
    ("5", "x" * 2000 + "+1", None),
]


def test_golden_table_is_large_enough() -> None:
    assert len(GOLDEN) >= 80


@pytest.mark.parametrize(("pred", "target", "expected"), GOLDEN)
def test_math_equal_golden(pred: str, target: str, expected: bool | None) -> None:
    assert math_equal(pred, target) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
        ("\\boxed{\\left\\{ 1, \\frac{2}{3} \\right\\}}", "\\left\\{ 1, \\frac{2}{3} \\right\\}"),
        ("first \\boxed{3} then \\boxed{4}", "4"),
        ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
        ("\\fbox{12}", "12"),
        ("the answer is $\\boxed 5$.", "5"),
        ("\\boxed{7} and then a truncated \\boxed{\\frac{1}{", "7"),
        ("empty \\boxed{} at the end, earlier \\boxed{2}", None),
        ("no box here", None),
        ("\\boxed{\\text{(B)}}", "\\text{(B)}"),
    ],
)
def test_extract_boxed(text: str, expected: str | None) -> None:
    if expected is None and "earlier" in text:
        assert extract_boxed(text) == "2"
    else:
        assert extract_boxed(text) == expected


@pytest.mark.parametrize(
    ("text", "lenient", "strict"),
    [
        ("We get $x=3$, so \\boxed{3}. The answer is 4.", Extraction("3", "boxed"), Extraction("3", "boxed")),
        (
            "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.",
            Extraction("\\frac{1}{2}", "answer_marker"),
            Extraction("\\frac{1}{2}", "answer_marker"),
        ),
        ("The answer is 18 dollars.", Extraction("18 dollars", "answer_marker"), None),
        ("**Final answer:** 3.5", Extraction("3.5", "answer_marker"), None),
        ("Natalia sold 48/2 = 24 clips in May.\n#### 1,234", Extraction("1,234", "gsm8k"), None),
        ("She has 3 + 4 = 7 apples, then 7 * 2 = 14.", Extraction("14", "last_number"), None),
        ("Total: 1,250 people", Extraction("1250", "last_number"), None),
        ("答案是 $42$", Extraction("42", "answer_marker"), None),
        ("I cannot solve this.", None, None),
    ],
)
def test_extract_math_answer(text: str, lenient: Extraction | None, strict: Extraction | None) -> None:
    assert extract_math_answer(text) == lenient
    got_strict = extract_math_answer(text, strict=True)
    assert got_strict == (strict if strict is not None else (lenient if lenient and lenient.rule != "last_number" else None))


def test_extracted_answers_grade() -> None:
    extraction = extract_math_answer("Natalia sold 48/2 = 24 clips in May.\n#### 1,234")
    assert extraction is not None and math_equal(extraction.answer, "1234")
    extraction = extract_math_answer("The answer is 18 dollars.")
    assert extraction is not None and math_equal(extraction.answer, "18")


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("$\\dfrac{3}{4}$", "\\frac{3}{4}"),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
        ("x = 5.", "5"),
        ("10,\\!000", "10000"),
        ("\\text{(C)}", "C"),
        ("5\\text{ cm}^2", "5"),
        ("\\frac12", "\\frac{1}{2}"),
        ("\\sqrt2", "\\sqrt{2}"),
    ],
)
def test_normalize(raw: str, normal: str) -> None:
    assert normalize_math_answer(raw) == normal


def test_numbers_equal() -> None:
    assert numbers_equal("025", "25") is True
    assert numbers_equal("0.75", "3/4") is True
    assert numbers_equal("100001", "100000") is False
    assert numbers_equal("x", "1") is None


def test_fast_path_decides_numbers_without_sympy() -> None:
    assert decide_without_symbolic("1,234", "1234") is Verdict.EQUAL
    assert decide_without_symbolic("(1, 2)", "(1, 3)") is Verdict.NOT_EQUAL
    assert decide_without_symbolic("\\{3, 1\\}", "\\{1, 3\\}") is Verdict.EQUAL


# ------------------------------------------------------------------------------------------ properties

_integers = st.integers(min_value=-10**12, max_value=10**12)


@settings(max_examples=200, deadline=None)
@given(_integers)
def test_integer_formats_are_equal(n: int) -> None:
    variants = [str(n), f"{n:,}", f"{n}.0", f"${n}$", f"\\boxed{{{n}}}", f"{n}."]
    if n >= 0:
        variants.append(f"00{n}")
    for variant in variants:
        assert math_equal(variant, str(n)) is True, variant
        assert math_equal(str(n), variant) is True, variant
    assert math_equal(str(n + 1), str(n)) is False


@settings(max_examples=200, deadline=None)
@given(st.integers(-1000, 1000), st.integers(1, 1000))
def test_fractions_equal_themselves_and_their_decimals(p: int, q: int) -> None:
    latex = f"\\frac{{{p}}}{{{q}}}" if p >= 0 else f"-\\frac{{{-p}}}{{{q}}}"
    assert math_equal(latex, latex) is True
    assert math_equal(f"{p}/{q}", latex) is True
    assert math_equal(repr(p / q), latex) is True
    assert math_equal(latex, str(Fraction(p, q) + 1)) is False


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_floats_equal_themselves(x: float) -> None:
    assert math_equal(repr(x), repr(x)) is True


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_fast_path_never_raises(pred: str, target: str) -> None:
    decide_without_symbolic(pred, target)
    normalize_math_answer(pred)
    extract_math_answer(pred)
    extract_boxed(pred)


_latexish = st.text(alphabet="0123456789x+-*/^(){}[],.=\\fracsqrtpi ", max_size=30)


@settings(max_examples=40, deadline=None)
@given(_latexish, _latexish)
def test_math_equal_never_raises(pred: str, target: str) -> None:
    assert math_equal(pred, target, timeout_s=2) in (True, False, None)


# ------------------------------------------------------------------------------------ real MATH data


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.mark.parametrize("name", ["math/test.jsonl", "math500/test.jsonl"])
def test_boxed_solution_agrees_with_answer(name: str) -> None:
    """extract_boxed(solution) graded against the dataset's own ``answer`` on a 500-row sample."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} not present (the shared benchmark data lives outside the repo)")
    rows = _rows(path)
    if "answer" not in rows[0]:
        pytest.skip(f"{name} has no `answer` field to compare with")
    sample = random.Random(0).sample(rows, min(500, len(rows)))
    agreed = [math_equal(extract_boxed(row["solution"]) or "", row["answer"]) is True for row in sample]
    assert sum(agreed) / len(agreed) >= 0.99


def test_restyled_math_answers_still_match() -> None:
    """Every boxed answer of the 5,000 MATH solutions, restyled the way models write them
    ($...$., \\dfrac, \\left( \\right)), still equals itself; distinct answers rarely collide."""
    path = SHARED_DATA / "math" / "test.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not present (the shared benchmark data lives outside the repo)")
    answers = [answer for row in _rows(path) if (answer := extract_boxed(row["solution"]))]
    assert len(answers) >= 4950
    restyled = [
        (f"${a.replace(chr(92) + 'frac', chr(92) + 'dfrac')}$.", a) for a in answers
    ]
    misses = [pair for pair in restyled if math_equal(*pair) is not True]
    assert len(misses) / len(answers) <= 0.01, misses[:10]


def test_distinct_math_answers_rarely_collide() -> None:
    """Neighbouring answers of a shuffled MATH sample: only answers that really are the same value
    may compare equal (a false-positive check on the symbolic stage)."""
    path = SHARED_DATA / "math" / "test.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not present (the shared benchmark data lives outside the repo)")
    answers = [answer for row in _rows(path) if (answer := extract_boxed(row["solution"]))]
    sample = random.Random(0).sample(answers, 200)
    equal = [(a, b) for a, b in zip(sample, sample[1:]) if math_equal(a, b, timeout_s=3) is not False]
    assert all(normalize_math_answer(a) == normalize_math_answer(b) for a, b in equal), equal
