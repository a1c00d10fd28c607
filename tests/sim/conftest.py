"""Fixtures for the simulator's tests: a server on 127.0.0.1 (port 0) and a raw aiohttp client for it.

The client is plain aiohttp on purpose: these tests pin down the simulator's wire format, so they must
not depend on assay's own client.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest

from assay.sim import SimConfig, SimServer

# Tests answer instantly unless they are about latency.
INSTANT = {"latency_model": "fixed", "ttft_ms": 0, "itl_ms": 0}


@dataclass
class StreamResult:
    """A streamed response taken apart: status, the JSON events, whether ``[DONE]`` came, arrival times."""

    status: int
    headers: dict[str, str]
    events: list[Any] = field(default_factory=list)
    done: bool = False
    raw: bytes = b""
    started: float = 0.0
    # time.perf_counter() at the arrival of each event carrying content or reasoning.
    token_times: list[float] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def chunks(self) -> list[dict]:
        """Events with choices (not the usage chunk)."""
        return [event for event in self.events if isinstance(event, dict) and event.get("choices")]

    def text(self, key: str = "content") -> str:
        out = []
        for event in self.chunks:
            choice = event["choices"][0]
            piece = choice.get("delta", {}).get(key) if "delta" in choice else choice.get("text")
            out.append(piece or "")
        return "".join(out)


def _has_token(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    for choice in event.get("choices") or []:
        delta = choice.get("delta")
        if delta is not None and (delta.get("content") or delta.get("reasoning_content")):
            return True
        if delta is None and choice.get("text"):
            return True
    return False


class SimClient:
    """Sends raw requests to one simulator."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str):
        self.session = session
        self.base_url = base_url
        self.root = base_url.removesuffix("/v1")

    async def post(
        self, path: str, body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict]:
        """POST JSON (or raw bytes) to ``/v1{path}``; status, decoded JSON body (or bytes), headers."""
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        async with self.session.post(self.base_url + path, data=data,
                                     headers={"Content-Type": "application/json", **(headers or {})}) as resp:
            raw = await resp.read()
            try:
                payload = orjson.loads(raw)
            except orjson.JSONDecodeError:
                payload = raw
            return resp.status, payload, dict(resp.headers)

    async def get(self, url_path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """GET a path under the server root (``/health``, ``/v1/models``, ``/sim/stats``)."""
        async with self.session.get(self.root + url_path, headers=headers or {}) as resp:
            raw = await resp.read()
            try:
                return resp.status, orjson.loads(raw)
            except orjson.JSONDecodeError:
                return resp.status, raw

    async def stream(self, path: str, body: dict, headers: dict[str, str] | None = None) -> StreamResult:
        """POST with ``stream: true`` and collect the SSE events (undecodable data is kept as bytes)."""
        body = {**body, "stream": True}
        started = time.perf_counter()
        async with self.session.post(self.base_url + path, data=orjson.dumps(body),
                                     headers={"Content-Type": "application/json", **(headers or {})}) as resp:
            result = StreamResult(status=resp.status, headers=dict(resp.headers), started=started)
            buffer = b""
            try:
                async for data in resp.content.iter_any():
                    now = time.perf_counter()
                    result.raw += data
                    buffer += data
                    while b"\n\n" in buffer:
                        block, buffer = buffer.split(b"\n\n", 1)
                        self._event(result, block, now)
            except aiohttp.ClientError as exc:
                result.error = exc
        return result

    @staticmethod
    def _event(result: StreamResult, block: bytes, now: float) -> None:
        if not block.startswith(b"data: "):
            return
        data = block[len(b"data: "):]
        if data == b"[DONE]":
            result.done = True
            return
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            result.events.append(data)
            return
        result.events.append(event)
        if _has_token(event):
            result.token_times.append(now)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as client_session:
        yield client_session


@pytest.fixture
async def start_sim(session):
    """``await start_sim(**config)``: a started simulator (instant unless told otherwise) and its client."""
    servers: list[SimServer] = []

    async def start(**overrides: Any) -> tuple[SimServer, SimClient]:
        config = SimConfig(**{"port": 0, "seed": 1234, **INSTANT, **overrides})
        server = SimServer(config)
        await server.start()
        servers.append(server)
        return server, SimClient(session, server.base_url)

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def sim(start_sim):
    """A default instant simulator's client."""
    _, client = await start_sim()
    return client


def chat(content: str = "Hello", **extra: Any) -> dict:
    return {"model": "assay-sim", "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture
def chat_body():
    """``chat_body(content, **fields)``: a chat request body."""
    return chat
