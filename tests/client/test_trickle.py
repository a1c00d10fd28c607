"""A server that trickles keep-alive bytes but no answer still meets the read timeout; every request has a deadline."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from assay.client import ClientConfig, OpenAIClient
from assay.types import Message

from .test_client_protocol import delta, sse

pytestmark = pytest.mark.timeout(60)

HELLO = [Message.user("hi")]


def _trickler(first: bytes, keep_alive: bytes, every_s: float = 0.2, for_s: float = 20.0):
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        if first:
            await resp.write(first)
        deadline = time.monotonic() + for_s
        while time.monotonic() < deadline:
            await asyncio.sleep(every_s)
            await resp.write(keep_alive)
        return resp

    return handler


@pytest.mark.parametrize("keep_alive", [
    b": keep-alive\n\n",                                          # an SSE comment
    b"\n",                                                        # a bare newline
    sse({"id": "r", "choices": [{"index": 0, "delta": {}, "finish_reason": None}]}),  # an empty delta
    sse(delta("")),                                               # an empty content delta
], ids=["comment", "newline", "empty-delta", "empty-content"])
async def test_keep_alive_bytes_do_not_hold_off_the_read_timeout(raw_server, keep_alive):
    url = await raw_server(_trickler(sse(delta("first")), keep_alive))
    config = ClientConfig(base_url=url, model="m", read_timeout_s=1.0)
    async with OpenAIClient(config) as client:
        started = time.monotonic()
        completion = await client.chat(HELLO, capture_errors=True)
        elapsed = time.monotonic() - started
    assert completion.error is not None and completion.error.kind == "read_timeout", completion.error
    assert "keep-alive" in completion.error.message
    assert completion.text == "first"
    assert 0.9 < elapsed < 10.0  # the server would trickle for 20 s


async def test_answer_events_keep_a_slow_stream_alive(raw_server):
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for word in ("a", "b", "c", "d"):
            await asyncio.sleep(0.5)
            await resp.write(sse({"id": "r", "choices": [{"index": 0, "delta": {"reasoning_content": word}}]}))
        await resp.write(sse(delta("done", "stop"), "[DONE]"))
        return resp

    config = ClientConfig(base_url=await raw_server(handler), model="m", read_timeout_s=1.5)
    async with OpenAIClient(config) as client:
        completion = await client.chat(HELLO, capture_errors=True)
    assert completion.error is None and completion.text == "done" and completion.reasoning == "abcd"


async def test_a_request_past_its_total_timeout_is_not_retried(raw_server):
    calls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        return await _trickler(sse(delta("x")), sse(delta("x")), every_s=0.05, for_s=10)(request)

    config = ClientConfig(base_url=await raw_server(handler), model="m", total_timeout_s=0.5, max_retries=3,
                          retry_backoff_s=0.01)
    async with OpenAIClient(config) as client:
        completion = await client.chat(HELLO, capture_errors=True)
    assert completion.error.kind == "total_timeout" and calls == 1 and completion.attempts == 1


def test_every_request_has_a_finite_default_deadline():
    from assay.eval.config import TaskConfig
    from assay.perf.config import PerfConfig

    assert ClientConfig(base_url="http://h:1/v1").total_timeout_s == 3600
    assert TaskConfig(eval_type="sim").total_timeout == 3600
    assert PerfConfig(url="http://h:1/v1", model="m").client_config().total_timeout_s == 3600


def test_total_timeout_none_on_the_command_line_turns_the_deadline_off():
    from assay.cli.main import build_cli
    from assay.cli.options import cli_values
    from assay.eval.config import TaskConfig

    command = build_cli().commands["eval"]
    values = cli_values(TaskConfig, command.make_context("eval", ["--total-timeout", "none"]).params)
    assert values["total_timeout"] is None and TaskConfig(eval_type="sim", **values).total_timeout is None
    assert "3600" in command.get_help(command.make_context("eval", []))
