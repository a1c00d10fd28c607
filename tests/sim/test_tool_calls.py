"""The simulator's tool calls on the wire: replayed deterministically, shaped as vLLM streams them."""

from __future__ import annotations

import json

import pytest

from assay.errors import ConfigError
from assay.sim.replay import ReplayBook

pytestmark = pytest.mark.timeout(30)

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}


@pytest.fixture
def tool_replay(tmp_path):
    path = tmp_path / "tools.jsonl"
    entries = [
        {"prompt_contains": "weather", "response": "Checking.", "tool_calls": [
            {"name": "get_weather", "arguments": {"city": "Paris"}},
            {"name": "get_time", "arguments": {"tz": "CET"}, "id": "call_given"}]},
        {"prompt": "broken", "tool_calls": [{"name": "get_weather", "arguments": "{\"city\": \"Par"}]},
    ]
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    return path


def _calls_of(events: list) -> dict[int, dict]:
    """Fold the streamed fragments by index, the way the OpenAI protocol defines them."""
    calls: dict[int, dict] = {}
    for event in events:
        for choice in event.get("choices") or []:
            for fragment in (choice.get("delta") or {}).get("tool_calls") or []:
                call = calls.setdefault(fragment["index"], {"id": None, "name": "", "arguments": ""})
                call["id"] = call["id"] or fragment.get("id")
                function = fragment.get("function") or {}
                call["name"] += function.get("name") or ""
                call["arguments"] += function.get("arguments") or ""
    return calls


async def test_streamed_calls_come_as_fragments_with_ids_names_then_arguments(start_sim, chat_body, tool_replay):
    _, sim = await start_sim(replay_path=tool_replay)
    result = await sim.stream("/chat/completions", chat_body("weather in Paris?", tools=[WEATHER, TIME],
                                                             stream_options={"include_usage": True}))
    assert result.status == 200 and result.done
    calls = _calls_of(result.events)
    assert calls == {
        0: {"id": calls[0]["id"], "name": "get_weather", "arguments": '{"city": "Paris"}'},
        1: {"id": "call_given", "name": "get_time", "arguments": '{"tz": "CET"}'},
    }
    assert calls[0]["id"].startswith("call_")
    # The first fragment of each call carries id, type and name with empty arguments; the rest only arguments.
    fragments = [f for e in result.chunks for f in (e["choices"][0].get("delta") or {}).get("tool_calls") or []]
    firsts = [f for f in fragments if "id" in f]
    assert [f["function"] for f in firsts] == [{"name": "get_weather", "arguments": ""},
                                               {"name": "get_time", "arguments": ""}]
    assert all(f["type"] == "function" for f in firsts)
    assert len(fragments) > 2 and all(set(f) == {"index", "function"} for f in fragments if "id" not in f)
    assert result.chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert result.text() == "Checking."
    # Usage counts every token sent: the text's, one per call name, and the argument tokens.
    usage = result.events[-1]["usage"]
    assert usage["completion_tokens"] == 2 + len(fragments)


async def test_the_same_request_gets_the_same_calls_and_ids(start_sim, chat_body, tool_replay):
    _, sim = await start_sim(replay_path=tool_replay)
    body = chat_body("weather in Paris?", tools=[WEATHER, TIME])
    first, second = [_calls_of((await sim.stream("/chat/completions", body)).events) for _ in range(2)]
    assert first == second


async def test_non_streamed_calls_in_the_message_with_null_content(start_sim, chat_body, tool_replay):
    _, sim = await start_sim(replay_path=tool_replay)
    status, body, _ = await sim.post("/chat/completions", chat_body("broken", tools=[WEATHER]))
    assert status == 200
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    # A string argument is sent exactly as written, invalid JSON included.
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Par'}
    assert call["type"] == "function" and call["id"].startswith("call_")


@pytest.mark.parametrize("extra, names, finish", [
    ({}, [], "stop"),  # no tools offered: a model cannot call any
    ({"tools": [WEATHER, TIME], "tool_choice": "none"}, [], "stop"),
    ({"tools": [WEATHER, TIME], "tool_choice": "auto"}, ["get_weather", "get_time"], "tool_calls"),
    ({"tools": [WEATHER, TIME], "parallel_tool_calls": False}, ["get_weather"], "tool_calls"),
    ({"tools": [WEATHER, TIME], "tool_choice": {"type": "function", "function": {"name": "get_time"}}},
     ["get_time"], "tool_calls"),
])
async def test_tool_choice_and_parallel_calls_filter_what_goes_out(start_sim, chat_body, tool_replay, extra,
                                                                   names, finish):
    _, sim = await start_sim(replay_path=tool_replay)
    status, body, _ = await sim.post("/chat/completions", chat_body("weather?", **extra))
    assert status == 200
    choice = body["choices"][0]
    assert [c["function"]["name"] for c in choice["message"].get("tool_calls") or []] == names
    assert choice["finish_reason"] == finish
    assert choice["message"]["content"] == "Checking."


async def test_max_tokens_cuts_the_arguments_and_says_length(start_sim, chat_body, tool_replay):
    _, sim = await start_sim(replay_path=tool_replay)
    # "Checking." is 2 tokens, the name 1: three argument tokens ('{', '"', 'city') fit in 6.
    status, body, _ = await sim.post("/chat/completions", chat_body("weather?", tools=[WEATHER], max_tokens=6))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length"
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["arguments"] == '{"city'
    assert body["usage"]["completion_tokens"] == 6


@pytest.mark.parametrize("extra, message", [
    ({"tools": [{"type": "function", "function": {}}]}, "each tool needs"),
    ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "not one of the tools"),
    ({"tools": [WEATHER], "tool_choice": "always"}, "must be 'auto'"),
    ({"tool_choice": "required"}, "without any tools"),
])
async def test_bad_tool_requests_are_400_with_the_reason(start_sim, chat_body, extra, message):
    _, sim = await start_sim()
    status, body, _ = await sim.post("/chat/completions", chat_body("hi", **extra))
    assert status == 400 and message in body["error"]["message"]


def test_a_replay_entry_needs_a_response_or_calls(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "x"}\n')
    with pytest.raises(ConfigError, match="bad.jsonl:1: .*response.*tool_calls"):
        ReplayBook.load(path)
