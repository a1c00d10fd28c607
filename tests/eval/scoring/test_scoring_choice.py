"""Multiple-choice extraction: a labelled table of real-looking model outputs, and properties."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.eval.scoring.choice import extract_choice, extract_choice_by_text

ABCD = "ABCD"
PRO = "ABCDEFGHIJ"  # MMLU-Pro

# (model output, valid letters, expected strict, expected lenient)
CASES: list[tuple[str, str, str | None, str | None]] = [
    # --- explicit English markers
    ("The answer is (B)", ABCD, "B", "B"),
    ("The answer is (B).", ABCD, "B", "B"),
    ("the answer is B", ABCD, "B", "B"),
    ("answer: B", ABCD, "B", "B"),
    ("Answer: B", ABCD, "B", "B"),
    ("ANSWER: C", ABCD, "C", "C"),
    ("Answer:B", ABCD, "B", "B"),
    ("**Answer:** B", ABCD, "B", "B"),
    ("**Answer: B**", ABCD, "B", "B"),
    ("Answer: **C**", ABCD, "C", "C"),
    ("**Answer**: (D)", ABCD, "D", "D"),
    ("Final Answer: A", ABCD, "A", "A"),
    ("The final answer is (A).", ABCD, "A", "A"),
    ("The correct answer is C.", ABCD, "C", "C"),
    ("The correct answer is: **(C) 42**", ABCD, "C", "C"),
    ("The correct answer is option D.", ABCD, "D", "D"),
    ("The answer would be B.", ABCD, "B", "B"),
    ("So the answer should be (C).", ABCD, "C", "C"),
    ("Therefore the answer must be D", ABCD, "D", "D"),
    ("The answer is therefore B.", ABCD, "B", "B"),
    ("The answer to this question is A.", ABCD, "A", "A"),
    ("the correct option is b", ABCD, "B", "B"),
    ("The correct choice is (c).", ABCD, "C", "C"),
    ("Best choice: D", ABCD, "D", "D"),
    ("Option C is correct", ABCD, "C", "C"),
    ("Option C is correct.", ABCD, "C", "C"),
    ("(C) is the correct answer.", ABCD, "C", "C"),
    ("B is the best answer here.", ABCD, "B", "B"),
    ("Choice D is the right one.", ABCD, "D", "D"),
    ("Therefore, the answer is A because the force doubles.", ABCD, "A", "A"),
    ("The answer is A, since both terms cancel.", ABCD, "A", "A"),
    ("The answer is (a).", ABCD, "A", "A"),
    ("Answer: [B]", ABCD, "B", "B"),
    ("Answer: `C`", ABCD, "C", "C"),
    ("Answer: $\\text{B}$", ABCD, "B", "B"),
    ("The answer is $\\textbf{(D)}$.", ABCD, "D", "D"),
    # --- boxed
    ("\\boxed{C}", ABCD, "C", "C"),
    ("\\boxed{\\text{C}}", ABCD, "C", "C"),
    ("$\\boxed{B}$", ABCD, "B", "B"),
    ("Thus the final answer is $\\boxed{\\textbf{(A)}}$.", ABCD, "A", "A"),
    ("\\boxed{(D)}", ABCD, "D", "D"),
    ("\\boxed{B. 12}", ABCD, "B", "B"),
    ("\\boxed{b}", ABCD, "B", "B"),
    ("After simplifying we get 12, which is option B.\n\n\\[\n\\boxed{B}\n\\]", ABCD, "B", "B"),
    ("\\boxed{42}", ABCD, None, None),
    # --- Chinese
    ("答案：B", ABCD, "B", "B"),
    ("答案: C", ABCD, "C", "C"),
    ("答案是 C", ABCD, "C", "C"),
    ("答案是C。", ABCD, "C", "C"),
    ("正确答案为B", ABCD, "B", "B"),
    ("正确答案是：D", ABCD, "D", "D"),
    ("答案应该是Ｂ", ABCD, "B", "B"),
    ("答案：（Ｃ）", ABCD, "C", "C"),
    ("【答案】D", ABCD, "D", "D"),
    ("选B", ABCD, "B", "B"),
    ("故选C。", ABCD, "C", "C"),
    ("因此应选择D。", ABCD, "D", "D"),
    ("选项B是错误的，故选C。", ABCD, "C", "C"),
    ("选项A和选项B都不对。", ABCD, None, None),
    ("根据题意，A项错误，B项正确。所以答案为B", ABCD, "B", "B"),
    # --- the last marker wins
    ("Option A says x. Option B says y. The answer is (C). Actually, the answer is D.", ABCD, "D", "D"),
    ("At first I thought the answer is A. But re-checking, the answer is C.", ABCD, "C", "C"),
    ("Answer: A\nWait, that ignores friction.\nAnswer: B", ABCD, "B", "B"),
    ("The answer is not A. The answer is B.", ABCD, "B", "B"),
    ("Some might say the answer is (B); however, the correct answer is (D).", ABCD, "D", "D"),
    ("\\boxed{A} was my first guess; final answer: C", ABCD, "C", "C"),
    ("Answer: C\n\\boxed{D}", ABCD, "D", "D"),
    ("<think>The answer is A? No.</think>The answer is B.", ABCD, "B", "B"),
    ("答案是A吗？不对，正确答案为C", ABCD, "C", "C"),
    # --- a marker naming a letter outside the options
    ("The answer is E.", ABCD, None, None),
    ("The answer is (F)", ABCD, None, None),
    ("Answer: E", "ABCDE", "E", "E"),
    # --- articles and pronouns are not letters
    ("A train leaves the station at 3pm.", ABCD, None, None),
    ("I think so.", ABCD, None, None),
    ("A good question. Let me reason step by step.", ABCD, None, None),
    ("The answer is A train of thought I cannot finish", ABCD, None, None),
    ("Answer: I think it is C", ABCD, None, "C"),
    ("I'm fairly sure it is (B).", ABCD, None, "B"),
    ("I believe a mouse is a mammal.", ABCD, None, None),
    ("I think it's B.", ABCD, None, "B"),
    ("The answer is I.", PRO, "I", "I"),
    ("Answer: I", PRO, "I", "I"),
    ("I think the answer is (I).", PRO, "I", "I"),
    ("I am not sure.", PRO, None, None),
    ("A", ABCD, None, "A"),
    ("A.", ABCD, None, "A"),
    # --- lenient fallbacks: lone letter lines
    ("B", ABCD, None, "B"),
    ("B.", ABCD, None, "B"),
    ("(D)", ABCD, None, "D"),
    ("**C**", ABCD, None, "C"),
    (" C ", ABCD, None, "C"),
    ("[B]", ABCD, None, "B"),
    ("Let me think.\nA is wrong, B too.\n\nC", ABCD, None, "C"),
    ("Reasoning about each option...\n\n(B)", ABCD, None, "B"),
    ("The force is doubled, so the acceleration doubles.\n\nD", ABCD, None, "D"),
    ("Option A is too small and option C too large.\n**B**", ABCD, None, "B"),
    ("Comparing the spectra:\n- A: no\n- B: no\n- C: yes\n\nC.", ABCD, None, "C"),
    # --- lenient fallbacks: a reply opening with an option
    ("A. Paris", ABCD, None, "A"),
    ("B) Paris is the capital", ABCD, None, "B"),
    ("(C) Mitochondria, because they produce ATP.", ABCD, None, "C"),
    ("D: all of the above", ABCD, None, "D"),
    ("**B. Paris**\n\nParis has been the capital since 987; option A, Lyon, never was.", ABCD, None, "B"),
    ("C. 42\nExplanation: 6 times 7 is 42.", ABCD, None, "C"),
    # --- lenient fallbacks: the last letter standing alone
    ("So it must be B", ABCD, None, "B"),
    ("It has to be D.", ABCD, None, "D"),
    ("Hence (C)", ABCD, None, "C"),
    ("Comparing both, I pick C over B, so C.", ABCD, None, "C"),
    ("A. is wrong.\nB. is wrong.\nC. fits, so my pick is C.", ABCD, None, "C"),
    ("Between B and D, D fits the data", ABCD, None, "D"),
    ("The first statement is false and the second is true, therefore B", ABCD, None, "B"),
    ("None of these fit perfectly, but D is closest.", ABCD, None, "D"),
    # --- no answer
    ("", ABCD, None, None),
    ("I don't know.", ABCD, None, None),
    ("The question is ambiguous and cannot be answered.", ABCD, None, None),
    ("Let me compute 3 + 4 = 7 first.", ABCD, None, None),
    ("The answer is 42.", ABCD, None, None),
    ("The answer is not obvious.", ABCD, None, None),
    # --- MMLU-Pro: ten options
    ("The answer is (J).", PRO, "J", "J"),
    ("The answer is (J).", ABCD, None, None),
    ("Answer: H", PRO, "H", "H"),
    ("answer is (g)", PRO, "G", "G"),
    ("Let's think step by step. Options A-F are ruled out. The answer is (G).", PRO, "G", "G"),
    ("\\boxed{F}", PRO, "F", "F"),
    ("E", PRO, None, "E"),
    ("The answer is (E)", "ABCDEFGHIJKLMNOP", "E", "E"),
    ("Answer: N", "ABCDEFGHIJKLMNOP", "N", "N"),
    # --- full-width and odd spacing
    ("Ａｎｓｗｅｒ：Ｂ", ABCD, "B", "B"),
    ("The answer is  ( C )", ABCD, "C", "C"),
    ("Answer -\n(B)", ABCD, None, "B"),
    ("answer:\nD", ABCD, "D", "D"),
    # --- an explanation after the answer does not override it
    ("Answer: B\n\nExplanation: Option A is incorrect because it ignores drag.", ABCD, "B", "B"),
    ("The answer is:\n\n**B. Paris**", ABCD, "B", "B"),
    ("Answer: The correct statement is the second one.", ABCD, None, None),
    ("So (B) is the answer.", ABCD, "B", "B"),
]


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 120


@pytest.mark.parametrize(("text", "letters", "strict", "lenient"), CASES)
def test_extract_choice_table(text: str, letters: str, strict: str | None, lenient: str | None) -> None:
    assert extract_choice(text, letters, strict=True) == strict
    assert extract_choice(text, letters) == lenient


@pytest.mark.parametrize(
    ("text", "choices", "expected"),
    [
        ("I believe it's Paris.", ["London", "Paris", "Berlin", "Rome"], "B"),
        ("Answer: Paris, Texas", ["Paris", "Paris, Texas"], "B"),
        ("The answer is mitochondria.", ["nucleus", "ribosome", "Mitochondria", "Golgi"], "C"),
        ("Answer: $\\frac{1}{2}$", ["1/3", "\\frac{1}{2}", "2", "0"], "B"),
        ("London is wrong. The answer is Berlin.", ["London", "Paris", "Berlin", "Rome"], "C"),
        ("答案是北京", ["上海", "北京", "广州", "深圳"], "B"),
        ("no idea", ["London", "Paris"], None),
        ("", ["London", "Paris"], None),
    ],
)
def test_extract_choice_by_text(text: str, choices: list[str], expected: str | None) -> None:
    assert extract_choice_by_text(text, choices) == expected


# Filler that contains no answer marker and no standalone capital letters.
_filler = st.text(alphabet=string.ascii_lowercase + " ,\n0123456789+-=", max_size=200)


@settings(max_examples=300, deadline=None)
@given(letter=st.sampled_from(PRO), before=_filler, after=_filler)
def test_marked_answer_is_found(letter: str, before: str, after: str) -> None:
    letters = PRO
    text = f"{before} The answer is ({letter}). {after}"
    assert extract_choice(text, letters, strict=True) == letter
    assert extract_choice(text, letters) == letter


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), letters=st.sampled_from(["AB", "ABCD", PRO, "ABCDEFGHIJKLMNOP"]))
def test_never_outside_letters(text: str, letters: str) -> None:
    for strict in (True, False):
        found = extract_choice(text, letters, strict=strict)
        assert found is None or found in letters


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), letter=st.sampled_from(ABCD))
def test_final_answer_line_wins(text: str, letter: str) -> None:
    reply = f"{text}\nAnswer: {letter}"
    assert extract_choice(reply, ABCD, strict=True) == letter
    assert extract_choice(reply, ABCD) == letter


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_strict_implies_lenient(text: str) -> None:
    strict = extract_choice(text, ABCD, strict=True)
    if strict is not None:
        assert extract_choice(text, ABCD) == strict
