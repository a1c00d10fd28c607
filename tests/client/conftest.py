"""A throwaway aiohttp server on 127.0.0.1 (port 0) with handlers each test writes itself."""

from __future__ import annotations

from typing import Awaitable, Callable

import pytest
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def raw_server():
    runners: list[web.AppRunner] = []

    async def start(handler: Handler, path: str = "/v1/chat/completions") -> str:
        app = web.Application()
        app.router.add_route("*", path, handler)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for runner in runners:
        await runner.cleanup()
