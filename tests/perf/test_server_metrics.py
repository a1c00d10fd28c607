"""The server's own view: the simulator's /metrics scraped during a plan, and client minus server."""

from __future__ import annotations

import json
import math
import urllib.request

import pytest

from assay.perf import PerfConfig, run_perf
from assay.perf.records import read_server_metrics
from assay.perf.server_metrics import (
    Snapshot,
    build_view,
    detect_kind,
    histogram_quantile,
    metrics_url,
    parse_prometheus,
)
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(90)


def _perf(sim, tmp_path, **kw):
    values = dict(url=sim.base_url + "/chat/completions", model="assay-sim", prompt="Tell me a story.",
                  outputs_dir=str(tmp_path), charts=True, server_metrics_interval=0.2)
    values.update(kw)
    return run_perf(PerfConfig(**values))


def test_the_simulators_metrics_are_scraped_and_client_minus_server_reported(tmp_path):
    # Truth: the simulator answers 40 ms after a request's last byte and streams 16 tokens 10 ms apart.
    config = SimConfig(port=0, latency_model="engine", ttft_ms=40, itl_ms=10, prefill_ms_per_token=0,
                       max_batch_size=4, output_len="16")
    with SimProcess(config) as sim:
        result = _perf(sim, tmp_path, parallel=[8], number=[32], max_tokens=16)
        with urllib.request.urlopen(sim.base_url.removesuffix("/v1") + "/metrics", timeout=5) as resp:
            final = parse_prometheus(resp.read().decode())
    (summary,) = result.summaries
    view = summary.server
    assert view is not None and view.kind == "vllm" and view.scrapes >= 2
    # The server counted exactly this plan's requests (the baseline read is subtracted).
    assert view.latency["e2e"].count == view.latency["ttft"].count == 32
    assert final["vllm:request_success_total"][0][1] >= 32
    # 8 in flight against 4 batch slots: the server saw a queue and full slots.
    assert view.max_running == 4 and view.max_waiting >= 1 and view.max_kv_cache_usage == 1.0
    # The server's TTFT includes its queueing; the client's includes the network and its own overhead on top.
    server_ttft = view.latency["ttft"].mean_s
    assert server_ttft >= 0.039
    assert view.client_minus_server_ms["ttft"] == pytest.approx((summary.mean_ttft_s - server_ttft) * 1000)
    assert -5 < view.client_minus_server_ms["ttft"] < 100  # loopback: small, whatever the machine's load
    assert -5 < view.client_minus_server_ms["e2e"] < 100
    plan_dir = result.run_dir / summary.plan
    stored = json.loads((plan_dir / "summary.json").read_text())
    assert stored["server"]["client_minus_server_ms"]["ttft"] == pytest.approx(view.client_minus_server_ms["ttft"])
    series = read_server_metrics(plan_dir / "records.sqlite")
    assert {q for _, q, _ in series} >= {"running", "waiting", "kv_cache"}
    assert (plan_dir / "server_metrics.png").stat().st_size > 1000


def test_off_and_a_server_without_metrics_scrape_nothing(tmp_path, scripted):
    from tests.perf.conftest import Script

    server = scripted(Script(chunks=4))
    result = run_perf(PerfConfig(url=server.base_url + "/chat/completions", model="m", prompt="hi",
                                 outputs_dir=str(tmp_path), charts=False, parallel=[2], number=[4]))
    assert result.summaries[0].server is None  # auto: no /metrics there, nothing said
    with SimProcess(SimConfig(port=0)) as sim:
        off = _perf(sim, tmp_path / "off", parallel=[1], number=[2], server_metrics="off", charts=False)
    assert off.summaries[0].server is None


VLLM_TEXT = """# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="qwen"} 3.0
vllm:num_requests_running{engine="1",model_name="qwen"} 2.0
vllm:num_requests_waiting{engine="0",model_name="qwen"} 1.0
vllm:kv_cache_usage_perc{engine="0",model_name="qwen"} 0.25
vllm:prefix_cache_queries_total{engine="0",model_name="qwen"} 1000.0
vllm:prefix_cache_hits_total{engine="0",model_name="qwen"} 250.0
vllm:num_preemptions_total{engine="0",model_name="qwen"} 2.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="qwen"} 10.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.5",model_name="qwen"} 30.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="qwen"} 40.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="qwen"} 8.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="qwen"} 40.0
"""


def test_vllm_names_are_read_and_summed_over_engines():
    samples = parse_prometheus(VLLM_TEXT)
    assert detect_kind(samples) == "vllm"
    first = Snapshot.read(samples, "vllm", 0.0)
    assert first.values["running"] == 5.0 and first.values["kv_cache"] == 0.25
    later_text = (VLLM_TEXT.replace("} 1000.0", "} 1400.0").replace("hits_total{engine=\"0\",model_name=\"qwen\"} 250.0",
                                                                  "hits_total{engine=\"0\",model_name=\"qwen\"} 550.0")
                  .replace('le="0.1",model_name="qwen"} 10.0', 'le="0.1",model_name="qwen"} 20.0')
                  .replace('le="0.5",model_name="qwen"} 30.0', 'le="0.5",model_name="qwen"} 50.0')
                  .replace('le="+Inf",model_name="qwen"} 40.0', 'le="+Inf",model_name="qwen"} 60.0')
                  .replace("seconds_sum{engine=\"0\",model_name=\"qwen\"} 8.0", "seconds_sum{engine=\"0\",model_name=\"qwen\"} 12.0")
                  .replace("seconds_count{engine=\"0\",model_name=\"qwen\"} 40.0", "seconds_count{engine=\"0\",model_name=\"qwen\"} 60.0"))
    view = build_view("vllm", "http://h/metrics", [first, Snapshot.read(parse_prometheus(later_text), "vllm", 1.0)])
    # Between the reads: 400 prefix queries, 300 hits; 20 requests with 4.0 s of TTFT in all.
    assert view.prefix_cache_hit_rate == pytest.approx(0.75)
    assert view.latency["ttft"].count == 20 and view.latency["ttft"].mean_s == pytest.approx(0.2)
    # Of the 20: 10 in (0, 0.1], 10 in (0.1, 0.5]: the median is the top of the first bucket.
    assert view.latency["ttft"].p50_s == pytest.approx(0.1)
    assert view.preemptions == 0.0


def test_histogram_quantile_interpolates_as_prometheus_does():
    buckets = [(0.1, 10.0), (0.5, 30.0), (math.inf, 40.0)]
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1 + 0.4 * (20 - 10) / 20)
    assert histogram_quantile(0.99, buckets) == pytest.approx(0.5)  # in the open top bucket: its lower edge
    assert histogram_quantile(0.5, []) is None


def test_the_metrics_url_is_the_server_root_without_credentials():
    assert metrics_url("http://user:pw@10.0.0.1:8000/v1") == "http://10.0.0.1:8000/metrics"
    assert metrics_url("https://api.example/openai/v1") == "https://api.example/metrics"
