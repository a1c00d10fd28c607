"""Streams read inside data_received (``StreamSink``) and stamped with the kernel's receive time."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from aiohttp import web

from assay.client import ClientConfig, OpenAIClient
from assay.client.transport import StampingHandler
from assay.errors import RequestTimeout
from assay.sim import SimConfig, SimProcess
from assay.types import GenerationConfig, Message

from .test_client_protocol import delta, sse

pytestmark = pytest.mark.timeout(60)

HELLO = [Message.user("hi")]


@pytest.mark.skipif(sys.platform != "linux", reason="kernel receive timestamps (SO_TIMESTAMPNS) are Linux-only")
async def test_a_busy_event_loop_does_not_delay_the_arrival_stamp():
    """The first token arrives while the client's loop is blocked; its stamp is the arrival, not the read.

    The server (another process) sends its first token 40 ms after the request and the second 600 ms
    later. The client's loop is blocked from 5 ms to 400 ms, so it reads the first token about 360 ms
    late; TTFT must still be about 40 ms, and the gap to the second token about 600 ms.
    """
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=40, itl_ms=600, output_len="2")
    with SimProcess(config) as sim:
        async with OpenAIClient(ClientConfig(base_url=sim.base_url, model="assay-sim")) as client:
            await client.chat(HELLO, generation=GenerationConfig(max_tokens=1))  # connect first
            loop = asyncio.get_running_loop()
            loop.call_later(0.005, time.sleep, 0.4)
            started = time.perf_counter()
            completion = await client.chat(HELLO, generation=GenerationConfig(max_tokens=2))
            elapsed = time.perf_counter() - started
    assert completion.ok, completion.error
    ttft = completion.timings.time_to_first_token_s
    assert elapsed > 0.6
    assert 0.035 < ttft < 0.15, f"TTFT {ttft * 1000:.1f} ms includes the client's own stall"
    first, second = completion.timings.chunk_ns[:2]
    assert 0.5 < (second - first) / 1e9 < 0.7


async def test_an_answer_larger_than_the_read_buffer_arrives_whole(raw_server):
    """A 3,000-chunk answer in one write fills aiohttp's buffer, which pauses and resumes the connection."""
    words = [f"w{i} " for i in range(3000)]

    async def handler(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(sse(*[delta(w) for w in words], delta("", "stop"), "[DONE]"))
        return resp

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        completions = await asyncio.gather(*(client.chat(HELLO) for _ in range(4)))
        protocol_types = {type(p) for conns in client._session.connector._conns.values() for p, _ in conns}
    assert protocol_types == {StampingHandler}
    for completion in completions:
        assert completion.text == "".join(words) and completion.finish_reason == "stop"
        assert len(completion.timings.chunk_ns) == 3000


async def test_the_total_timeout_ends_a_stream_that_keeps_trickling(raw_server):
    async def handler(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(sse(delta("x")))
            await asyncio.sleep(0.05)
        return resp

    config = ClientConfig(base_url=await raw_server(handler), model="m", total_timeout_s=0.4, read_timeout_s=5)
    async with OpenAIClient(config) as client:
        started = time.monotonic()
        completion = await client.chat(HELLO, capture_errors=True)
        elapsed = time.monotonic() - started
        with pytest.raises(RequestTimeout, match="total timeout"):
            await client.chat(HELLO)
    assert completion.error.kind == "total_timeout"
    assert completion.text.startswith("xxx")
    assert 0.35 < elapsed < 1.5


async def test_the_connection_is_reused_after_a_sink_read(raw_server):
    peers = set()

    async def handler(request):
        peers.add(request.transport.get_extra_info("peername"))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(sse(delta("a")))
        await resp.write(sse(delta("b", "stop"), "[DONE]"))
        await resp.write_eof()
        return resp

    async with OpenAIClient(ClientConfig(base_url=await raw_server(handler), model="m")) as client:
        for _ in range(5):
            assert (await client.chat(HELLO)).text == "ab"
    assert len(peers) == 1


_ONE_WRITE_SERVER = r'''
import socket, sys, time
body = b"".join(b'data: {"choices":[{"index":0,"delta":{"content":"%d "},"finish_reason":null}]}\n\n' % i
                for i in range(50)) + b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
body += b"data: [DONE]\n\n"
head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n" % len(body)
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    while True:
        request = conn.recv(65536)
        if not request:
            break
        time.sleep(0.04)
        conn.sendall(head + body)  # headers and the whole answer in one write
'''


@pytest.mark.skipif(sys.platform != "linux", reason="kernel receive timestamps (SO_TIMESTAMPNS) are Linux-only")
async def test_an_answer_that_comes_whole_with_its_headers_keeps_its_arrival_stamp():
    """aiohttp releases the connection before the caller sees the response; the stamp must still be the socket's."""
    import subprocess

    server = subprocess.Popen([sys.executable, "-c", _ONE_WRITE_SERVER], stdout=subprocess.PIPE)
    try:
        port = int(server.stdout.readline())
        async with OpenAIClient(ClientConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m")) as client:
            await client.chat(HELLO)  # connect first
            asyncio.get_running_loop().call_later(0.01, time.sleep, 0.3)
            completion = await client.chat(HELLO)
    finally:
        server.kill()
        server.wait()
    assert completion.ok and completion.text.startswith("0 1 2") and len(completion.timings.chunk_ns) == 50
    assert 0.035 < completion.timings.time_to_first_token_s < 0.15
    assert completion.timings.latency_s < 0.15
