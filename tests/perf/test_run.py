"""run_perf end to end against a scripted server: files, counts, failures, preflight errors, schedules."""

from __future__ import annotations

import gc
import json
import socket
import threading
import time

import numpy as np
import pytest
from aiohttp import web

from assay.errors import ModelError
from assay.perf import PerfConfig, run_perf
from assay.perf.records import iter_rows, read_meta

from .conftest import Script

pytestmark = pytest.mark.timeout(60)


def config(server, tmp_path, prompts_file, **kw) -> PerfConfig:
    values = dict(url=server.base_url + "/chat/completions", model="m", dataset="line_by_line",
                  dataset_path=str(prompts_file), outputs_dir=str(tmp_path), charts=False, max_tokens=64)
    values.update(kw)
    return PerfConfig(**values)


def test_closed_loop_writes_records_summary_and_percentiles(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=6, ttft_s=0.01, itl_s=0.002))
    result = run_perf(config(server, tmp_path, prompts_file, parallel=[3], number=[12], charts=True))
    (summary,) = result.summaries
    plan_dir = result.run_dir / "parallel_3_number_12"
    assert {p.name for p in plan_dir.iterdir()} >= {
        "records.sqlite", "summary.json", "percentiles.json", "latency_distribution.png"}
    assert (result.run_dir / "config.yaml").is_file()
    assert summary.total_requests == summary.succeeded_requests == 12
    assert summary.total_output_tokens == 72 and summary.output_token_source == "server"
    assert summary.itl_samples == 12 * 5
    assert 0.009 < summary.median_ttft_s < 0.2  # never under the server's delay; more on a busy machine
    assert gc.get_freeze_count() == 0  # the collector is back as it was (tuned only while the plan ran)
    rows = json.loads((plan_dir / "percentiles.json").read_text())
    assert [r["percentile"] for r in rows] == ["p10", "p25", "p50", "p66", "p75", "p80", "p90", "p95", "p98", "p99"]
    assert json.loads((plan_dir / "summary.json").read_text())["succeeded_requests"] == 12
    records = list(iter_rows(plan_dir / "records.sqlite"))
    assert len(records) == 12 and sorted(r["request_index"] for r in records) == list(range(12))
    assert [r["prompt_index"] for r in sorted(records, key=lambda r: r["request_index"])][:4] == [0, 1, 2, 0]
    assert read_meta(plan_dir / "records.sqlite")["plan"] == "parallel_3_number_12"
    # Sent bodies carry the generation settings, and the stream asks for usage.
    body = server.script.seen[-1]["body"]
    assert body["max_tokens"] == 64 and body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_api_key_is_sent_but_never_stored(scripted, tmp_path, prompts_file):
    server = scripted()
    secret = "sk-never-on-disk-123"
    result = run_perf(config(server, tmp_path, prompts_file, number=[2], api_key=secret,
                             headers=["X-Api-Key=also-secret", "X-Trace=1"]))
    assert server.script.seen[-1]["headers"]["Authorization"] == f"Bearer {secret}"
    assert server.script.seen[-1]["headers"]["X-Trace"] == "1"
    for path in result.run_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in data and b"also-secret" not in data, path


def test_failures_are_counted_per_kind_and_the_run_goes_on(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=4, fail_every=4))
    result = run_perf(config(server, tmp_path, prompts_file, parallel=[1], number=[20], test_connection=False))
    (summary,) = result.summaries
    assert summary.total_requests == 20
    assert summary.failed_requests == 5 and summary.error_kinds == {"http_status 500": 5}
    assert summary.succeeded_requests == 15 and summary.total_output_tokens == 60


def test_no_stream_and_completions_endpoint(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=5))
    result = run_perf(config(server, tmp_path, prompts_file, url=server.base_url + "/completions", stream=False,
                             number=[3]))
    (summary,) = result.summaries
    assert summary.succeeded_requests == 3 and summary.total_output_tokens == 15
    # No stream: no first token, nothing per token to time; latency and token counts still hold.
    assert summary.mean_ttft_s is None and summary.mean_tpot_s is None and summary.itl_samples == 0
    assert summary.mean_latency_s > 0
    assert server.script.seen[-1]["body"]["prompt"] in ("What is 2+2?", "Name a colour.", "Why is the sky blue?")


def test_warmup_requests_are_not_recorded(scripted, tmp_path, prompts_file):
    server = scripted()
    result = run_perf(config(server, tmp_path, prompts_file, number=[4], warmup=3))
    assert result.summaries[0].total_requests == 4
    assert server.count == 1 + 3 + 4  # preflight, warm-up, plan


