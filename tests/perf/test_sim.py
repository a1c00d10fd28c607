"""End to end against the simulator (a child process) with known latency: the numbers must match the truth."""

from __future__ import annotations

import json
import urllib.request

import pytest

from assay.perf import PerfConfig, run_perf
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(90)


def perf(sim, tmp_path, **kw):
    values = dict(url=sim.base_url + "/chat/completions", model="assay-sim", prompt="Tell me a story.",
                  outputs_dir=str(tmp_path), charts=False)
    values.update(kw)
    return run_perf(PerfConfig(**values))


def sim_stats(sim) -> dict:
    with urllib.request.urlopen(sim.base_url.removesuffix("/v1") + "/sim/stats", timeout=5) as resp:
        return json.loads(resp.read())


def test_fixed_latency_is_measured_within_tolerance(tmp_path):
    # Truth: 50 ms to the first token, then 10 ms between tokens, 32 tokens per answer.
    with SimProcess(SimConfig(port=0, latency_model="fixed", ttft_ms=50, itl_ms=10, output_len="32")) as sim:
        result = perf(sim, tmp_path, parallel=[8], number=[48], max_tokens=32, warmup=8)
    s = result.summaries[0]
    assert s.succeeded_requests == 48 and s.output_token_source == "server"
    assert s.mean_output_tokens == 32
    # The client stamps bytes as they arrive on loopback. A busy machine only delays: the lower bounds sit at
    # the truth, the upper ones leave room for load (after a delay the simulator's absolute deadlines catch
    # up, so gaps may also come shorter). The precise check is bench/timing_accuracy.py.
    assert 49 <= s.median_ttft_s * 1000 < 90
    assert 6 < s.median_itl_s * 1000 < 25
    assert 7 < s.median_tpot_s * 1000 < 20
    expected_latency_s = 0.050 + 31 * 0.010
    assert 0.98 * expected_latency_s <= s.median_latency_s < 1.5 * expected_latency_s
    assert 0.5 * 8 / expected_latency_s < s.request_throughput_rps <= 1.05 * 8 / expected_latency_s
    assert s.itl_samples == 48 * 31


def test_engine_sweep_saturates_past_max_batch_size(tmp_path):
    # A continuous-batching engine that decodes at most 8 sequences at once: beyond 8 in flight,
    # requests queue, so throughput stops growing and latency climbs.
    config = SimConfig(port=0, latency_model="engine", ttft_ms=5, itl_ms=4, itl_ms_per_seq=0.25,
                       prefill_ms_per_token=0, max_batch_size=8, output_len="24")
    with SimProcess(config) as sim:
        result = perf(sim, tmp_path, parallel=[2, 8, 32], number=[16, 48, 128], max_tokens=24, charts=True)
    by_parallel = {s.parallel: s for s in result.summaries}
    rps = {p: s.request_throughput_rps for p, s in by_parallel.items()}
    latency = {p: s.median_latency_s for p, s in by_parallel.items()}
    assert rps[8] > 1.5 * rps[2]  # below the batch limit, more concurrency = more throughput (3x when idle)
    assert rps[32] < 1.3 * rps[8]  # past it, throughput saturates
    assert latency[32] > 2.5 * latency[8]  # ... and latency rises with the queue
    assert by_parallel[32].median_ttft_s > 3 * by_parallel[8].median_ttft_s  # queueing shows up as TTFT
    assert (result.run_dir / "sweep.png").is_file() and (result.run_dir / "sweep.json").is_file()


def test_faults_are_counted_per_kind_and_the_run_goes_on(tmp_path):
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=0, itl_ms=0, output_len="8", seed=7,
                       error_rate=0.1, rate_429=0.1, disconnect_rate=0.1, malformed_rate=0.1, error_200_rate=0.05)
    with SimProcess(config) as sim:
        result = perf(sim, tmp_path, parallel=[8], number=[300], max_tokens=8, test_connection=False)
        injected = sim_stats(sim)["faults"]
    s = result.summaries[0]
    assert s.total_requests == 300
    assert s.error_kinds.get("http_status 500", 0) == injected["error"] > 0
    assert s.error_kinds.get("http_status 429", 0) == injected["429"] > 0
    assert s.error_kinds.get("disconnect", 0) == injected["disconnect"] > 0
    assert s.error_kinds.get("malformed", 0) == injected["malformed"] > 0
    assert s.error_kinds.get("server_error", 0) == injected["error_200"] > 0
    assert s.failed_requests == sum(injected.values())
    assert s.succeeded_requests == 300 - s.failed_requests and s.mean_output_tokens == 8


def test_stalled_stream_ends_at_the_read_timeout(tmp_path):
    with SimProcess(SimConfig(port=0, latency_model="fixed", ttft_ms=1, itl_ms=1, output_len="8")) as sim:
        result = perf(sim, tmp_path, parallel=[3], number=[3], headers=["X-Sim-Fault=stall"], read_timeout=0.5,
                      test_connection=False)
    s = result.summaries[0]
    assert s.error_kinds == {"read_timeout": 3}
    assert s.duration_s < 10  # 0.5 s read timeout, not the stall's length


def test_reasoning_counts_for_ttft(tmp_path):
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=20, itl_ms=5, output_len="8", reasoning="field",
                       reasoning_len="10")
    with SimProcess(config) as sim:
        s = perf(sim, tmp_path, parallel=[2], number=[4], max_tokens=64).summaries[0]
    # The first token is the first reasoning delta, not the first answer text 10 tokens later.
    assert 19 <= s.median_ttft_s * 1000 < 60
