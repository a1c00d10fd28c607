"""Hand-made traces with known T, T̂, thought counts and solutions."""

from __future__ import annotations

import asyncio

import pytest

from assay.think.analyse import Trace, analyse_trace
from assay.think.config import DEFAULT_MARKERS
from assay.think.firstcorrect import candidate_answers, parse_judge_reply, UNREADABLE
from assay.think.metrics import summarise, summarise_all
from assay.think.splitting import count_thoughts, reasoning_of, split_steps
from assay.think.tokens import TraceTokens
from assay.types import Completion

from .conftest import PlainEquality, WordEncoder, count

pytestmark = pytest.mark.timeout(30)

MARKERS = list(DEFAULT_MARKERS)

# Wrong first (6), then right (5) in the third paragraph, then re-checking. Token counts per paragraph:
# 7, 8, 13, 19, 3 (words and punctuation marks).
WRONG_THEN_RIGHT = (
    "Let me compute 2 + 3.\n\n"
    "I get 2 + 3 = 6.\n\n"
    "But wait, that is wrong. 2 + 3 = 5.\n\n"
    "Alternatively, count up from 2: three more steps gives 5. So the answer is 5.\n\n"
    "Done checking."
)
# Right at once, then two re-checks that land on the same answer: 12, 16, 16 tokens.
RIGHT_THEN_RECHECKS = (
    "2 + 3 = 5, so the answer is 5.\n\n"
    "Let me double check: 3 + 2 = 5. The answer is 5.\n\n"
    "Alternatively, 5 - 3 = 2, consistent. So the answer is 5."
)
# Never reaches 5: 6 and 19 tokens.
NEVER_RIGHT = "Maybe the answer is 7.\n\nBut wait, 2 + 3 = 6. So the answer is 6, I am sure."


def _trace(text: str, group: str = "Level 1", correct: float | None = 1.0, sample_id: str = "s") -> Trace:
    return Trace(model="m", sample_id=sample_id, repeat=0, group=group, problem="What is 2 + 3?", target="5",
                 reasoning=text, correct=correct)


def _analyse(text: str, split: str = "paragraphs", **kwargs):
    return asyncio.run(analyse_trace(_trace(text, **kwargs), TraceTokens(text, encoder=WordEncoder()),
                                     split=split, markers=MARKERS, equality=PlainEquality()))


def test_the_hand_counts_are_right():
    paragraphs = WRONG_THEN_RIGHT.split("\n\n")
    assert [count(p) for p in paragraphs] == [7, 8, 13, 19, 3]
    assert [count(p) for p in RIGHT_THEN_RECHECKS.split("\n\n")] == [12, 16, 16]
    assert [count(p) for p in NEVER_RIGHT.split("\n\n")] == [6, 19]


def test_an_answer_first_wrong_then_right():
    result = _analyse(WRONG_THEN_RIGHT)
    assert result.reasoning_tokens == 50
    assert result.first_correct_step == 2  # the paragraph with "2 + 3 = 5", not the one with "= 6"
    assert result.first_correct_tokens == 28
    assert result.reflection_tokens == 22
    assert result.token_efficiency == pytest.approx(0.56)
    assert result.thought_count == 3  # the first chain, "But wait", "Alternatively"
    assert result.step_count == 5
    assert result.distinct_tokens == 50  # one explicit answer: one solution, the whole trace


def test_rechecks_that_repeat_the_answer_are_not_distinct_solutions():
    result = _analyse(RIGHT_THEN_RECHECKS)
    assert (result.reasoning_tokens, result.first_correct_tokens, result.first_correct_step) == (44, 12, 0)
    assert result.thought_count == 2
    assert result.distinct_tokens == 12  # three solutions, all answering 5: only the first counts


def test_a_new_answer_is_a_distinct_solution():
    text = "So the answer is 6.\n\nBut wait, 2 + 3 = 5. The answer is 5.\n\nYes, the answer is 5."
    result = _analyse(text)
    # 6, then 5 (new: distinct), then 5 again (not): 6 + 14 of 6 + 14 + 7 tokens
    assert (result.reasoning_tokens, result.distinct_tokens, result.first_correct_tokens) == (27, 20, 20)


def test_a_trace_that_never_reaches_the_answer():
    result = _analyse(NEVER_RIGHT, correct=0.0)
    assert result.reasoning_tokens == 25
    assert result.first_correct_tokens is None and result.first_correct_step is None
    assert result.reflection_tokens is None and result.token_efficiency is None
    assert not result.reached
    assert result.thought_count == 2


