"""An aiohttp server on 127.0.0.1 (port 0) in its own thread, answering with a handler the test writes, so a
subprocess of ``python -m assay`` can be pointed at a server that misbehaves in one exact way."""

from __future__ import annotations

import asyncio
import threading
from typing import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoopbackServer:
    """``with LoopbackServer(handler) as server:`` then ``server.base_url`` is ``http://127.0.0.1:PORT/v1``.

    ``routes``: (method, path) pairs the handler answers; by default every method on every path.
    """

    def __init__(self, handler: Handler, routes: tuple[tuple[str, str], ...] = (("*", "/{tail:.*}"),)) -> None:
        self.handler = handler
        self.routes = routes
        self.requests = 0
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        return await self.handler(request)

    async def _start(self) -> None:
        app = web.Application()
        for method, path in self.routes:
            app.router.add_route(method, path, self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
