"""Reading a streamed answer inside the connection's ``data_received``, with no task switch per read.

The usual way to read a stream (``async for data in resp.content``) wakes the reading task once per
socket read: a future resolves, the task resumes through aiohttp's stream reader, parses, and suspends
again. At 25,000 reads/s (256 streams of 100 tokens/s) that costs more than the parsing itself, and the
event loop falls behind: bytes wait in the socket while the loop is busy, and their arrival is noted
late. A ``StreamSink`` is attached to the connection once the headers are in; from then on every read
is decoded and stamped in the connection's ``data_received`` callback (see ``transport``), and the
waiting task wakes once, when the answer is complete or has failed.

It uses only aiohttp's public stream-reader calls (``read_nowait``, ``is_eof``), so aiohttp keeps
parsing HTTP (chunked encoding, compression) and managing connections. The per-read inactivity timeout
moves here too: aiohttp re-arms a timer on every read, the sink checks once per timeout period when the
last event carrying answer (content, reasoning, usage) came, so keep-alive bytes trickled by a stalled
server do not hold the request open.
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns
from typing import Any

import aiohttp

from assay.client.stream import ResponseAccumulator, SSEDecoder


class StreamSink:
    """Decodes one SSE response as its bytes arrive; ``wait()`` returns when it has ended."""

    __slots__ = ("_acc", "_busy", "_decoder", "_done", "_started_ns", "_payload", "_read_timeout_s", "_watch")

    def __init__(self, payload: Any, acc: ResponseAccumulator, *, read_timeout_s: float | None) -> None:
        self._payload = payload
        self._acc = acc
        self._decoder = SSEDecoder()
        self._done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._started_ns = perf_counter_ns()
        self._read_timeout_s = read_timeout_s
        self._watch: asyncio.TimerHandle | None = None
        self._busy = False

    def pump(self, now_ns: int) -> None:
        """Take whatever the connection has decoded so far; called from ``data_received`` and on close.

        Never raises: a failure (a dropped connection, a malformed or error chunk) ends the wait with it.
        Draining the reader can resume a paused connection, which may deliver buffered bytes at once
        (``data_received`` again, inside this call): that inner call returns at once and the loop here
        takes its bytes.
        """
        done = self._done
        if self._busy or done.done():
            return
        self._busy = True
        acc = self._acc
        payload = self._payload
        try:
            while not done.done():
                data = payload.read_nowait()
                if data:
                    if acc.add_read(self._decoder, data, now_ns):
                        done.set_result(now_ns)
                    continue
                if payload.is_eof():
                    acc.add_last(self._decoder, now_ns)
                    done.set_result(now_ns)
                return
        except Exception as exc:  # noqa: BLE001 - handed to the waiting task, which maps it
            if not done.done():
                done.set_exception(exc)
        finally:
            self._busy = False

    async def wait(self) -> int:
        """When the last bytes of the answer arrived (``perf_counter_ns``); raises what ended it early."""
        if self._read_timeout_s is not None and not self._done.done():
            self._watch = asyncio.get_running_loop().call_later(self._read_timeout_s, self._check_idle)
        try:
            return await self._done
        finally:
            if self._watch is not None:
                self._watch.cancel()
            if not self._done.done():
                self._done.cancel()  # cancelled (total timeout): nothing may resolve it later

    def _check_idle(self) -> None:
        timeout = self._read_timeout_s
        assert timeout is not None
        idle_s = (perf_counter_ns() - max(self._started_ns, self._acc.answer_ns)) / 1e9
        if self._done.done():
            return
        if idle_s >= timeout:
            # aiohttp's own error for its per-read timeout: the client maps both to ReadTimeout in one place.
            self._done.set_exception(aiohttp.SocketTimeoutError("Timeout on reading data from socket"))
        else:
            self._watch = asyncio.get_running_loop().call_later(timeout - idle_s, self._check_idle)
