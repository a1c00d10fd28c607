"""A tool-calling load test: prompts that offer tools, against the simulator replaying known calls."""

from __future__ import annotations

import json

import pytest

from assay.errors import DatasetError
from assay.perf import PerfConfig, run_perf
from assay.perf.records import iter_rows
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(90)

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


def test_requests_offer_their_tools_and_records_count_the_calls(tmp_path):
    replay = tmp_path / "replay.jsonl"
    replay.write_text("\n".join(json.dumps(e) for e in [
        {"prompt": "weather in Paris", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"prompt": "weather and time", "response": "Both.", "tool_calls": [
            {"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "get_time", "arguments": {}}]},
        {"prompt": "just chat", "response": "Hello there."},
    ]) + "\n")
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("\n".join(json.dumps(e) for e in [
        {"prompt": "weather in Paris", "tools": [WEATHER]},
        {"messages": [{"role": "user", "content": "weather and time"}], "tools": [WEATHER, TIME],
         "tool_choice": "auto"},
        {"prompt": "just chat"},
    ]) + "\n")
    with SimProcess(SimConfig(port=0, replay_path=replay, latency_model="fixed", ttft_ms=5, itl_ms=1)) as sim:
        result = run_perf(PerfConfig(url=sim.base_url + "/chat/completions", model="m", dataset="custom",
                                     dataset_path=str(prompts), outputs_dir=str(tmp_path / "out"), charts=False,
                                     parallel=[3], number=[9]))
    (summary,) = result.summaries
    assert summary.succeeded_requests == 9
    rows = sorted(iter_rows(result.run_dir / "parallel_3_number_9" / "records.sqlite"),
                  key=lambda r: r["request_index"])
    # Prompt 0: one call (name + 9 argument tokens); prompt 1: text and two calls; prompt 2: plain text.
    assert [(r["tool_calls"], r["finish_reason"]) for r in rows[:3]] == [
        (1, "tool_calls"), (2, "tool_calls"), (0, "stop")]
    assert [r["output_tokens"] for r in rows[:3]] == [10, 2 + 10 + 3, 3]
    assert all(r["ttft_s"] > 0 for r in rows)  # a call-only answer has a first token too
    assert all(r["response_id"].startswith("chatcmpl-") for r in rows)
    assert len({r["response_id"] for r in rows}) == 9


def test_bad_tools_in_a_prompt_file_fail_before_the_run(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"prompt": "x", "tools": [{"type": "function"}]}) + "\n")
    config = PerfConfig(url="http://127.0.0.1:9/v1/chat/completions", model="m", dataset="custom",
                        dataset_path=str(prompts), outputs_dir=str(tmp_path / "out"))
    with pytest.raises(DatasetError, match="prompts.jsonl item 1: tools must be a list"):
        run_perf(config)
