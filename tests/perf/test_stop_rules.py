"""Sweep stop rules against the simulator: saturation past its batch limit, error rates from its injected
faults, the mid-plan error guard, and the CLI's one-line errors for bad values."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assay.perf import PerfConfig, run_perf
from assay.perf.stop_rules import SWEEP_STATUS_FILE, ErrorGuard
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(120)
URL = "http://127.0.0.1:1/v1"


def perf(sim, tmp_path, **kw):
    values = dict(url=sim.base_url + "/chat/completions", model="assay-sim", prompt="Tell me a story.",
                  outputs_dir=str(tmp_path), charts=False)
    values.update(kw)
    return run_perf(PerfConfig(**values))


def test_sweep_past_the_sims_capacity_stops_on_saturation(tmp_path):
    # At most 4 sequences decoded at once: past 4 in flight, requests queue (latency up, throughput flat).
    config = SimConfig(port=0, latency_model="engine", ttft_ms=5, itl_ms=4, itl_ms_per_seq=0.25,
                       prefill_ms_per_token=0, max_batch_size=4, output_len="16")
    with SimProcess(config) as sim:
        result = perf(sim, tmp_path, parallel=[1, 4, 16, 64, 128], number=[8, 24, 64, 192, 256], max_tokens=16,
                      stop_on_saturation=True)
    stopped = result.stopped_early
    assert stopped is not None and stopped.rule == "saturation", result.sweep
    assert stopped.plan in ("parallel_16_number_64", "parallel_64_number_192")
    assert stopped.numbers["throughput_gain_pct"] <= 10 and stopped.numbers["latency_rise_pct"] > 50
    sweep = result.sweep
    assert sweep.completed[-1] == stopped.plan and "parallel_128_number_256" in sweep.skipped
    assert sweep.completed + sweep.skipped == sweep.planned
    assert [s.plan for s in result.summaries] == sweep.completed
    on_disk = json.loads((result.run_dir / SWEEP_STATUS_FILE).read_text())
    assert on_disk["stopped_early"]["rule"] == "saturation" and on_disk["skipped"] == sweep.skipped
    assert on_disk["rules"]["saturation_latency_rise_pct"] == 50
    assert not (result.run_dir / "parallel_128_number_256").exists()


def test_sweep_against_failing_server_stops_on_the_error_rule(tmp_path):
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=1, itl_ms=1, output_len="4", error_rate=0.5, seed=3)
    with SimProcess(config) as sim:
        result = perf(sim, tmp_path, parallel=[2, 4, 8], number=[40], max_tokens=4, test_connection=False,
                      stop_error_rate=20)
    stopped = result.stopped_early
    assert stopped is not None and stopped.rule == "error_rate" and stopped.plan == "parallel_2_number_40"
    assert stopped.numbers["error_rate_pct"] > 20 and stopped.numbers["cut_short"] is False
    assert "http_status 500" in stopped.message
    assert result.sweep.skipped == ["parallel_4_number_40", "parallel_8_number_40"]
    assert len(result.summaries) == 1 and result.summaries[0].total_requests == 40


def test_no_rule_tripped_runs_every_plan_and_says_so(tmp_path):
    with SimProcess(SimConfig(port=0, latency_model="fixed", ttft_ms=1, itl_ms=1, output_len="4")) as sim:
        result = perf(sim, tmp_path, parallel=[1, 2], number=[6], max_tokens=4, stop_error_rate=5)
    assert result.stopped_early is None and result.sweep.skipped == []
    status = json.loads((result.run_dir / SWEEP_STATUS_FILE).read_text())
    assert status["completed"] == status["planned"] and status["stopped_early"] is None


def test_mid_plan_guard_cuts_the_plan_short(tmp_path):
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=1, itl_ms=1, output_len="4", error_rate=0.6, seed=1)
    with SimProcess(config) as sim:
        result = perf(sim, tmp_path, parallel=[2, 4], number=[2000], max_tokens=4, test_connection=False,
                      stop_error_rate=30, stop_error_after=20)
    (summary,) = result.summaries
    assert 20 <= summary.total_requests < 100 and not summary.interrupted  # the guard, then in-flight ones finish
    assert not result.interrupted
    stopped = result.stopped_early
    assert stopped.rule == "error_rate" and stopped.numbers["cut_short"] is True
    assert result.sweep.skipped == ["parallel_4_number_2000"]


def test_mid_plan_guard_also_ends_the_plans_repeats(tmp_path):
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=1, itl_ms=1, output_len="4", error_rate=0.6, seed=4)
    with SimProcess(config) as sim:
        result = perf(sim, tmp_path, parallel=[2], number=[500], max_tokens=4, test_connection=False, repeats=3,
                      stop_error_rate=30, stop_error_after=20)
    (summary,) = result.summaries
    assert summary.total_requests < 100 and summary.repeats == 1
    assert result.stopped_early.numbers["cut_short"] is True


def test_error_guard_waits_for_its_count():
    guard = ErrorGuard(after=10, error_rate_pct=50)
    assert not guard.check(5, 5)  # too few yet
    assert not guard.check(10, 5)  # 50% is not over 50%
    assert guard.check(11, 6) and guard.check(12, 6)  # tripped, and stays so
    config = PerfConfig(url=URL, model="m", stop_error_rate=10, stop_error_after=9)
    assert ErrorGuard.from_config(config, workers=4).after == 3
    assert ErrorGuard.from_config(PerfConfig(url=URL, model="m", stop_error_rate=10)) is None


def assay(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_KEY": "", "ASSAY_API_KEY": "", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "assay", "perf", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=env)


def test_cli_prints_the_reason_and_the_skipped_plans(tmp_path):
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=1, itl_ms=1, output_len="4", error_rate=0.5, seed=2)
    with SimProcess(config) as sim:
        proc = assay("--url", sim.base_url, "--model", "assay-sim", "--prompt", "hi", "--parallel", "2", "4",
                     "--number", "30", "--max-tokens", "4", "--no-test-connection", "--stop-error-rate", "10",
                     "--no-charts", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "sweep stopped early (error_rate)" in proc.stdout
    assert "skipped plans: parallel_4_number_30" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--ramp", "quadratic"], "--ramp"),
    (["--ramp", "linear"], "--ramp-duration"),
    (["--ramp", "linear", "--ramp-duration", "3x"], "not a duration"),
    (["--ramp", "linear", "--ramp-duration", "-5"], "--ramp-duration"),
    (["--ramp-start", "2"], "needs --ramp linear or exponential"),
    (["--ramp", "linear", "--ramp-duration", "5s", "--rate", "10", "--ramp-start", "50"], "above the target"),
    (["--stop-error-rate", "150"], "--stop-error-rate"),
    (["--stop-error-after", "5"], "needs --stop-error-rate"),
    (["--saturation-latency-rise", "20"], "needs --stop-on-saturation"),
    (["--stop-on-saturation", "--saturation-latency", "ttft", "--no-stream"], "streaming"),
    (["--stop-on-saturation", "--sla-auto-tune", "--slo", "ttft_ms=100"], "--sla-auto-tune"),
])
def test_bad_values_are_one_line_and_exit_2(tmp_path, args, message):
    proc = assay("--url", URL, "--model", "m", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], proc.stderr
