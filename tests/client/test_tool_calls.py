"""Tool calls through the client: sent with the request, assembled from stream fragments, typed, timed."""

from __future__ import annotations

import asyncio
import json

import orjson
import pytest
from aiohttp import web

from assay.client import ClientConfig, OpenAIClient
from assay.errors import ConfigError, MalformedResponseError
from assay.sim import SimConfig, SimServer
from assay.types import Message, ToolCall

pytestmark = pytest.mark.timeout(30)

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


def frame(delta: dict | None = None, finish: str | None = None, **extra) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return b"data: " + orjson.dumps({"id": "chatcmpl-1", "model": "m", "choices": choices, **extra}) + b"\n\n"


def fragment(index: int | None, *, id: str | None = None, name: str | None = None, arguments: str | None = None):
    piece: dict = {} if index is None else {"index": index}
    if id:
        piece.update(id=id, type="function")
    function = {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}
    if function:
        piece["function"] = function
    return {"tool_calls": [piece]}


def streaming(frames: list[bytes], pause_s: float = 0.0, seen: list | None = None):
    async def handler(request: web.Request) -> web.StreamResponse:
        if seen is not None:
            seen.append(await request.json())
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for data in frames:
            await resp.write(data)
            if pause_s:
                await asyncio.sleep(pause_s)
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp
    return handler


async def test_interleaved_fragments_are_assembled_by_index(raw_server):
    # Two parallel calls whose argument pieces arrive interleaved, as some servers send them.
    frames = [
        frame({"role": "assistant", "content": ""}),
        frame(fragment(0, id="call_a", name="get_weather", arguments="")),
        frame(fragment(1, id="call_b", name="get_time", arguments="")),
        frame(fragment(0, arguments='{"city": ')),
        frame(fragment(1, arguments='{"tz": "CET"}')),
        frame(fragment(0, arguments='"Paris"}')),
        frame({}, finish="tool_calls"),
    ]
    url = await raw_server(streaming(frames, pause_s=0.01))
    async with OpenAIClient(ClientConfig(base_url=url, model="m")) as client:
        completion = await client.chat([Message.user("weather?")], tools=[WEATHER, TIME])
    assert completion.ok and completion.finish_reason == "tool_calls" and completion.text == ""
    assert completion.tool_calls == [
        ToolCall(id="call_a", name="get_weather", arguments='{"city": "Paris"}', index=0),
        ToolCall(id="call_b", name="get_time", arguments='{"tz": "CET"}', index=1),
    ]
    assert completion.tool_calls[0].parsed_arguments == {"city": "Paris"}
    # Timings cover the calls: the first fragment is the first token, every fragment an ITL sample,
    # and there is no answer text to stamp as first content.
    timings = completion.timings
    assert timings.first_token_ns is not None and timings.first_content_ns is None
    assert len(timings.chunk_ns) == 5
    assert timings.time_to_first_token_s < timings.latency_s


async def test_whole_calls_in_one_fragment_and_missing_index(raw_server):
    frames = [frame({"tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
        {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ]}, finish="tool_calls")]
    url = await raw_server(streaming(frames))
    async with OpenAIClient(ClientConfig(base_url=url, model="m")) as client:
        completion = await client.chat([Message.user("x")], tools=[WEATHER, TIME])
    assert [(c.id, c.name, c.parsed_arguments) for c in completion.tool_calls] == [
        ("c1", "get_weather", {"city": "Oslo"}), ("c2", "get_time", {})]


async def test_non_streamed_calls_with_string_or_object_arguments(raw_server):
    body = {"id": "r", "model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}},
            # Some servers (ollama's native shape) send the arguments as an object.
            {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": {"tz": "UTC"}}},
        ]}}]}

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body)

    url = await raw_server(handler)
    async with OpenAIClient(ClientConfig(base_url=url, model="m")) as client:
        completion = await client.chat([Message.user("x")], tools=[WEATHER, TIME], stream=False)
    assert completion.text == "" and completion.finish_reason == "tool_calls"
    assert [c.parsed_arguments for c in completion.tool_calls] == [{"city": "Rome"}, {"tz": "UTC"}]
    assert completion.timings.first_token_ns is not None


async def test_tools_tool_choice_and_parallel_flag_are_sent(raw_server):
    seen: list = []
    url = await raw_server(streaming([frame({"content": "ok"}, finish="stop")], seen=seen))
    choice = {"type": "function", "function": {"name": "get_time"}}
    async with OpenAIClient(ClientConfig(base_url=url, model="m")) as client:
        await client.chat([Message.user("x")], tools=[WEATHER, TIME], tool_choice=choice, parallel_tool_calls=False)
        await client.chat([Message.user("x")])
    assert seen[0]["tools"] == [WEATHER, TIME]
    assert seen[0]["tool_choice"] == choice and seen[0]["parallel_tool_calls"] is False
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(seen[1])


async def test_a_malformed_tool_calls_delta_is_a_recorded_error(raw_server):
    url = await raw_server(streaming([frame({"tool_calls": {"index": 0}}, finish="tool_calls")]))
    async with OpenAIClient(ClientConfig(base_url=url, model="m", max_retries=0)) as client:
        with pytest.raises(MalformedResponseError, match="tool_calls is not a list"):
            await client.chat([Message.user("x")], tools=[WEATHER])
        failed = await client.chat([Message.user("x")], tools=[WEATHER], capture_errors=True)
    assert failed.error is not None and failed.error.kind == "malformed"


def test_tools_need_the_chat_endpoint():
    client = OpenAIClient(ClientConfig(base_url="http://127.0.0.1:9/v1", model="m"))
    with pytest.raises(ConfigError, match="chat endpoint"):
        client.build_payload("completions", "hi", tools=[WEATHER])


def test_parsed_arguments_of_bad_json_is_none():
    assert ToolCall(name="f", arguments='{"a": ').parsed_arguments is None
    assert ToolCall(name="f", arguments="[1, 2]").parsed_arguments is None
    assert ToolCall(name="f", arguments="").parsed_arguments == {}


async def test_a_whole_tool_conversation_against_the_simulator(tmp_path):
    # Turn 1: the model calls a tool. Turn 2: the tool's result goes back and the model answers in text.
    replay = tmp_path / "replay.jsonl"
    replay.write_text("\n".join(json.dumps(e) for e in [
        {"prompt": "What is the weather in Paris?",
         "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
    ]) + "\n")
    async with SimServer(SimConfig(port=0, replay_path=replay)) as sim:
        async with OpenAIClient(ClientConfig(base_url=sim.base_url, model="m")) as client:
            history = [Message.user("What is the weather in Paris?")]
            for stream in (True, False):
                first = await client.chat(history, tools=[WEATHER], stream=stream)
                assert first.finish_reason == "tool_calls" and first.usage.completion_tokens == 10
                (call,) = first.tool_calls
                assert (call.name, call.parsed_arguments) == ("get_weather", {"city": "Paris"})
            messages = [*history, Message.assistant(first.text or None, first.tool_calls),
                        Message.tool(call.id, '{"temp_c": 21}', name=call.name)]
            wire = [m.model_dump(exclude_none=True) for m in messages]
            assert wire[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
            assert wire[2] == {"role": "tool", "content": '{"temp_c": 21}', "tool_call_id": call.id,
                               "name": "get_weather"}
            second = await client.chat(messages, tools=[WEATHER])
    # The last user message is the same, so the replay answers with the call again: the request was accepted
    # with assistant tool_calls (null content) and a tool message in it.
    assert second.ok and second.tool_calls[0].id == call.id
