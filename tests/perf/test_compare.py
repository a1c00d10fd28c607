"""``assay perf compare RUN_A RUN_B``: plans paired by name or load, each metric tested against the noise (Welch on
per-repeat values, else a bootstrap over requests), console and JSON output, one-line errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from assay.cli.main import main
from assay.errors import ConfigError
from assay.perf import PerfConfig, run_perf
from assay.perf.compare import Sample, _ranges, bootstrap_differences, compare_runs, welch_t_test
from assay.perf.finish import PlanSettings, finish_plan, start_plan
from assay.perf.metrics import RequestMetrics
from assay.perf.plans import LoadPlan
from assay.perf.records import RecordWriter, RequestRecord
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(120)

LATENCIES = ("mean_ttft_s", "p50_ttft_s", "mean_itl_s", "p50_itl_s", "mean_latency_s", "p50_latency_s")


def synthetic_run(folder, *, scale: float = 1.0, repeats: int = 1, number: int = 40, seed: int = 0,
                  parallel: int = 4):
    """A run folder written by the real pipeline (records, then finish_plan) from drawn latencies: ``scale``
    multiplies every time."""
    plan = LoadPlan(number=number, parallel=parallel)
    records = folder / plan.name / "records.sqlite"
    records.parent.mkdir(parents=True)
    settings = PlanSettings(plan)
    start_plan(records, settings)
    rng = np.random.default_rng(seed)
    with RecordWriter(records) as writer:
        for repeat in range(repeats):
            clock = 0.0
            for i in range(number):
                ttft = scale * rng.uniform(0.04, 0.06)
                itl = scale * rng.uniform(0.008, 0.012, 15)
                latency = ttft + float(itl.sum())
                metrics = RequestMetrics(ok=True, ttft_s=ttft, first_content_s=ttft, latency_s=latency,
                                         tpot_s=float(itl.mean()), input_tokens=10, input_token_source="server",
                                         output_tokens=16, output_token_source="server", reasoning_tokens=None,
                                         itl_s=itl)
                start = clock if i % parallel else (clock := clock + latency)
                writer.add(RequestRecord(worker=0, request_index=i, prompt_index=i, turn=0, scheduled_s=start,
                                         start_s=start, done_s=start + latency, metrics=metrics, repeat=repeat))
    finish_plan(records, settings, interrupted=False, draw_charts=False)
    return folder


def by_metric(result, plan: int = 0) -> dict:
    return {m.metric: m for m in result.plans[plan].metrics}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(["perf", "compare", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


# ---- the tests themselves ---------------------------------------------------------------------------------


def test_welch_matches_the_textbook_values():
    result = welch_t_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    # t = 3 / sqrt(2/3) = 3.674 on 4 degrees of freedom: p = 0.0213 (scipy.stats.ttest_ind(equal_var=False)).
    assert result.difference == 3.0 and math.isclose(result.p_value, 0.0213, abs_tol=5e-4) and result.significant
    assert result.ci_low > 0
    assert not welch_t_test([1.0, 2.0, 3.0], [1.5, 2.5, 2.0]).significant
    assert welch_t_test([1.0], [2.0, 3.0]) is None
    assert welch_t_test([2.0, 2.0], [2.0, 2.0]).p_value == 1.0


def test_bootstrap_flags_a_shift_and_not_a_copy():
    rng = np.random.default_rng(1)
    a = Sample(rng.normal(1.0, 0.1, 300))
    shifted = bootstrap_differences(a, Sample(a.values * 1.5), ["mean", "p50", "p99"])
    assert all(r.significant and r.ci_low > 0 for r in shifted.values())
    same = bootstrap_differences(a, Sample(a.values.copy()), ["mean", "p50", "p99"])
    assert not any(r.significant for r in same.values()) and same["mean"].difference == 0
    assert bootstrap_differences(Sample(np.array([1.0])), a, ["mean"]) is None


def test_itl_is_resampled_by_request():
    assert list(_ranges(np.array([0, 5, 2]), np.array([2, 1, 3]))) == [0, 1, 5, 2, 3, 4]
    gaps = Sample(np.repeat([0.01, 0.02, 0.03, 0.04], 10), np.full(4, 10))
    stats = gaps.resampled_stats(np.random.default_rng(0), 50, ["mean"])
    # Whole requests are drawn: every resampled mean is a mean of four of the request means.
    assert all(any(math.isclose(m * 4 / 0.01, k, abs_tol=1e-6) for k in range(4, 17)) for m in stats[:, 0])


def test_repeats_on_both_sides_use_welch(tmp_path):
    run_a = synthetic_run(tmp_path / "a", repeats=3, seed=1)
    run_b = synthetic_run(tmp_path / "b", repeats=3, seed=2, scale=5.0)
    found = by_metric(compare_runs(run_a, run_b))
    for key in LATENCIES:
        m = found[key]
        assert m.test == "welch" and m.significant and m.verdict == "B worse (beyond the noise)", key
        assert m.relative_difference == pytest.approx(4.0, rel=0.2)
    assert found["request_throughput_rps"].significant and found["request_throughput_rps"].difference < 0
    assert "goodput_rps" not in found  # no SLO on either side
    itself = compare_runs(run_a, run_a)
    assert not any(m.significant for m in itself.plans[0].metrics)


def test_without_repeats_requests_are_bootstrapped_and_rates_untested(tmp_path):
    run_a = synthetic_run(tmp_path / "a", seed=1)
    run_b = synthetic_run(tmp_path / "b", seed=2, scale=5.0)
    found = by_metric(compare_runs(run_a, run_b))
    for key in LATENCIES:
        assert found[key].test == "bootstrap" and found[key].significant, key
    rate = found["request_throughput_rps"]
    assert rate.test == "none" and rate.significant is None and rate.verdict == "no test"
    same = compare_runs(run_a, synthetic_run(tmp_path / "a2", seed=3))
    tested = [m for m in same.plans[0].metrics if m.significant is not None]
    assert tested and sum(m.significant for m in tested) <= len(tested) // 2


def test_plans_pair_by_load_when_names_differ(tmp_path):
    run_a = synthetic_run(tmp_path / "a", number=40)
    run_b = synthetic_run(tmp_path / "b", number=24, seed=5)
    synthetic_run(tmp_path / "b", number=8, parallel=2)  # a second plan only B has
    result = compare_runs(run_a, run_b)
    assert [(p.plan_a, p.plan_b) for p in result.plans] == [("parallel_4_number_40", "parallel_4_number_24")]
    assert result.only_in_a == [] and result.only_in_b == ["parallel_2_number_8"]


def test_console_and_json_output(tmp_path, capsys):
    run_a = synthetic_run(tmp_path / "a", repeats=2, seed=1)
    run_b = synthetic_run(tmp_path / "b", repeats=2, seed=2, scale=5.0)
    code, out, err = cli(capsys, str(run_a), str(run_b))
    assert code == 0, err
    for text in ("parallel_4_number_40", "TTFT p99 (s)", "welch", "B worse (beyond the noise)", "Welch's t-test"):
        assert text in out
    code, out, err = cli(capsys, str(run_a), str(run_b), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["alpha"] == 0.05 and data["plans"][0]["repeats_a"] == 2
    ttft = next(m for m in data["plans"][0]["metrics"] if m["metric"] == "mean_ttft_s")
    assert ttft["test"] == "welch" and ttft["significant"] is True and len(ttft["ci95"]) == 2
    assert {"a", "b", "difference", "relative_difference", "p_value", "verdict"} <= set(ttft)


def test_bad_inputs_are_one_line_exit_2(tmp_path, capsys):
    good = synthetic_run(tmp_path / "good")
    (tmp_path / "empty").mkdir()
    broken = synthetic_run(tmp_path / "broken")
    (broken / "parallel_4_number_40" / "summary.json").write_text("{not json")
    bad_records = synthetic_run(tmp_path / "bad_records", seed=4)
    (bad_records / "parallel_4_number_40" / "records.sqlite").write_bytes(b"not a database" * 100)
    other = synthetic_run(tmp_path / "other", parallel=2, number=8)
    for args, message in (
        ([str(good), str(tmp_path / "missing")], "no such run folder"),
        ([str(tmp_path / "empty"), str(good)], "summary.json"),
        ([str(good), str(broken)], "unreadable"),
        ([str(good), str(bad_records)], "unreadable"),
        ([str(good), str(other)], "no plan in common"),
        ([str(good)], "Missing argument"),
    ):
        code, out, err = cli(capsys, *args)
        assert code == 2 and err.startswith("error:") and message in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
    with pytest.raises(ConfigError):
        compare_runs(good, tmp_path / "missing")


# ---- against the simulator ----------------------------------------------------------------------------------


def _perf(sim, folder, repeats: int):
    return run_perf(PerfConfig(url=sim.base_url + "/chat/completions", model="assay-sim", prompt="Tell me a story.",
                               outputs_dir=str(folder), charts=False, max_tokens=8, parallel=[4], number=[16],
                               repeats=repeats)).run_dir


def test_five_times_the_latency_is_flagged_and_the_same_settings_mostly_are_not(tmp_path):
    fast = SimConfig(port=0, latency_model="fixed", ttft_ms=20, itl_ms=5, output_len="8", jitter=0.3)
    slow = fast.model_copy(update={"ttft_ms": 100.0, "itl_ms": 25.0})
    with SimProcess(fast) as sim:
        a, a_again = _perf(sim, tmp_path / "a", 3), _perf(sim, tmp_path / "a2", 3)
        a_single = _perf(sim, tmp_path / "a1", 1)
    with SimProcess(slow) as sim:
        b, b_single = _perf(sim, tmp_path / "b", 3), _perf(sim, tmp_path / "b1", 1)
    with_repeats = by_metric(compare_runs(a, b))
    for key in ("mean_ttft_s", "p50_ttft_s", "mean_itl_s", "p50_itl_s", "mean_latency_s"):
        m = with_repeats[key]
        assert m.test == "welch" and m.significant and m.difference > 0, (key, m)
    per_request = by_metric(compare_runs(a_single, b_single))
    for key in ("mean_ttft_s", "p50_ttft_s", "mean_itl_s", "p50_itl_s", "mean_latency_s"):
        m = per_request[key]
        assert m.test == "bootstrap" and m.significant and m.difference > 0, (key, m)
    same = compare_runs(a, a_again).plans[0].metrics
    assert all(m.test == "welch" for m in same)
    assert sum(bool(m.significant) for m in same) <= len(same) // 2, [(m.metric, m.p_value) for m in same]
