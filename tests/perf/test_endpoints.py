"""Several --url endpoints (replicas with no balancer in front): requests spread over them, each record tagged
with its endpoint, a per-endpoint summary, every endpoint checked before the run. Two `assay sim` servers on
127.0.0.1; no assert leans on exact timings."""

from __future__ import annotations

import json
import socket
import sqlite3

import pytest

from assay.client.endpoints import EndpointPicker, one_or_several_urls
from assay.errors import ConfigError, ModelError
from assay.perf import PerfConfig, run_perf
from assay.perf.finish import rebuild_run
from assay.perf.records import RecordWriter, RequestRecord, iter_rows, merge_records, read_columns, read_endpoints
from assay.perf.metrics import RequestMetrics
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(120)


def _sim(ttft_ms: float = 5, itl_ms: float = 1) -> SimProcess:
    return SimProcess(SimConfig(latency_model="fixed", ttft_ms=ttft_ms, itl_ms=itl_ms, output_len="4"))


@pytest.fixture(scope="module")
def two_sims():
    with _sim() as first, _sim() as second:
        yield first.base_url, second.base_url


def _config(urls, tmp_path, prompts_file, **extra) -> PerfConfig:
    values = dict(url=urls, model="m", dataset="line_by_line", dataset_path=str(prompts_file), parallel=[4],
                  number=[40], max_tokens=4, charts=False, outputs_dir=str(tmp_path), server_metrics="off")
    return PerfConfig(**{**values, **extra})


def _per_endpoint(result) -> dict[str, int]:
    (summary,) = result.summaries
    counts: dict[str, int] = {}
    for row in iter_rows(result.plan_dir(summary) / "records.sqlite"):
        counts[row["endpoint"]] = counts.get(row["endpoint"], 0) + 1
    return counts


def test_round_robin_spreads_requests_and_summarises_each_endpoint(two_sims, tmp_path, prompts_file):
    first, second = two_sims
    result = run_perf(_config([first, second], tmp_path, prompts_file))
    assert _per_endpoint(result) == pytest.approx({first: 20, second: 20}, abs=2)
    (summary,) = result.summaries
    assert summary.total_requests == 40 and summary.failed_requests == 0
    assert [e.endpoint for e in summary.endpoints] == [first, second]
    assert sum(e.total_requests for e in summary.endpoints) == 40
    assert sum(e.request_throughput_rps for e in summary.endpoints) == pytest.approx(summary.request_throughput_rps)
    for part in summary.endpoints:
        assert part.percentiles["e2e_latency_s"]["p50"] > 0 and part.percentiles["ttft_s"]["p99"] is not None
    written = json.loads((result.plan_dir(summary) / "summary.json").read_text())
    assert [e["endpoint"] for e in written["endpoints"]] == [first, second]
    config = (result.run_dir / "config.yaml").read_text()
    assert first in config and second in config


def test_rebuild_writes_the_same_per_endpoint_summary(two_sims, tmp_path, prompts_file):
    result = run_perf(_config(list(two_sims), tmp_path, prompts_file, number=[12]))
    (before,) = result.summaries
    (after,), _ = rebuild_run(result.run_dir)
    assert [e.model_dump() for e in after.endpoints] == [e.model_dump() for e in before.endpoints]


def test_least_loaded_sends_fewer_requests_to_the_slow_endpoint(tmp_path, prompts_file):
    with _sim(ttft_ms=2) as fast, _sim(ttft_ms=400) as slow:
        urls = fast.base_url, slow.base_url
        result = run_perf(_config(list(urls), tmp_path, prompts_file, endpoint_policy="least-loaded"))
    counts = _per_endpoint(result)
    assert sum(counts.values()) == 40
    assert counts.get(urls[1], 0) < counts[urls[0]] / 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_dead_second_endpoint_stops_the_run_at_the_preflight_naming_it(two_sims, tmp_path, prompts_file):
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(ModelError, match=f"cannot reach {dead}") as caught:
        run_perf(_config([two_sims[0], dead], tmp_path, prompts_file, connect_timeout=2))
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "perf").exists()


def test_worker_processes_each_spread_over_every_endpoint(two_sims, tmp_path, prompts_file):
    first, second = two_sims
    result = run_perf(_config([first, second], tmp_path, prompts_file, num_workers=2, number=[20]))
    (summary,) = result.summaries
    assert summary.total_requests == 20 and summary.workers == 2
    rows = list(iter_rows(result.plan_dir(summary) / "records.sqlite"))
    for worker in (0, 1):
        assert {r["endpoint"] for r in rows if r["worker"] == worker} == {first, second}


def test_one_url_is_kept_as_before(tmp_path):
    config = PerfConfig(url=["http://127.0.0.1:8000/v1/chat/completions"], model="m")
    assert config.url == "http://127.0.0.1:8000/v1/chat/completions"
    assert config.public_dump()["url"] == config.url
    assert config.endpoint_labels == ["http://127.0.0.1:8000/v1"]