def test_open_loop_keeps_its_schedule(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=2, ttft_s=0.005))
    result = run_perf(config(server, tmp_path, prompts_file, rate=[100], number=[150], rate_distribution="constant"))
    (summary,) = result.summaries
    rows = list(iter_rows(result.run_dir / summary.plan / "records.sqlite"))
    scheduled = np.array(sorted(r["scheduled_s"] for r in rows))
    assert np.allclose(np.diff(scheduled), 0.01, atol=1e-6)  # absolute schedule, 10 ms apart
    lags = np.array([r["start_s"] - r["scheduled_s"] for r in rows])
    # Never early (what the scheduler controls); late only by what a busy machine costs.
    assert lags.min() > -0.0005 and np.median(lags) < 0.05
    assert 50 < summary.request_throughput_rps <= 100 * 1.02  # never faster than the schedule


def test_open_loop_concurrency_cap_shows_as_send_lag(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=2, ttft_s=0.1))
    result = run_perf(config(server, tmp_path, prompts_file, rate=[100], parallel=[2], number=[20],
                             rate_distribution="constant"))
    (summary,) = result.summaries
    # Two slots of 100 ms each serve 20 req/s, not 100: requests go out late, and the report says so.
    assert summary.request_throughput_rps < 25
    assert summary.health.send_lag_p99_ms > 100
    assert any("after their scheduled time" in w for w in summary.health.warnings)


def test_duration_limit_stops_sending(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=2, ttft_s=0.02))
    start = time.monotonic()
    result = run_perf(config(server, tmp_path, prompts_file, parallel=[2], number=[10_000], duration=0.5))
    assert time.monotonic() - start < 5
    assert 10 < result.summaries[0].total_requests < 100


def test_ctrl_c_stops_cleanly_and_keeps_what_finished(scripted, tmp_path, prompts_file):
    import os
    import signal

    server = scripted(Script(chunks=2, ttft_s=0.02))
    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    result = run_perf(config(server, tmp_path, prompts_file, parallel=[2], number=[10_000, 10], duration=None))
    assert result.interrupted and len(result.summaries) == 1
    (summary,) = result.summaries
    assert summary.interrupted and 10 < summary.total_requests < 10_000
    assert json.loads((result.run_dir / summary.plan / "summary.json").read_text())["interrupted"] is True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_preflight_unreachable_url(tmp_path, prompts_file):
    class Dead:
        base_url = f"http://127.0.0.1:{_free_port()}/v1"

    with pytest.raises(ModelError, match="cannot reach"):
        run_perf(config(Dead, tmp_path, prompts_file, connect_timeout=2))
    assert not (tmp_path / "perf").exists()  # nothing left behind by a mistyped URL


def test_preflight_wrong_path(scripted, tmp_path, prompts_file):
    server = scripted()
    with pytest.raises(ModelError, match="404.*check the URL path"):
        run_perf(config(server, tmp_path, prompts_file, url=server.base_url.replace("/v1", "/api/v2")))


def test_preflight_auth_and_non_openai(scripted, tmp_path, prompts_file):
    with pytest.raises(ModelError, match="--api-key"):
        run_perf(config(scripted(Script(status=401)), tmp_path, prompts_file))


def test_preflight_html_page_is_not_an_openai_api(tmp_path, prompts_file):
    from .conftest import ScriptedServer

    class HtmlServer(ScriptedServer):
        async def _handle(self, request):
            return web.Response(text="<html>login</html>", content_type="text/html")

    with HtmlServer(Script()) as server:
        with pytest.raises(ModelError, match="OpenAI-compatible"):
            run_perf(config(server, tmp_path, prompts_file))


def test_workers_share_the_plan_and_records_merge(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=3, ttft_s=0.005))
    result = run_perf(config(server, tmp_path, prompts_file, parallel=[4], number=[30], num_workers=3))
    (summary,) = result.summaries
    assert summary.total_requests == summary.succeeded_requests == 30 and summary.workers == 3
    rows = list(iter_rows(result.run_dir / summary.plan / "records.sqlite"))
    assert sorted(r["request_index"] for r in rows) == list(range(30))
    assert {r["worker"] for r in rows} == {0, 1, 2}
    assert sorted(p.name for p in (result.run_dir / summary.plan).glob("records*")) == ["records.sqlite"]
    assert all(r["start_s"] > -0.001 for r in rows)  # one clock and one start instant for every worker


def test_sla_auto_tune_finds_the_highest_passing_concurrency(tmp_path, prompts_file):
    """A server whose TTFT is 100 ms per request in flight: a 490 ms TTFT SLO holds up to concurrency 4.
    Scheduling noise on a busy machine only ever adds to a measured TTFT, so the SLO sits 90 ms above the
    passing level (400 ms) and 10 ms below the failing one (500 ms): noise cannot turn a pass into a fail,
    and it can only make a fail fail harder."""
    import asyncio as aio

    from .conftest import ScriptedServer

    class Loaded(ScriptedServer):
        in_flight = 0

        async def _handle(self, request):
            Loaded.in_flight += 1
            try:
                await aio.sleep(0.1 * Loaded.in_flight)
                return await super()._handle(request)
            finally:
                Loaded.in_flight -= 1

    with Loaded(Script(chunks=2)) as server:
        result = run_perf(config(server, tmp_path, prompts_file, sla_auto_tune=True, slo=["ttft_ms=490"],
                                 sla_upper_bound=16, sla_requests_per_unit=4, sla_met_fraction=0.9))
    tuning = result.tuning
    assert tuning.best == 4, tuning.trials
    assert [t.value for t in tuning.trials][:4] == [1, 2, 4, 8]
    assert (result.run_dir / "sla_auto_tune.json").is_file()


