"""``SimProcess``: the simulator in a child process, so it does not share a core with the client it serves.

The child is ``python -m assay.sim CONFIG_JSON``. It binds a free port and prints its one line; the parent
reads the port from it. Its standard input is a pipe from the parent, and the child stops when that
closes, so a crashed test run leaves no server behind.
"""

from __future__ import annotations

import collections
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

import assay
from assay.errors import ModelError
from assay.sim.config import SimConfig

STOP_ON_STDIN_EOF_ENV = "ASSAY_SIM_STOP_ON_STDIN_EOF"
_LISTENING = re.compile(r"listening on http://\S+:(\d+)/v1")
_STDERR_LINES_KEPT = 20


class SimProcess:
    """The simulator in a child process; a context manager.

    ::

        with SimProcess(SimConfig(latency_model="fixed", ttft_ms=50, itl_ms=10)) as sim:
            ...  # sim.base_url is http://127.0.0.1:PORT/v1

    The child always binds a free port (the config's ``port`` is ignored) on 127.0.0.1 unless the
    config names another host. Its log lines go to this process's standard error.
    """

    def __init__(self, config: SimConfig | None = None, *, start_timeout_s: float = 30.0):
        self.config = (config or SimConfig()).model_copy(update={"port": 0})
        self.start_timeout_s = start_timeout_s
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES_KEPT)
        self._readers: list[threading.Thread] = []

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the simulator process is not started")
        host = "127.0.0.1" if self.config.host in ("", "0.0.0.0", "::") else self.config.host
        return f"http://{host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the child and wait for its port; ``ModelError`` if it exits or stays silent."""
        if self._process is not None:
            return
        env = dict(os.environ)
        # The child imports the same assay as this process, installed or not.
        package_root = str(Path(assay.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        env[STOP_ON_STDIN_EOF_ENV] = "1"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "assay.sim", self.config.model_dump_json()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        lines: queue.Queue[str] = queue.Queue()
        self._readers = [
            _reader(self._process.stdout, lines.put, name="assay-sim-stdout", once=True),
            _reader(self._process.stderr, self._forward_stderr, name="assay-sim-stderr"),
        ]
        try:
            first, timed_out = lines.get(timeout=self.start_timeout_s), False
        except queue.Empty:
            first, timed_out = "", True
        match = _LISTENING.search(first)
        if match is None:
            raise self._failed_start(timed_out)
        self.port = int(match.group(1))

    def _failed_start(self, timed_out: bool) -> ModelError:
        """Stop the child that did not come up, and say why (with the end of what it wrote to stderr)."""
        process = self._process
        assert process is not None
        code = None
        if not timed_out:  # its output ended: it is exiting, so wait for its exit code
            try:
                code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.stop()  # also waits for the stderr reader, so the tail below is complete
        if code is not None:
            why = f"exited with code {code}"
        elif timed_out:
            why = f"printed no port in {self.start_timeout_s:g} s"
        else:
            why = "closed its output without printing a port"
        tail = " | ".join(self._stderr_tail)
        return ModelError(f"the simulator process {why}" + (f": {tail}" if tail else ""))

    def _forward_stderr(self, line: str) -> None:
        self._stderr_tail.append(line.rstrip())
        sys.stderr.write(line)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate the child and wait for it (killed if it does not exit within ``timeout_s``)."""
        process, self._process = self._process, None
        self.port = None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for thread in self._readers:  # they end at the pipes' end of file, now that the child is gone
            thread.join(timeout=1.0)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> SimProcess:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _reader(
    pipe: IO[bytes], handle: Callable[[str], None], *, name: str, once: bool = False
) -> threading.Thread:
    """Read ``pipe`` line by line in a daemon thread, passing each decoded line to ``handle``."""

    def run() -> None:
        try:
            for raw in iter(pipe.readline, b""):
                handle(raw.decode("utf-8", "replace"))
                if once:
                    return
        except (OSError, ValueError):
            pass  # the pipe was closed by stop()
        if once:
            handle("")  # end of output without the line: wake the waiting start()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
