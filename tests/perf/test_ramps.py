"""Ramps (--ramp): arrival counts follow the ramp's cumulative rate, lanes are released along it, and a run
against the simulator shows it in its records and summary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assay.perf import PerfConfig, build_plans, run_perf
from assay.perf.finish import PlanSettings
from assay.perf.plans import LoadPlan, arrival_offsets_s
from assay.perf.ramps import Ramp, parse_seconds
from assay.perf.records import iter_rows
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(90)
URL = "http://127.0.0.1:9/v1/chat/completions"


def window_counts(offsets: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.histogram(offsets, bins=edges)[0]


@pytest.mark.parametrize("shape, start", [("linear", 2.0), ("linear", 0.0), ("exponential", 1.0)])
def test_poisson_arrivals_follow_the_ramps_cumulative_rate(shape, start):
    ramp, target = Ramp(shape, 20.0, start), 40.0
    offsets = arrival_offsets_s(3000, target, "poisson", seed=5, ramp=ramp)
    assert offsets[0] == 0 and np.all(np.diff(offsets) >= 0)
    edges = np.arange(0.0, 40.0, 2.5)
    expected = np.diff(ramp.cumulative(edges, target))
    got = window_counts(offsets, edges)
    # Poisson counts: within 5 standard deviations (plus a few) of the cumulative rate's increments.
    assert np.all(np.abs(got - expected) <= 5 * np.sqrt(expected) + 3), (got, expected.round(1))
    assert got[0] < got[3] < got[7]  # the rate rises along the ramp ...
    assert abs(got[-1] - got[-2]) <= 5 * np.sqrt(target * 2.5)  # ... and is flat at the target after it


def test_constant_arrivals_sit_on_the_cumulative_rate():
    ramp, target = Ramp("exponential", 10.0, 0.5), 25.0
    offsets = arrival_offsets_s(400, target, "constant", ramp=ramp)
    # Arrival k goes out when the cumulative rate reaches k: no noise but rounding.
    assert np.allclose(ramp.cumulative(offsets, target), np.arange(400), atol=1e-6)
    assert ramp.value_at(0, target) == 0.5 and ramp.value_at(5, target) == pytest.approx(0.5 * 50 ** 0.5)
    assert ramp.value_at(12, target) == target


def test_split_ramps_add_up_to_the_plans_ramp():
    plan = LoadPlan(number=900, parallel=None, rate=30.0, ramp=Ramp("linear", 10.0, 3.0))
    parts = plan.split(3)
    assert sum(p.ramp.start for p in parts) == pytest.approx(3.0)
    assert all(p.ramp.duration_s == 10.0 for p in parts)
    closed = LoadPlan(number=100, parallel=8, ramp=Ramp("linear", 4.0, 2.0)).split(2)
    assert [(p.parallel, p.ramp.start) for p in closed] == [(4, 1.0), (4, 1.0)]


def test_lanes_are_released_along_the_ramp():
    linear = LoadPlan(number=100, parallel=5, ramp=Ramp("linear", 8.0, 1.0)).lane_offsets_s()
    assert np.allclose(linear, [0, 2, 4, 6, 8])  # c(t) = 1 + t/2 passes 2, 3, 4, 5
    exponential = LoadPlan(number=100, parallel=8, ramp=Ramp("exponential", 3.0, 2.0)).lane_offsets_s()
    assert np.allclose(exponential[:2], 0) and np.allclose(exponential[[3, 7]], [1.5, 3.0])  # 2 → 8: x2 per 1.5 s
    assert np.all(np.diff(exponential) >= 0)
    assert np.allclose(LoadPlan(number=10, parallel=4).lane_offsets_s(), 0)


def test_config_builds_each_plans_ramp_with_defaults():
    rate_plans = build_plans(PerfConfig(url=URL, model="m", rate=[10, 40], ramp="linear", ramp_duration="30s"))
    assert [p.ramp for p in rate_plans] == [Ramp("linear", 30.0, 1.0), Ramp("linear", 30.0, 4.0)]
    (closed,) = build_plans(PerfConfig(url=URL, model="m", parallel=[16], ramp="exponential", ramp_duration="2m",
                                       ramp_start=2))
    assert closed.ramp == Ramp("exponential", 120.0, 2.0)
    assert build_plans(PerfConfig(url=URL, model="m", parallel=[4]))[0].ramp is None
    assert [parse_seconds(v) for v in ("500ms", "1.5s", "2m", "3", 4)] == [0.5, 1.5, 120.0, 3.0, 4]


@pytest.mark.parametrize("kw, message", [
    (dict(ramp="linear"), "needs --ramp-duration"),
    (dict(ramp_duration=10), "needs --ramp linear or exponential"),
    (dict(ramp="linear", ramp_duration="soon"), "not a duration"),
    (dict(ramp="linear", ramp_duration=5, rate=[10, 20], ramp_start=15), "above the target 10"),
    (dict(ramp="exponential", ramp_duration=5, rate=[10], ramp_start=0), "never from 0"),
    (dict(ramp="linear", ramp_duration=5, parallel=[8], ramp_start=0.5), "at least 1"),
])
def test_bad_ramp_options(kw, message):
    with pytest.raises(ValueError, match=message):
        PerfConfig(url=URL, model="m", **kw)


def test_plan_settings_keep_the_ramp_for_rebuild():
    plan = LoadPlan(number=50, parallel=None, rate=12.0, ramp=Ramp("exponential", 6.0, 1.5))
    assert PlanSettings.from_meta(PlanSettings(plan).meta()).plan == plan


def perf(sim, tmp_path, **kw):
    values = dict(url=sim.base_url + "/chat/completions", model="assay-sim", prompt="Tell me a story.",
                  outputs_dir=str(tmp_path), charts=False, max_tokens=8)
    values.update(kw)
    return run_perf(PerfConfig(**values))


def test_rate_ramp_against_the_sim_schedules_requests_along_the_ramp(tmp_path):
    with SimProcess(SimConfig(port=0, latency_model="fixed", ttft_ms=2, itl_ms=1, output_len="8")) as sim:
        result = perf(sim, tmp_path, rate=[40], number=[60], ramp="linear", ramp_duration=1, ramp_start=4)
    (summary,) = result.summaries
    assert summary.succeeded_requests == 60
    assert summary.ramp is not None and summary.ramp.model_dump() == {
        "shape": "linear", "variable": "rate", "start": 4.0, "target": 40.0, "duration_s": 1.0}
    plan_dir = result.run_dir / summary.plan
    assert json.loads((plan_dir / "summary.json").read_text())["ramp"]["shape"] == "linear"
    scheduled = sorted(r["scheduled_s"] for r in iter_rows(plan_dir / "records.sqlite"))
    expected = build_plans(PerfConfig(url=URL, model="m", rate=[40], number=[60], ramp="linear", ramp_duration=1,
                                      ramp_start=4))[0].arrival_offsets_s(seed=0)
    assert np.allclose(scheduled, expected, atol=1e-6)


def test_concurrency_ramp_against_the_sim_never_runs_ahead_of_the_released_lanes(tmp_path):
    with SimProcess(SimConfig(port=0, latency_model="fixed", ttft_ms=20, itl_ms=5, output_len="6")) as sim:
        result = perf(sim, tmp_path, parallel=[6], number=[120], ramp="linear", ramp_duration=1.0)
    (summary,) = result.summaries
    assert summary.succeeded_requests == 120 and summary.ramp.variable == "parallel"
    rows = list(iter_rows(result.run_dir / summary.plan / "records.sqlite"))
    starts = np.array([r["start_s"] for r in rows])
    dones = np.array([r["done_s"] for r in rows])
    lanes = LoadPlan(number=120, parallel=6, ramp=Ramp("linear", 1.0, 1.0)).lane_offsets_s()
    for t in np.linspace(0, float(dones.max()), 400):
        in_flight = int(((starts <= t) & (dones > t)).sum())
        assert in_flight <= int((lanes <= t).sum()), t  # a lane sends nothing before its release
    # Every lane took part after the ramp: six requests in flight at some point.
    late = np.sort(starts[starts > 1.0])
    assert any(((starts <= t) & (dones > t)).sum() == 6 for t in late)