def test_multi_turn_conversations_grow_the_context(scripted, tmp_path):
    path = tmp_path / "conv.json"
    path.write_text(json.dumps([{"conversations": [
        {"from": "human", "value": "first"}, {"from": "gpt", "value": "a"}, {"from": "human", "value": "second"},
        {"from": "gpt", "value": "b"}, {"from": "human", "value": "third"}]}]))
    server = scripted(Script(chunks=2))
    result = run_perf(PerfConfig(url=server.base_url, model="m", dataset="sharegpt", dataset_path=str(path),
                                 multi_turn=True, number=[2], outputs_dir=str(tmp_path), charts=False,
                                 test_connection=False))
    assert result.summaries[0].total_requests == 6  # 2 conversations x 3 turns
    last = server.script.seen[-1]["body"]["messages"]
    assert [m["role"] for m in last] == ["user", "assistant", "user", "assistant", "user"]
    assert last[-1]["content"] == "third" and last[1]["content"] == "x x "


@pytest.mark.timeout(60)
def test_sla_auto_tune_finds_the_highest_passing_rate(tmp_path, prompts_file):
    """A server that answers in 5 ms while requests come at most ~10.5/s and in 60 ms when they come faster:
    with a 30 ms TTFT SLO the search must settle near a rate of 10.5 requests/s.

    The server judges the rate by the mean of the last three gaps between arrivals, not by one gap: a send
    that a busy machine delays by d lengthens one gap and shortens the next, and over three gaps only the
    ends count, so it takes a 14 ms hiccup (not 5 ms) to make one request look fast. The accepted range
    leaves the search a step either side of 10.5 for the few hiccups that are larger still."""
    import asyncio as aio

    from .conftest import ScriptedServer

    class RateSensitive(ScriptedServer):
        arrivals: list[float] = []

        async def _handle(self, request):
            RateSensitive.arrivals.append(time.monotonic())
            recent = RateSensitive.arrivals[-4:]
            steady = len(recent) < 4 or (recent[-1] - recent[0]) / 3 >= 1 / 10.5
            await aio.sleep(0.005 if steady else 0.06)
            return await super()._handle(request)

    with RateSensitive(Script(chunks=2)) as server:
        result = run_perf(config(server, tmp_path, prompts_file, sla_auto_tune=True, sla_variable="rate",
                                 slo=["ttft_ms=30"], sla_lower_bound=4, sla_upper_bound=64, sla_requests_per_unit=1,
                                 sla_met_fraction=0.75, rate_distribution="constant", test_connection=False))
    tuning = result.tuning
    assert tuning.variable == "rate" and 9.5 <= tuning.best <= 11.5, tuning.trials
    assert [(t.value, t.passed) for t in tuning.trials][:3] == [(4, True), (8, True), (16, False)]
    # Open loop with no --parallel: no concurrency cap, and each trial's plan is a rate plan.
    assert all(s.rate is not None and s.parallel is None for s in result.summaries)


@pytest.mark.parametrize("kind", ["auto", "asyncio", "uvloop"])
def test_the_event_loop_option_picks_the_loop(kind, monkeypatch):
    """auto is asyncio's own loop where reads get kernel receive stamps (Linux), uvloop elsewhere."""
    import asyncio
    import sys

    from assay.perf.run_setup import event_loop_run

    seen = []

    async def probe() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__)

    event_loop_run(probe(), kind)
    uvloop_installed = __import__("importlib").util.find_spec("uvloop") is not None
    expected = {"asyncio": "asyncio", "uvloop": "uvloop" if uvloop_installed else "asyncio",
                "auto": "asyncio" if sys.platform == "linux" else ("uvloop" if uvloop_installed else "asyncio")}[kind]
    assert seen[0].split(".")[0] == expected


def test_both_event_loops_run_a_plan(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=4))
    for kind in ("asyncio", "uvloop"):
        config = PerfConfig(url=server.base_url, model="m", parallel=[4], number=[12], dataset="line_by_line",
                            dataset_path=str(prompts_file), charts=False, outputs_dir=str(tmp_path / kind),
                            event_loop=kind)
        summary = run_perf(config).summaries[0]
        assert summary.succeeded_requests == 12 and summary.failed_requests == 0
