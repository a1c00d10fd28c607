"""``assay app`` started for real in a subprocess on a free loopback port (for the browser and HTTP tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(outputs: Path, scratch: Path, startup_timeout_s: float = 60, ui: str = "gradio",
                args: Sequence[str] = ()) -> Iterator[str]:
    """The app's URL while it runs on ``outputs`` (``ui``: the ``--ui`` to start, ``args``: more options); its log
    (``scratch/app.log``) and Gradio's cache folder go under ``scratch``."""
    port = free_port()
    log = scratch / "app.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_TEMP_DIR": str(scratch / "gradio")}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "assay", "app", "--outputs", str(outputs),
                                    "--port", str(port), "--ui", ui, *args], stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"assay app did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "app"


def screenshot(page: Any, name: str) -> None:
    """A full-page screenshot of the view under test-artifacts/app/ (kept out of git), for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)