def test_marker_steps_find_the_same_point():
    steps = split_steps(WRONG_THEN_RIGHT, "markers", MARKERS)
    assert [s.text.split()[0] for s in steps] == ["Let", "But", "Alternatively,"]
    result = _analyse(WRONG_THEN_RIGHT, split="markers")
    assert (result.first_correct_step, result.first_correct_tokens, result.step_count) == (1, 28, 3)


def test_steps_keep_their_place_in_the_text():
    steps = split_steps("  one\n\n\n two \n \nthree", "paragraphs", MARKERS)
    assert [(s.text, s.start, s.end) for s in steps] == [("one", 2, 5), ("two", 9, 12), ("three", 16, 21)]
    assert split_steps("", "paragraphs", MARKERS) == []


def test_thought_count_uses_whole_words_and_the_given_markers():
    assert count_thoughts("", MARKERS) == 0
    assert count_thoughts("No switches here.", MARKERS) == 1
    assert count_thoughts("ALTERNATIVELY x. but wait y. Alternatively, z", MARKERS) == 4
    assert count_thoughts("Reconsider: alternativelyish", MARKERS) == 1
    assert count_thoughts("Hmm. Hmm, hmm.", ["hmm"]) == 4


def test_candidates_are_answers_and_equation_results_not_bare_numbers():
    assert candidate_answers("I count 3 cases.") == []
    assert candidate_answers("So x = 3, which is positive.") == ["3"]
    assert candidate_answers("$\\frac12 + \\frac14 = \\frac{3}{4}$") == ["\\frac{3}{4}"]
    assert candidate_answers("maybe \\boxed{5} or \\boxed{6}") == ["5", "6"]
    assert candidate_answers("x <= 5 and y >= 3") == []


def test_reasoning_comes_from_the_field_or_before_the_last_think_end():
    assert reasoning_of(Completion(text="answer", reasoning="thinking")) == "thinking"
    assert reasoning_of(Completion(text="<think>a</think> b </think>c")) == "a</think> b "
    assert reasoning_of(Completion(text="no reasoning")) == ""


def test_server_counts_prorate_the_first_correct_point():
    tokens = TraceTokens("abcdefghij", server_total=100)
    assert (tokens.total, tokens.upto(3), tokens.upto(10), tokens.upto(0)) == (100, 30, 100, 0)


def test_judge_replies():
    assert parse_judge_reply("The first is \\boxed{3}.", 5) == 2
    assert parse_judge_reply("\\boxed{0}", 5) is None
    assert parse_judge_reply("paragraph 2", 5) == 1
    assert parse_judge_reply("\\boxed{9}", 5) is UNREADABLE
    assert parse_judge_reply("I cannot tell", 5) is UNREADABLE


def test_group_means_leave_never_reached_traces_apart():
    traces = [
        _analyse(WRONG_THEN_RIGHT, sample_id="a"),
        _analyse(RIGHT_THEN_RECHECKS, sample_id="b"),
        _analyse(NEVER_RIGHT, sample_id="c", correct=0.0),
    ]
    row = summarise("m", "Level 1", traces)
    assert (row.traces, row.reached, row.never_reached) == (3, 2, 1)
    assert row.accuracy == pytest.approx(2 / 3)
    assert row.reasoning_tokens == pytest.approx((50 + 44 + 25) / 3)
    assert row.first_correct_tokens == pytest.approx((28 + 12) / 2)  # the never-reached trace is not a 0
    assert row.reflection_tokens == pytest.approx((22 + 32) / 2)
    assert row.token_efficiency == pytest.approx((28 / 50 + 12 / 44) / 2)
    assert row.never_reached_reasoning_tokens == 25
    assert row.thought_count == pytest.approx((3 + 2 + 2) / 3)
    # Chen et al.: over all N traces, the one that never reaches the answer contributes 0
    assert row.outcome_efficiency == pytest.approx((28 / 50 + 12 / 44 + 0) / 3)
    assert row.process_efficiency == pytest.approx((50 / 50 + 12 / 44 + 25 / 25) / 3)


def test_rows_per_group_in_natural_order_with_an_all_row():
    traces = [_analyse(WRONG_THEN_RIGHT, group=g, sample_id=g) for g in ("Level 10", "Level 2", "Level 1")]
    rows = summarise_all(traces, ["m"])
    assert [r.group for r in rows] == ["Level 1", "Level 2", "Level 10", "all"]
    assert rows[-1].traces == 3
