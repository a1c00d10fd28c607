"""The HTTP layer under the client: socket-level timestamps, transport errors, HTTP status errors.

Every request the client makes (chat, completions, embeddings, rerank, models) goes through these, so a
timing or error-mapping fix is made once.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter_ns, time_ns
from typing import Any

import aiohttp
import orjson
from aiohttp.client_proto import ResponseHandler

from assay.client.config import redact_url
from assay.errors import (
    ClientError,
    ConnectError,
    ConnectTimeout,
    DisconnectedError,
    HTTPStatusError,
    MalformedResponseError,
    ReadTimeout,
    RequestTimeout,
    TotalTimeout,
)
from assay.types.completion import Timings

_ERROR_BODY_LIMIT = 64 * 1024


class StampingHandler(ResponseHandler):
    """aiohttp's connection protocol, noting when bytes last came off the socket.

    A task reading a stream resumes some time after its bytes arrived; with hundreds of streams ready
    at once that wait grows to milliseconds and would be charged to the server. Stamping in
    ``data_received`` takes the time at the socket instead; with kernel receive timestamps (see
    ``_KernelStampedReads``) it takes the time the bytes reached this host, before the event loop saw them.
    """

    rx_ns = 0
    kernel_ns = 0
    sink: Any = None  # a StreamSink reading the current response inside data_received

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        _KernelStampedReads.install(transport, self)

    def data_received(self, data: bytes) -> None:
        kernel_ns = self.kernel_ns
        if kernel_ns:
            self.rx_ns = now = kernel_ns
            self.kernel_ns = 0
        elif data:  # aiohttp calls this with b"" to resume parsing buffered bytes: nothing arrived then
            self.rx_ns = now = perf_counter_ns()
        else:
            now = self.rx_ns
        super().data_received(data)
        sink = self.sink
        if sink is not None:
            sink.pump(now)

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        sink = self.sink
        if sink is not None:
            sink.pump(perf_counter_ns())


# SO_TIMESTAMPNS has the same number on every Linux architecture Python runs on (asm-generic and x86).
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("@qq")
_ANCILLARY_SIZE = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
# A kernel stamp further back than this is not trusted (a wall-clock step between the two clock reads).
_MAX_KERNEL_AGE_NS = 30 * 10**9


class _KernelStampedReads:
    """Reads a plain TCP connection with ``recvmsg`` to get the kernel's receive timestamp of the data.

    A busy event loop reaches a readable socket milliseconds after its bytes arrived, and under load
    that delay (the client's, not the server's) would be charged to TTFT and inter-token latency. With
    ``SO_TIMESTAMPNS`` Linux stamps each segment as it arrives; TCP keeps the newest stamp of the data
    waiting, so a read is stamped when its last byte arrived: never later than the data came, whatever
    the loop was doing. The stamp (wall clock) is turned into ``perf_counter_ns`` time by its age.

    This replaces the read callback of asyncio's selector transport (a private hook, checked for before
    use). Anywhere it is missing (uvloop, TLS, another platform or Python) reads keep the
    ``data_received`` stamp.
    """

    @staticmethod
    def supported() -> bool:
        return sys.platform == "linux" and _ANCILLARY_SIZE > 0

    @classmethod
    def install(cls, transport: Any, protocol: StampingHandler) -> bool:
        if not cls.supported() or not callable(getattr(transport, "_read_ready__data_received", None)):
            return False
        sock = getattr(transport, "_sock", None)
        if not isinstance(sock, socket.socket) or sock.type != socket.SOCK_STREAM or not hasattr(
                transport, "_read_ready_cb"):
            return False
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        except OSError:
            return False
        transport._read_ready_cb = functools.partial(cls._read_ready, transport, sock, protocol)
        return True

    @staticmethod
    def _read_ready(transport: Any, sock: socket.socket, protocol: StampingHandler) -> None:
        # Mirrors asyncio's _SelectorSocketTransport._read_ready__data_received, with recvmsg for recv.
        if transport._conn_lost:
            return
        try:
            data, ancillary, _flags, _address = sock.recvmsg(transport.max_size, _ANCILLARY_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            transport._fatal_error(exc, "Fatal read error on socket transport")
            return
        if not data:
            transport._read_ready__on_eof()
            return
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
                seconds, nanos = _TIMESPEC.unpack_from(payload)
                mono_now = perf_counter_ns()
                age = time_ns() - (seconds * 1_000_000_000 + nanos)
                if 0 <= age < _MAX_KERNEL_AGE_NS:
                    protocol.kernel_ns = mono_now - age
        try:
            protocol.data_received(data)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            transport._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")


class _StampingConnector(aiohttp.TCPConnector):
    """A TCP connector whose connections use ``StampingHandler`` (where this aiohttp allows it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        factory = getattr(self, "_factory", None)
        if isinstance(factory, functools.partial) and factory.func is ResponseHandler:
            self._factory = functools.partial(StampingHandler, *factory.args, **factory.keywords)


async def _on_request_chunk_sent(session: Any, context: Any, params: Any) -> None:
    # Called right before each body chunk goes to the transport: the request is on the wire now.
    timings = context.trace_request_ctx
    if isinstance(timings, Timings):
        timings.request_start_ns = perf_counter_ns()


def _tracing() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(_on_request_chunk_sent)
    return trace


def kernel_timestamps_supported() -> bool:
    """Whether reads on asyncio's own event loop get the kernel's receive timestamp here (Linux)."""
    return _KernelStampedReads.supported()


def protocol_of(resp: aiohttp.ClientResponse) -> Any:
    """The connection protocol that received ``resp``, also when aiohttp has already released the
    connection (a whole answer that came in the same read as its headers)."""
    connection = resp.connection
    if connection is not None:
        return connection.protocol
    return getattr(resp, "_protocol", None)


def arrival_ns(protocol: Any, not_before_ns: int) -> int:
    """When the bytes just read arrived: the socket stamp when known, else now."""
    now = perf_counter_ns()
    stamp = getattr(protocol, "rx_ns", 0)
    # A stamp older than this request belongs to an earlier response on the same connection.
    return stamp if not_before_ns <= stamp <= now else now


def new_session(connector_limit: int, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientSession:
    """A session whose connections stamp arrivals and whose requests stamp when their body goes out."""
    connector = _StampingConnector(limit=connector_limit, limit_per_host=0, ttl_dns_cache=300,
                                   enable_cleanup_closed=False)
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, json_serialize=lambda o: orjson.dumps(o).decode(),
        auto_decompress=True, trace_configs=[_tracing()],
    )


@contextmanager
def transport_errors(url: str, total_timeout_s: float | None) -> Iterator[None]:
    """Turn aiohttp's exceptions and the total timeout into typed ``ClientError``s (naming ``url`` with its
    credentials redacted)."""
    try:
        yield
    except ClientError:
        raise
    except aiohttp.ClientError as exc:
        raise _map_transport_error(exc, redact_url(url) or "") from None
    except asyncio.TimeoutError:
        raise TotalTimeout(f"request to {redact_url(url)} exceeded the total timeout of {total_timeout_s}s") from None


async def raise_for_status(resp: aiohttp.ClientResponse) -> None:
    """An ``HTTPStatusError`` with the server's message (and Retry-After) for a non-2xx answer."""
    if resp.status >= 400:
        raw = await resp.content.read(_ERROR_BODY_LIMIT)
        raise HTTPStatusError(_status_message(resp.status, raw), status=resp.status,
                              retry_after_s=_retry_after_s(resp.headers.get("Retry-After")))


def _map_transport_error(exc: aiohttp.ClientError, url: str) -> ClientError:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeout(f"could not connect to {url} within the connect timeout")
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return ReadTimeout(f"no answer from {url} within the read timeout (keep-alive bytes do not count)")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return RequestTimeout(f"timed out talking to {url}: {exc}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"cannot connect to {url}: {exc.os_error.strerror or exc.os_error}")
    if isinstance(exc, aiohttp.InvalidURL):
        return ConnectError(f"invalid URL {url}")
    if isinstance(exc, aiohttp.ClientResponseError):
        return MalformedResponseError(f"bad HTTP response from {url}: {exc.message}")
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError)):
        return DisconnectedError(f"connection to {url} dropped: {exc.__class__.__name__}: {exc}")
    return DisconnectedError(f"{exc.__class__.__name__} talking to {url}: {exc}")


def _status_message(status: int, body: bytes) -> str:
    detail = ""
    try:
        data = orjson.loads(body)
        if isinstance(data, dict):
            error = data.get("error", data.get("detail", data.get("message")))
            detail = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    except orjson.JSONDecodeError:
        detail = body[:200].decode("utf-8", "replace").strip()
    return f"HTTP {status}" + (f": {detail}" if detail else "")


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
