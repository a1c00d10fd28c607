"""Reading pairwise verdicts and turning them into pair scores and Arena-Hard battles."""

from __future__ import annotations

import pytest

from assay.eval.scoring.pairwise import arena_score, battles, candidate_outcome, combine, parse_label


@pytest.mark.parametrize("reply, label", [
    ("My final verdict is: [[A>>B]]", "A>>B"),
    ("verdict [[ B > A ]]", "B>A"),
    ("Tie: [[A=B]].", "A=B"),
    ("[[A<B]]", "B>A"),
    ("[[A<<B]]", "B>>A"),
    ("MT-Bench style: [[B]]", "B>A"),
    ("MT-Bench tie: [[C]]", "A=B"),
    ("First I thought [[A>B]] but then [[A>B]] again", "A>B"),  # the same label twice is one verdict
    ("[[A>B]] ... no, [[B>A]]", None),  # two different labels: no verdict, as Arena-Hard's parser
    ("A is better", None),
    ("[[A>A]]", None),
    ("", None),
    (None, None),
])
def test_labels(reply, label):
    assert parse_label(reply) == label


def test_outcomes_are_read_from_the_candidates_side():
    assert candidate_outcome("A>>B", candidate_is_a=True) == 2
    assert candidate_outcome("A>>B", candidate_is_a=False) == -2
    assert candidate_outcome("B>A", candidate_is_a=False) == 1
    assert candidate_outcome("A=B", candidate_is_a=True) == 0
    assert candidate_outcome(None, candidate_is_a=True) is None


@pytest.mark.parametrize("first, second, value", [
    (2, 1, 1.0), (-1, -2, 0.0), (1, -1, 0.5), (1, 0, 0.5), (0, -2, 0.5), (0, 0, 0.5), (None, 1, None),
])
def test_a_pair_is_won_only_when_both_orders_agree(first, second, value):
    assert combine(first, second) == value


def test_arena_hard_battles_weigh_decisive_verdicts_three_times():
    assert battles([2, -1, 0, None]) == [(1.0, 3), (0.0, 1), (0.5, 1)]
    assert arena_score([[(1.0, 3), (0.0, 1)], [(0.5, 1)]]) == pytest.approx(3.5 / 5)
    assert arena_score([]) is None
