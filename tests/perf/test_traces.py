"""``--trace``: Mooncake and BurstGPT traces parsed, prompts rebuilt to their lengths with shared prefixes,
arrivals at the recorded times over the speed factor, and a replay against ``assay sim`` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assay.errors import DatasetError
from assay.perf import PerfConfig, run_perf
from assay.perf.datasets import load_prompt_set
from assay.perf.datasets.trace import TracePromptSet
from assay.perf.finish import PlanSettings, rebuild_run
from assay.perf.plans import build_plans
from assay.perf.records import iter_rows
from assay.perf.traces import BLOCK_TOKENS, detect_format, read_trace
from assay.sim import SimConfig, SimProcess
from assay.sim.answers import count_tokens
from assay.utils.tokenizer import load_tokenizer

from .conftest import Script
from .test_cli import assay

pytestmark = pytest.mark.timeout(90)

FIXTURES = Path(__file__).parent / "fixtures"
MOONCAKE = FIXTURES / "mooncake_trace.jsonl"
BURSTGPT = FIXTURES / "burstgpt_trace.csv"


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def trace_config(**kw) -> PerfConfig:
    values = dict(url="http://127.0.0.1:1/v1", model="m", trace=str(MOONCAKE), charts=False)
    values.update(kw)
    return PerfConfig(**values)


# ---- parsing ------------------------------------------------------------------------------------------------


def test_mooncake_jsonl_is_parsed_in_seconds_with_its_blocks():
    trace = read_trace(MOONCAKE)
    raw = lines_of(MOONCAKE)
    assert trace.format == "mooncake" and len(trace) == len(raw) == 20
    first = trace.requests[0]
    assert first.timestamp_s == raw[0]["timestamp"] / 1000
    assert (first.input_tokens, first.output_tokens) == (raw[0]["input_length"], raw[0]["output_length"])
    assert first.hash_ids == tuple(raw[0]["hash_ids"])


def test_burstgpt_csv_is_parsed_and_failed_rows_are_left_out():
    trace = read_trace(BURSTGPT)
    assert trace.format == "burstgpt"
    assert len(trace) == 11  # 12 rows, one with 0 response tokens (failed in the original service)
    first = trace.requests[0]
    assert (first.timestamp_s, first.input_tokens, first.output_tokens, first.hash_ids) == (2.5, 110, 14, ())
    assert all(r.output_tokens > 0 for r in trace.requests)
    assert trace.arrival_offsets_s(1.0)[-1] == pytest.approx(8.5 - 2.5)


def test_the_format_is_detected_from_the_content_without_an_extension(tmp_path):
    for source, kind in ((MOONCAKE, "mooncake"), (BURSTGPT, "burstgpt")):
        copy = tmp_path / f"{kind}_trace"
        shutil.copy(source, copy)
        assert detect_format(copy) == kind
        assert len(read_trace(copy)) == len(read_trace(source))


def test_limit_start_offset_and_unsorted_lines(tmp_path):
    path = tmp_path / "t.jsonl"
    rows = [{"timestamp": t, "input_length": 10, "output_length": 2, "hash_ids": [t]} for t in (3000, 0, 1000, 2000)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    trace = read_trace(path)
    assert [r.timestamp_s for r in trace.requests] == [0, 1, 2, 3]  # sent in time order
    assert [r.timestamp_s for r in read_trace(path, start_s=1.5).requests] == [2, 3]
    assert [r.timestamp_s for r in read_trace(path, start_s=1.0, limit=2).requests] == [1, 2]
    assert list(read_trace(path, start_s=1.5).arrival_offsets_s(2.0)) == [0.0, 0.5]  # relative to the first kept


@pytest.mark.parametrize("name, text, message", [
    ("bad.jsonl", '{"timestamp": 0, "input_length": 5, "output_length": 2}\nnot json\n', "bad.jsonl:2: not a JSON"),
    ("bad.jsonl", '[1, 2]\n', "expected a JSON object"),
    ("bad.jsonl", '{"timestamp": 0, "output_length": 2}\n', "input_length must be a number"),
    ("bad.jsonl", '{"timestamp": -5, "input_length": 5, "output_length": 2}\n', "timestamp must be a number >= 0"),
    ("bad.jsonl", '{"timestamp": 0, "input_length": 5.5, "output_length": 2}\n', "input_length must be a whole"),
    ("bad.jsonl", '{"timestamp": 0, "input_length": 5, "output_length": 0}\n', "output_length must be a whole"),
    ("bad.jsonl", '{"timestamp": 0, "input_length": 5, "output_length": 2, "hash_ids": "1,2"}\n', "hash_ids"),
    ("bad.jsonl", "\n\n", "has no requests"),
    ("bad.csv", "Timestamp,Model,Total tokens\n1,m,3\n", "missing Request tokens, Response tokens"),
    ("bad.csv", "Timestamp,Model,Request tokens,Response tokens\nsoon,m,3,4\n", "bad.csv:2: Timestamp must be"),
    ("bad.csv", "Timestamp,Model,Request tokens,Response tokens\n1,m,3,4,5,6\n", "more fields than the header"),
    ("bad.csv", "Timestamp,Model,Request tokens,Response tokens\n1,m,3,0\n", "has no requests"),
    ("bad.txt", "hello world\n", "not a request trace"),
])
def test_bad_files_fail_with_one_line_naming_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DatasetError) as err:
        read_trace(path)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_file_and_a_start_past_the_end(tmp_path):
    with pytest.raises(DatasetError, match="trace file not found"):
        read_trace(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match="--trace-start"):
        read_trace(MOONCAKE, start_s=3600)


def test_a_bad_trace_is_one_line_and_exit_2_on_the_command_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"timestamp": "noon"}\n')
    proc = assay("--url", "http://127.0.0.1:1/v1", "--model", "m", "--trace", str(bad), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "timestamp must be a number" in lines[0]


@pytest.mark.parametrize("options, message", [
    (dict(rate=[5]), "--trace-speed"),
    (dict(number=[5]), "--trace-limit"),
    (dict(parallel=[1, 2]), "--parallel"),
    (dict(sla_auto_tune=True, slo=["ttft_ms=100"]), "--sla-auto-tune"),
    (dict(trace_speed=0), "greater than 0"),
])
def test_options_that_clash_with_a_trace(options, message):
    with pytest.raises(ValueError, match=message):
        trace_config(**options)


# ---- arrivals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("speed", [1.0, 2.0, 0.5, 37.0])
def test_arrival_offsets_are_the_timestamps_over_the_speed(speed):
    (plan,) = build_plans(trace_config(trace_speed=speed))
    stamps_s = np.array([r["timestamp"] for r in lines_of(MOONCAKE)]) / 1000
    assert plan.open_loop and plan.rate is None and plan.parallel is None and plan.number == 20
    np.testing.assert_allclose(plan.arrival_offsets_s(seed=123), (stamps_s - stamps_s[0]) / speed)
    assert plan.name == f"trace_speed_{speed:g}_number_20"


def test_trace_limit_and_a_concurrency_cap():
    (plan,) = build_plans(trace_config(trace_limit=5, parallel=[3], trace_speed=2))
    assert plan.number == 5 and plan.parallel == 3 and plan.name == "trace_speed_2_parallel_3_number_5"


def test_workers_split_the_trace_by_request_index():
    (plan,) = build_plans(trace_config())
    shares = plan.split(3)
    assert [s.number for s in shares] == [7, 7, 6]
    for k, share in enumerate(shares):
        # Worker k sends requests k, k+3, ... (the runner's global index), each at its own time.
        np.testing.assert_allclose(share.arrival_offsets_s(0), plan.arrival_offsets_s(0)[k::3])


def test_a_trace_plan_survives_its_records_meta():
    (plan,) = build_plans(trace_config(trace_speed=3, parallel=[4]))
    settings = PlanSettings(plan, model="m")
    assert PlanSettings.from_meta(settings.meta()).plan == plan


# ---- prompts ------------------------------------------------------------------------------------------------


def test_prompts_have_the_input_length_in_the_simulators_count():
    prompts = load_prompt_set(trace_config(), None)
    assert isinstance(prompts, TracePromptSet) and prompts.size is None
    for index, row in enumerate(lines_of(MOONCAKE)):
        prompt = prompts.prompt(index)
        assert count_tokens(prompt.text) == row["input_length"]
        assert prompt.max_tokens == row["output_length"] and prompt.min_tokens is None
    burst = load_prompt_set(trace_config(trace=str(BURSTGPT)), None)
    for index, request in enumerate(read_trace(BURSTGPT).requests):
        assert count_tokens(burst.prompt(index).text) == request.input_tokens


def test_prompts_fit_the_input_length_with_a_tokenizer(tokenizer_path):
    tokenizer = load_tokenizer(tokenizer_path)
    prompts = load_prompt_set(trace_config(trace_limit=6, tokenizer_path=tokenizer_path), tokenizer)
    for index, request in enumerate(read_trace(MOONCAKE, limit=6).requests):
        prompt = prompts.prompt(index)
        actual = len(tokenizer.encode(prompt.text))
        assert abs(actual - request.input_tokens) <= max(4, 0.02 * request.input_tokens), (index, actual)
        assert prompt.input_tokens is not None and abs(prompt.input_tokens - actual) <= 4


def words_of_blocks(text: str, first: int, last: int) -> list[str]:
    return text.split()[first * BLOCK_TOKENS:last * BLOCK_TOKENS]


def test_shared_hash_ids_give_identical_prefixes_and_different_ids_different_text():
    prompts = load_prompt_set(trace_config(), None)
    rows = lines_of(MOONCAKE)
    texts = [prompts.prompt(i).text for i in range(len(rows))]
    pairs = 0
    for i, a in enumerate(rows):
        for j, b in enumerate(rows[:i]):
            shared = 0
            while shared < min(len(a["hash_ids"]), len(b["hash_ids"])) and \
                    a["hash_ids"][shared] == b["hash_ids"][shared]:
                shared += 1
            if shared:
                pairs += 1
                prefix = " ".join(words_of_blocks(texts[i], 0, shared))
                assert texts[i].startswith(prefix) and texts[j].startswith(prefix)  # the same characters
            # The first block where the ids differ holds different text.
            assert words_of_blocks(texts[i], shared, shared + 1) != words_of_blocks(texts[j], shared, shared + 1)
    assert pairs >= 20  # the fixture shares three roots among its 20 requests
    # The same trace and seed build the same text (every worker process sends the same prompts).
    assert load_prompt_set(trace_config(), None).prompt(7).text == texts[7]
    assert load_prompt_set(trace_config(seed=1), None).prompt(7).text != texts[7]


def test_request_bodies_carry_the_recorded_output_length():
    from assay.client import OpenAIClient
    from assay.perf.run_setup import Setup

    def body(**kw) -> dict:
        setup = Setup.from_config(trace_config(**kw))
        builder = setup.builder(OpenAIClient(setup.config.client_config()))
        return json.loads(builder.for_index(0)[2])

    output = lines_of(MOONCAKE)[0]["output_length"]
    assert body()["max_tokens"] == output and "min_tokens" not in body()
    assert body(trace_exact_output=True)["min_tokens"] == output
    assert body(min_tokens=1000, max_tokens=2000)["min_tokens"] == output  # clamped to the short answer
    assert body(extra_args={"ignore_eos": True})["ignore_eos"] is True


# ---- end to end -------------------------------------------------------------------------------------------


def test_a_trace_replays_against_the_simulator_with_every_request_and_its_lag(tmp_path):
    rows = lines_of(MOONCAKE)
    speed = 20.0
    sim_config = SimConfig(port=0, latency_model="fixed", ttft_ms=5, itl_ms=1)
    with SimProcess(sim_config) as sim:
        result = run_perf(PerfConfig(url=sim.base_url, model="assay-sim", trace=str(MOONCAKE), trace_speed=speed,
                                     trace_exact_output=True, outputs_dir=str(tmp_path), charts=False))
    (summary,) = result.summaries
    assert summary.plan == "trace_speed_20_number_20" and summary.trace_speed == speed
    assert summary.total_requests == summary.succeeded_requests == 20
    plan_dir = result.run_dir / summary.plan
    records = sorted(iter_rows(plan_dir / "records.sqlite"), key=lambda r: r["request_index"])
    assert [r["request_index"] for r in records] == list(range(20))
    stamps_s = np.array([r["timestamp"] for r in rows]) / 1000
    np.testing.assert_allclose([r["scheduled_s"] for r in records], (stamps_s - stamps_s[0]) / speed, atol=1e-6)
    for record, row in zip(records, rows):
        assert record["send_lag_s"] == pytest.approx(record["start_s"] - record["scheduled_s"])
        assert record["send_lag_s"] > -0.001  # never sent early; how late depends on the machine's load
        assert record["input_tokens"] == row["input_length"]  # the simulator counted the prompt
        assert record["output_tokens"] == row["output_length"]  # min_tokens made it exact
    saved = json.loads((plan_dir / "summary.json").read_text())
    health = saved["health"]
    assert health["send_lag_p50_ms"] <= health["send_lag_p99_ms"] <= health["send_lag_max_ms"]
    lags_ms = [r["send_lag_s"] * 1000 for r in records]
    assert health["send_lag_max_ms"] == pytest.approx(max(lags_ms))
    assert saved["trace_speed"] == speed
    # `assay perf rebuild` finds the trace plan again from the records alone.
    (rebuilt,), _ = rebuild_run(result.run_dir)
    assert rebuilt.trace_speed == speed and rebuilt.health.send_lag_max_ms == pytest.approx(max(lags_ms))


def test_perf_sim_trace_on_the_command_line(tmp_path):
    proc = assay("--sim", "--trace", str(BURSTGPT), "--trace-speed", "50", "--no-charts", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Arrival lag p50 / p99 / max (ms)" in proc.stdout and "Trace replay speed" in proc.stdout
    (run_dir,) = (tmp_path / "outputs" / "perf").iterdir()
    summary = json.loads((run_dir / "trace_speed_50_number_11" / "summary.json").read_text())
    assert summary["succeeded_requests"] == 11 and summary["health"]["send_lag_max_ms"] is not None


def test_a_client_that_cannot_keep_up_shows_as_arrival_lag(scripted, tmp_path):
    # Six requests recorded at the same instant, but at most one in flight: each waits for the one before,
    # so the later ones go out at least a server answer (50 ms) per place in the queue late.
    path = tmp_path / "burst.jsonl"
    path.write_text("".join(json.dumps({"timestamp": 1000, "input_length": 8, "output_length": 3, "hash_ids": [i]})
                            + "\n" for i in range(6)))
    server = scripted(Script(chunks=3, ttft_s=0.05))
    result = run_perf(PerfConfig(url=server.base_url, model="m", trace=str(path), parallel=[1],
                                 outputs_dir=str(tmp_path), charts=False, test_connection=False))
    (summary,) = result.summaries
    assert summary.succeeded_requests == 6
    assert summary.health.send_lag_max_ms > 5 * 50 * 0.9
    assert summary.health.send_lag_p50_ms > 50
    assert any("after their scheduled time" in w for w in summary.health.warnings)
    assert all(body["body"]["max_tokens"] == 3 for body in server.script.seen)


def test_worker_processes_share_a_trace_each_request_at_its_own_time(scripted, tmp_path):
    server = scripted(Script(chunks=2))
    speed = 40.0
    result = run_perf(PerfConfig(url=server.base_url, model="m", trace=str(MOONCAKE), trace_speed=speed,
                                 num_workers=2, outputs_dir=str(tmp_path), charts=False, test_connection=False))
    (summary,) = result.summaries
    assert summary.total_requests == 20 and summary.workers == 2
    records = sorted(iter_rows(result.run_dir / summary.plan / "records.sqlite"), key=lambda r: r["request_index"])
    stamps_s = np.array([r["timestamp"] for r in lines_of(MOONCAKE)]) / 1000
    np.testing.assert_allclose([r["scheduled_s"] for r in records], (stamps_s - stamps_s[0]) / speed, atol=1e-6)
    assert {r["worker"] for r in records} == {0, 1}
    assert all(r["prompt_index"] == r["request_index"] for r in records)
