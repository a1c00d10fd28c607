"""Run a real `transformers serve` (OpenAI-compatible) on 127.0.0.1 as a subprocess, for integration tests.

    with TransformersServer(checkpoint_path) as server:
        server.base_url  # "http://127.0.0.1:PORT/v1"
        server.model     # the model name to send in requests: the checkpoint path, as given to the server

The checkpoint is passed as ``FORCE_MODEL``: the server loads it before it starts listening and answers
for it alone. It accepts requests whose ``model`` is exactly that string (or that leave ``model`` out) and
answers 400 ("Server is pinned to ...") for any other name; ``/v1/models`` lists it under that name.

The server runs in its own process group (``start_new_session``) with ``HF_HUB_OFFLINE=1`` and
``TRANSFORMERS_OFFLINE=1``; ``stop()`` sends SIGTERM to the whole group, waits, and SIGKILLs what is
left; it is also registered with ``atexit`` while the server runs.
Its stdout and stderr go to a log file, whose tail is in the error when the server does not come up.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["ServerStartError", "TransformersServer", "free_port"]


class ServerStartError(RuntimeError):
    """The server exited or did not answer ``/health`` before the deadline."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago: bind port 0, read the port the OS gave, close the socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class TransformersServer:
    """``transformers serve <checkpoint> --host 127.0.0.1 --port <free> --device cpu`` as a subprocess."""

    host = "127.0.0.1"

    def __init__(
        self,
        checkpoint: str | os.PathLike[str],
        *,
        startup_timeout_s: float = 180.0,
        log_path: str | os.PathLike[str] | None = None,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.checkpoint = str(checkpoint)
        self.startup_timeout_s = startup_timeout_s
        self.extra_args = list(extra_args or [])
        self.extra_env = dict(env or {})
        self._log_path = Path(log_path) if log_path is not None else None
        self._log_file = None
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.startup_s: float | None = None

    # ---- what tests use ----

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``/health`` lives here)."""
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.root_url}/v1"

    @property
    def model(self) -> str:
        """The model name to send: the exact FORCE_MODEL string the server was started with."""
        return self.checkpoint

    @property
    def log_path(self) -> Path | None:
        """The file that holds the server's stdout and stderr."""
        return self._log_path

    def log_tail(self, max_chars: int = 4000) -> str:
        """The last ``max_chars`` characters of the server's output."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        text = self._log_path.read_text(errors="replace")
        return text[-max_chars:]

    # ---- life cycle ----

    def command(self) -> list[str]:
        """The command line (the CLI module of the running interpreter's transformers, not a PATH lookup)."""
        return [
            sys.executable,
            "-m",
            "transformers.cli.transformers",
            "serve",
            self.checkpoint,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--device",
            "cpu",
            "--log-level",
            "warning",
            *self.extra_args,
        ]

    def start(self) -> TransformersServer:
        """Start the server and wait until ``GET /health`` answers 200; raise ``ServerStartError`` if not."""
        if self.process is not None:
            raise RuntimeError("server already started")
        self.port = free_port(self.host)
        if self._log_path is None:
            fd, name = tempfile.mkstemp(prefix="transformers-serve-", suffix=".log")
            os.close(fd)
            self._log_path = Path(name)
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_UPDATE_CHECK": "1",  # the CLI checks PyPI for a newer transformers otherwise
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        self._log_file = open(self._log_path, "wb")  # noqa: SIM115 - closed in stop()
        started = time.monotonic()
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so stop() reaches every child
        )
        atexit.register(self.stop)  # never leave a server behind, even if the caller forgets stop()
        try:
            self._wait_healthy(started)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started
        return self

    def _wait_healthy(self, started: float) -> None:
        assert self.process is not None
        deadline = started + self.startup_timeout_s
        url = f"{self.root_url}/health"
        last_error = "no answer yet"
        while True:
            code = self.process.poll()
            if code is not None:
                raise ServerStartError(
                    f"`transformers serve` exited with code {code} before it came up.\n"
                    f"command: {' '.join(self.command())}\n--- server output (tail) ---\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
                    last_error = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                last_error = repr(exc)
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"`transformers serve` did not answer {url} within {self.startup_timeout_s:.0f} s "
                    f"(last: {last_error}).\ncommand: {' '.join(self.command())}\n"
                    f"--- server output (tail) ---\n{self.log_tail()}"
                )
            time.sleep(0.25)

    def stop(self, timeout_s: float = 15.0) -> int | None:
        """Terminate the server's whole process group and wait for it; return its exit code. Idempotent."""
        process = self.process
        code = None
        if process is not None:
            pgid = process.pid  # start_new_session: the process leads its own group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
            try:
                code = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, signal.SIGKILL)
                code = process.wait(timeout=timeout_s)
            # Children that outlived the leader (none expected) go too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            self.process = None
            atexit.unregister(self.stop)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return code

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
