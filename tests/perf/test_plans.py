"""Load plans: pairing of sweep lists, arrival schedules, splitting across workers."""

from __future__ import annotations

import numpy as np
import pytest

from assay.perf import PerfConfig, build_plans
from assay.perf.plans import LoadPlan, arrival_offsets_s

pytestmark = pytest.mark.timeout(30)
URL = "http://127.0.0.1:9/v1/chat/completions"


def plans(**kw):
    return build_plans(PerfConfig(url=URL, model="m", **kw))


def test_closed_loop_sweep_pairs_parallel_with_number():
    got = plans(parallel=[1, 8, 32], number=[16, 64, 256])
    assert [(p.parallel, p.number, p.rate) for p in got] == [(1, 16, None), (8, 64, None), (32, 256, None)]
    assert [p.name for p in got] == ["parallel_1_number_16", "parallel_8_number_64", "parallel_32_number_256"]


def test_single_values_repeat_and_defaults():
    assert [(p.parallel, p.number) for p in plans(parallel=[2, 4], number=[10])] == [(2, 10), (4, 10)]
    (only,) = plans()
    assert (only.parallel, only.number, only.rate) == (1, 1000, None)


def test_rate_sweep_is_open_loop_without_cap_unless_parallel_given():
    got = plans(rate=[5, 10.5], number=[100])
    assert [(p.rate, p.parallel, p.open_loop) for p in got] == [(5, None, True), (10.5, None, True)]
    assert got[1].name == "rate_10.5_number_100"
    capped = plans(rate=[20], parallel=[64], number=[500])[0]
    assert capped.name == "rate_20_parallel_64_number_500"


def test_mismatched_list_lengths_are_a_config_error():
    with pytest.raises(ValueError, match="same length"):
        PerfConfig(url=URL, model="m", parallel=[1, 2, 3], number=[1, 2])


def test_poisson_arrivals_have_the_asked_rate_and_are_reproducible():
    offsets = arrival_offsets_s(20_000, 50.0, "poisson", seed=3)
    assert offsets[0] == 0 and np.all(np.diff(offsets) >= 0)
    assert 20_000 / offsets[-1] == pytest.approx(50.0, rel=0.03)
    gaps = np.diff(offsets)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.05)  # exponential: CV = 1
    assert np.array_equal(offsets, arrival_offsets_s(20_000, 50.0, "poisson", seed=3))


def test_constant_and_gamma_arrivals():
    assert np.allclose(np.diff(arrival_offsets_s(10, 4.0, "constant")), 0.25)
    gaps = np.diff(arrival_offsets_s(20_000, 10.0, "gamma", burstiness=4.0, seed=1))
    assert gaps.mean() == pytest.approx(0.1, rel=0.03)
    assert gaps.std() / gaps.mean() == pytest.approx(0.5, rel=0.05)  # CV = 1/sqrt(shape)


def test_split_shares_number_concurrency_and_rate():
    parts = LoadPlan(number=10, parallel=5, rate=30.0).split(3)
    assert [p.number for p in parts] == [4, 3, 3]
    assert [p.parallel for p in parts] == [2, 2, 1]
    assert sum(p.rate for p in parts) == pytest.approx(30.0)
    assert LoadPlan(number=2, parallel=1).split(4) == [LoadPlan(1, 1), LoadPlan(1, 1)]
