"""Metric maths: standard errors, pass@k (Chen et al. 2021), mean@k, paired comparisons."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.eval.scoring.stats import (
    mean_at_k,
    mean_pass_at_k,
    mean_stderr,
    paired_bootstrap,
    paired_sign_test,
    paired_t_test,
    pass_at_k,
    student_t_quantile,
)


def test_mean_stderr_counts_ungraded_apart() -> None:
    stat = mean_stderr([1, 0, None, 1, None])
    assert stat.mean == pytest.approx(2 / 3)
    assert stat.count == 3 and stat.ungraded == 2
    assert stat.stderr == pytest.approx(math.sqrt((1 / 3) / 3))  # sample variance 1/3, n = 3


def test_mean_stderr_edge_cases() -> None:
    assert mean_stderr([]).mean is None
    assert mean_stderr([None]).ungraded == 1
    single = mean_stderr([True])
    assert single.mean == 1.0 and single.stderr is None


def test_pass_at_k_known_values() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 3, 3) == 1.0  # fewer than k wrong samples: some draw of k must hold a right one
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - math.comb(3, 2) / math.comb(4, 2))
    assert 0.0 < pass_at_k(2000, 10, 1000) < 1.0  # binomials this size overflow a float


def test_pass_at_k_rejects_bad_arguments() -> None:
    for n, c, k in [(5, 6, 1), (5, 2, 6), (5, 2, 0), (5, -1, 1)]:
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


@st.composite
def _n_c_k(draw):
    n = draw(st.integers(1, 300))
    return n, draw(st.integers(0, n)), draw(st.integers(1, n))


@settings(max_examples=300, deadline=None)
@given(_n_c_k())
def test_pass_at_k_properties(nck) -> None:
    n, c, k = nck
    value = pass_at_k(n, c, k)
    assert 0.0 <= value <= 1.0
    assert pass_at_k(n, c, 1) == pytest.approx(c / n)
    if k < n:
        assert pass_at_k(n, c, k + 1) >= value - 1e-12
    if c < n:
        assert pass_at_k(n, c + 1, k) >= value - 1e-12
    exact = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert value == pytest.approx(exact, abs=1e-9)


def test_mean_pass_at_k_and_mean_at_k() -> None:
    assert mean_pass_at_k([(4, 0), (4, 4)], 1).mean == pytest.approx(0.5)
    stat = mean_at_k([[1, 0, 1, 1], [0, 0, None, 0], [None, None]])
    assert stat.mean == pytest.approx((0.75 + 0.0) / 2)
    assert stat.count == 2 and stat.ungraded == 1


def test_t_quantile_matches_tables() -> None:
    assert student_t_quantile(0.975, 1) == pytest.approx(12.706, abs=1e-3)
    assert student_t_quantile(0.975, 10) == pytest.approx(2.228, abs=1e-3)
    assert student_t_quantile(0.975, 100) == pytest.approx(1.984, abs=1e-3)


def _runs(seed: int, n: int, base: float, gain: float) -> tuple[list[bool | None], list[bool | None]]:
    rng = random.Random(seed)
    baseline = [rng.random() < base for _ in range(n)]
    candidate = [b or rng.random() < gain for b in baseline]
    return baseline, candidate


def test_paired_comparisons_detect_a_real_gain() -> None:
    baseline, candidate = _runs(0, 1000, 0.5, 0.3)
    for result in (paired_bootstrap(baseline, candidate), paired_t_test(baseline, candidate),
                   paired_sign_test(baseline, candidate)):
        assert result.difference > 0.1
        assert result.significant, result
        assert result.ci_low > 0
        assert result.p_value is not None and result.p_value < 0.001


def test_paired_comparisons_see_noise_as_noise() -> None:
    rng = random.Random(1)
    baseline = [rng.random() < 0.5 for _ in range(300)]
    candidate = [b if rng.random() < 0.9 else not b for b in baseline]  # symmetric flips
    candidate[0:3] = baseline[0:3]
    for result in (paired_bootstrap(baseline, candidate), paired_t_test(baseline, candidate)):
        assert result.ci_low < 0 < result.ci_high or not result.significant


def test_bootstrap_is_seeded_and_drops_ungraded_pairs() -> None:
    baseline, candidate = _runs(2, 200, 0.5, 0.1)
    baseline[0] = None
    first = paired_bootstrap(baseline, candidate, seed=7, resamples=2000)
    assert first == paired_bootstrap(baseline, candidate, seed=7, resamples=2000)
    assert first.dropped == 1 and first.count == 199


def test_paired_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        paired_t_test([1, 0], [1])
