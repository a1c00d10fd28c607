"""The client against hand-written servers: protocol edge cases, errors, retries, headers."""

from __future__ import annotations

import asyncio
import socket
import time

import orjson
import pytest
from aiohttp import web

from assay.client import ClientConfig, OpenAIClient, split_endpoint_url
from assay.errors import (
    ConfigError,
    ConnectError,
    DisconnectedError,
    HTTPStatusError,
    MalformedResponseError,
    ReadTimeout,
    ServerReportedError,
)
from assay.types import GenerationConfig, Message

pytestmark = pytest.mark.timeout(30)

HELLO = [Message.user("hi")]


def sse(*events: dict | str) -> bytes:
    return b"".join(
        b"data: " + (e.encode() if isinstance(e, str) else orjson.dumps(e)) + b"\n\n" for e in events
    )


def delta(content: str, finish: str | None = None) -> dict:
    return {"id": "x", "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}


async def stream_response(request: web.Request, body: bytes) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(body)
    await resp.write_eof()
    return resp


@pytest.mark.parametrize(
    "url, base, api",
    [
        ("http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/v1", "chat"),
        ("http://127.0.0.1:8000/v1/completions/", "http://127.0.0.1:8000/v1", "completions"),
        ("http://h:1/v1", "http://h:1/v1", None),
        ("https://api.example.com", "https://api.example.com/v1", None),
        ("http://h/openai/v1/chat/completions", "http://h/openai/v1", "chat"),
    ],
)
def test_endpoint_urls(url, base, api):
    assert split_endpoint_url(url) == (base, api)


@pytest.mark.parametrize("url", ["", "localhost:8000", "ftp://h/v1", "http://", "http://h:99999/v1"])
def test_bad_urls_are_config_errors(url):
    with pytest.raises(ConfigError, match="bad URL"):
        split_endpoint_url(url)


def test_api_key_never_shows_in_repr_or_dump():
    config = ClientConfig(base_url="http://h/v1", api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(config)
    assert "sk-very-secret" not in config.model_dump_json()
    assert config.request_headers()["Authorization"] == "Bearer sk-very-secret"


def test_payload_carries_generation_settings_and_extra_body():
    client = OpenAIClient(ClientConfig(base_url="http://h/v1", model="m"))
    gen = GenerationConfig(max_tokens=30000, temperature=0.6, top_p=0.95, top_k=20, n=1, stop="END",
                           extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    payload = client.build_payload("chat", [{"role": "user", "content": "q"}], generation=gen, stream=True)
    assert payload == {
        "model": "m", "messages": [{"role": "user", "content": "q"}], "max_tokens": 30000, "temperature": 0.6,
        "top_p": 0.95, "top_k": 20, "stop": ["END"], "chat_template_kwargs": {"enable_thinking": False},
        "stream": True, "stream_options": {"include_usage": True},
    }
    with pytest.raises(ConfigError, match="no model name"):
        OpenAIClient(ClientConfig(base_url="http://h/v1")).build_payload("chat", [], stream=False)


async def test_headers_api_key_and_body_reach_the_server(raw_server):
    seen = {}

    async def handler(request: web.Request):
        seen["auth"] = request.headers.get("Authorization")
        seen["trace"] = request.headers.get("X-Trace")
        seen["body"] = await request.json()
        return await stream_response(request, sse(delta("ok", "stop"), "[DONE]"))

    url = await raw_server(handler)
    config = ClientConfig(base_url=url + "/chat/completions", api_key="sk-1", headers={"X-Trace": "t1"}, model="m")
    async with OpenAIClient(config) as client:
        completion = await client.chat(HELLO, generation=GenerationConfig(max_tokens=5))
    assert completion.text == "ok" and completion.ok
    assert seen["auth"] == "Bearer sk-1" and seen["trace"] == "t1"
    assert seen["body"]["max_tokens"] == 5 and seen["body"]["stream"] is True


async def test_stream_without_done_but_with_finish_reason_is_complete(raw_server):
    async def handler(request):
        return await stream_response(request, sse(delta("a"), delta("b", "length")))

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        completion = await client.chat(HELLO)
    assert (completion.text, completion.finish_reason) == ("ab", "length")


async def test_stream_cut_short_is_a_disconnect(raw_server):
    async def handler(request):
        return await stream_response(request, sse(delta("a"), delta("b")))

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        with pytest.raises(DisconnectedError):
            await client.chat(HELLO)
        captured = await client.chat(HELLO, capture_errors=True)
    assert captured.error is not None and captured.error.kind == "disconnect"
    assert captured.text == "ab" and len(captured.timings.chunk_ns) == 2


async def test_html_page_is_malformed(raw_server):
    async def handler(request):
        return web.Response(text="<html>hello</html>", content_type="text/html")

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        with pytest.raises(MalformedResponseError, match="HTML"):
            await client.chat(HELLO, stream=False)


async def test_json_answer_to_a_stream_request_is_accepted(raw_server):
    async def handler(request):
        return web.json_response({"choices": [{"message": {"content": "plain"}, "finish_reason": "stop"}]})

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        completion = await client.chat(HELLO, stream=True)
    assert completion.text == "plain"


async def test_error_in_200_body_is_a_server_error(raw_server):
    async def handler(request):
        return web.json_response({"error": {"message": "model overloaded", "code": 503}})

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        with pytest.raises(ServerReportedError, match="model overloaded"):
            await client.chat(HELLO, stream=False)


async def test_http_error_message_and_no_retry_on_4xx(raw_server):
    calls = 0

    async def handler(request):
        nonlocal calls
        calls += 1
        return web.json_response({"error": {"message": "Incorrect API key"}}, status=401)

    config = ClientConfig(base_url=await raw_server(handler), model="m", max_retries=3, retry_backoff_s=0)
    async with OpenAIClient(config) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.chat(HELLO)
    assert info.value.status == 401 and "Incorrect API key" in str(info.value)
    assert calls == 1


async def test_429_is_retried_after_retry_after_then_succeeds(raw_server):
    calls = 0

    async def handler(request):
        nonlocal calls
        calls += 1
        if calls < 3:
            return web.json_response({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "0.05"})
        return await stream_response(request, sse(delta("done", "stop"), "[DONE]"))

    config = ClientConfig(base_url=await raw_server(handler), model="m", max_retries=3)
    async with OpenAIClient(config) as client:
        completion = await client.chat(HELLO)
    assert completion.text == "done" and completion.attempts == 3 and calls == 3


async def test_retries_are_bounded(raw_server):
    calls = 0

    async def handler(request):
        nonlocal calls
        calls += 1
        return web.Response(status=503, text="busy")

    config = ClientConfig(base_url=await raw_server(handler), model="m", max_retries=2, retry_backoff_s=0.01)
    async with OpenAIClient(config) as client:
        completion = await client.chat(HELLO, capture_errors=True)
    assert calls == 3
    assert completion.error.kind == "http_status" and completion.error.status == 503
    assert completion.attempts == 3 and "busy" in completion.error.message


async def test_stalled_stream_ends_at_the_read_timeout(raw_server):
    async def handler(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(sse(delta("first")))
        await asyncio.sleep(30)
        return resp

    config = ClientConfig(base_url=await raw_server(handler), model="m", read_timeout_s=0.3)
    async with OpenAIClient(config) as client:
        started = time.monotonic()
        completion = await client.chat(HELLO, capture_errors=True)
        elapsed = time.monotonic() - started
    assert completion.error.kind == "read_timeout"
    assert completion.text == "first"
    assert 0.25 < elapsed < 2.0


async def test_connection_refused_is_a_connect_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with OpenAIClient(ClientConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m")) as client:
        with pytest.raises(ConnectError, match="cannot connect"):
            await client.chat(HELLO)


async def test_completions_endpoint_and_list_models(raw_server):
    async def completions(request):
        body = await request.json()
        assert body["prompt"] == "2+2="
        return await stream_response(request, sse(
            {"choices": [{"index": 0, "text": "4", "finish_reason": None}]},
            {"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]}, "[DONE]"))

    url = await raw_server(completions, "/v1/completions")
    async with OpenAIClient(ClientConfig(base_url=url, model="m")) as client:
        completion = await client.complete("2+2=")
        assert completion.text == "4" and completion.finish_reason == "stop"

    async def models(request):
        return web.json_response({"object": "list", "data": [{"id": "qwen"}, {"id": "llama"}]})

    url = await raw_server(models, "/v1/models")
    async with OpenAIClient(ClientConfig(base_url=url)) as client:
        assert await client.list_models() == ["qwen", "llama"]


async def test_arrival_is_stamped_at_the_socket(raw_server):
    """The connections use the stamping protocol, so chunk times come from data_received."""
    from assay.client.transport import StampingHandler

    seen = {}

    async def handler(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(sse(delta("a")))
        await asyncio.sleep(0.05)
        await resp.write(sse(delta("b", "stop"), "[DONE]"))
        return resp

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        completion = await client.chat(HELLO)
        connector = client._session.connector
        protocols = [proto for conns in connector._conns.values() for proto, _ in conns]
        seen["protocols"] = protocols
    assert protocols and all(isinstance(p, StampingHandler) for p in seen["protocols"])
    first, second = completion.timings.chunk_ns
    assert completion.timings.request_start_ns < first
    assert 0.04 < (second - first) / 1e9 < 0.5


async def test_request_start_is_when_the_bytes_went_out(raw_server):
    async def handler(request):
        await request.read()
        return await stream_response(request, sse(delta("x", "stop"), "[DONE]"))

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        completion = await client.chat(HELLO)
    timings = completion.timings
    assert timings.request_created_ns is not None
    assert timings.request_created_ns <= timings.request_start_ns < timings.first_token_ns
    assert 0 <= timings.send_lag_s < 1
