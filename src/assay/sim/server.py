"""Running the simulator: ``SimServer`` inside the caller's event loop, ``serve`` as a blocking command."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from types import TracebackType

from aiohttp import web

from assay.sim.app import SimState, build_server
from assay.sim.config import SimConfig

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is not built for Windows
    uvloop = None  # type: ignore[assignment]

logger = logging.getLogger("assay.sim")

# Room for a thousand clients connecting at once (the kernel caps it at net.core.somaxconn).
_LISTEN_BACKLOG = 4096
# In-flight handlers are cancelled on stop; this only bounds waiting for aiohttp to notice.
_SHUTDOWN_GRACE_S = 1.0
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class SimServer:
    """The simulated OpenAI-compatible server, in the current event loop.

    ::

        async with SimServer(SimConfig(port=0)) as sim:
            ...  # talk to sim.base_url, e.g. http://127.0.0.1:PORT/v1

    With ``port=0`` the system picks a free port; ``.port`` tells which.
    """

    def __init__(self, config: SimConfig | None = None):
        self.config = config or SimConfig()
        self.port: int | None = None
        self._state: SimState | None = None
        self._runner: web.ServerRunner | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, ``http://HOST:PORT/v1`` (127.0.0.1 when listening on all addresses)."""
        if self.port is None:
            raise RuntimeError("the simulator is not started")
        host = "127.0.0.1" if self.config.host in _WILDCARD_HOSTS else self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/v1"

    def stats(self) -> dict:
        """The counters ``GET /sim/stats`` returns, read directly."""
        if self._state is None:
            raise RuntimeError("the simulator is not started")
        return self._state.stats()

    async def start(self) -> None:
        """Bind and start serving; a ``ConfigError`` if the replay file cannot be read."""
        if self._runner is not None:
            return
        self._state = SimState.from_config(self.config)
        runner = web.ServerRunner(build_server(self._state), handle_signals=False,
                                  shutdown_timeout=_SHUTDOWN_GRACE_S)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.config.host, self.config.port, backlog=_LISTEN_BACKLOG)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop at once: in-flight answers (stalled ones included) are cut off, not waited for."""
        runner, state = self._runner, self._state
        if runner is None or state is None:
            return
        self._runner = None
        for task in list(state.handler_tasks):
            task.cancel()
        await runner.cleanup()
        await state.pacer.close()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def serve(config: SimConfig, *, stop_on_stdin_eof: bool = False) -> None:
    """Run the simulator until SIGINT or SIGTERM (on uvloop when installed).

    Prints one line, ``assay sim listening on http://HOST:PORT/v1 (model NAME)``, once it accepts
    connections. ``stop_on_stdin_eof`` also stops it when standard input closes, which is how a
    ``SimProcess`` child ends when its parent dies without stopping it.
    """
    run = uvloop.run if uvloop is not None else asyncio.run
    run(_serve(config, stop_on_stdin_eof))


async def _serve(config: SimConfig, stop_on_stdin_eof: bool) -> None:
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stopped.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            pass
    async with SimServer(config) as sim:
        print(f"assay sim listening on http://{config.host}:{sim.port}/v1 (model {config.model})", flush=True)
        if stop_on_stdin_eof:
            _watch_stdin(loop, stopped)
        await stopped.wait()


def _watch_stdin(loop: asyncio.AbstractEventLoop, stopped: asyncio.Event) -> None:
    """Set ``stopped`` when standard input reaches end of file (read in a thread: pipes block)."""

    def read_until_eof() -> None:
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered file's lock aborts the
        # interpreter at exit.
        try:
            while os.read(sys.stdin.fileno(), 4096):
                pass
        except (OSError, ValueError):
            pass
        try:
            loop.call_soon_threadsafe(stopped.set)
        except RuntimeError:  # the loop is already closed: the server stopped for another reason
            pass

    threading.Thread(target=read_until_eof, name="assay-sim-stdin", daemon=True).start()