def test_several_urls_are_checked_and_their_credentials_redacted():
    config = PerfConfig(url=["http://u:pw@127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1?api_key=s3"], model="m")
    dumped = config.public_dump()["url"]
    assert dumped == ["http://***@127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1?api_key=***"]
    assert config.endpoint_labels == ["http://***@127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1?api_key=***"]
    with pytest.raises(ValueError, match="different APIs"):
        PerfConfig(url=["http://h:1/v1/chat/completions", "http://h:2/v1/completions"], model="m")
    with pytest.raises(ValueError, match="given twice"):
        PerfConfig(url=["http://h:1/v1", "http://h:1/v1/chat/completions"], model="m")


@pytest.mark.parametrize("argv", [["--url", "http://h:1/v1", "--url", "http://h:2/v1"],
                                  ["--url", "http://h:1/v1", "http://h:2/v1"]])
def test_the_cli_takes_url_repeated_or_with_several_values(argv):
    from assay.cli.main import build_cli
    from assay.cli.options import build_model, cli_values, expand_list_args

    cli = build_cli()
    perf = cli.commands["perf"]
    args = expand_list_args(cli, ["perf", *argv, "--model", "m", "--endpoint-policy", "least-loaded"])[1:]
    params = perf.make_context("perf", args, resilient_parsing=True).params
    config = build_model(PerfConfig, cli_values(PerfConfig, params))
    assert config.urls == ["http://h:1/v1", "http://h:2/v1"] and config.endpoint_policy == "least-loaded"


def test_the_picker_rotates_and_prefers_the_least_busy():
    picker = EndpointPicker(3)
    assert [picker.pick() for _ in range(6)] == [0, 1, 2, 0, 1, 2]
    least = EndpointPicker(2, "least-loaded")
    assert [least.pick(), least.pick()] == [0, 1]
    least.release(1)
    assert least.pick() == 1  # endpoint 0 still has one in flight
    assert EndpointPicker(2, start=1).pick() == 1
    assert one_or_several_urls(["a"]) == "a" and one_or_several_urls([]) is None
    with pytest.raises(ValueError):
        EndpointPicker(2, "random")  # type: ignore[arg-type]


def _record(endpoint: str | None) -> RequestRecord:
    metrics = RequestMetrics(ok=True, ttft_s=0.1, first_content_s=0.1, latency_s=0.2, tpot_s=0.01, input_tokens=3,
                             input_token_source="server", output_tokens=4, output_token_source="server",
                             reasoning_tokens=None)
    return RequestRecord(worker=0, request_index=0, prompt_index=0, turn=0, scheduled_s=0.0, start_s=0.0,
                         done_s=0.2, metrics=metrics, endpoint=endpoint)


def _drop_endpoint_column(path) -> None:
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE requests DROP COLUMN endpoint")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.commit()
    db.close()


def test_an_older_records_file_reads_as_the_runs_one_url(tmp_path):
    old = tmp_path / "old.sqlite"
    with RecordWriter(old) as writer:
        writer.add(_record(None))
    _drop_endpoint_column(old)
    url = "http://127.0.0.1:8000/v1"
    assert read_endpoints(old, url) == [url]
    assert [row["endpoint"] for row in iter_rows(old, default_endpoint=url)] == [url]
    columns, _ = read_columns(old, endpoint=url, default_endpoint=url)
    assert columns.total == 1
    merged = tmp_path / "merged.sqlite"
    merge_records(merged, [old])  # a part without the column merges; its rows have no endpoint
    assert read_endpoints(merged, url) == [url]


def test_an_older_run_folder_rebuilds_with_its_url(two_sims, tmp_path, prompts_file):
    result = run_perf(_config(two_sims[0], tmp_path, prompts_file, number=[6]))
    (summary,) = result.summaries
    records = result.plan_dir(summary) / "records.sqlite"
    assert {row["endpoint"] for row in iter_rows(records)} == {two_sims[0]}
    _drop_endpoint_column(records)
    db = sqlite3.connect(records)
    db.execute("DELETE FROM meta WHERE key = 'endpoints'")
    db.commit()
    db.close()
    (rebuilt,), _ = rebuild_run(result.run_dir)
    assert rebuilt.total_requests == 6 and rebuilt.endpoints is None
    assert "endpoints" not in json.loads((result.plan_dir(summary) / "summary.json").read_text())


def test_a_bad_second_url_is_a_config_error_naming_it():
    from assay.cli.options import build_model

    with pytest.raises(ConfigError, match="bad URL"):
        build_model(PerfConfig, {"url": ["http://h:1/v1", "h:2"], "model": "m"})
