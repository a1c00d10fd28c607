"""The viewer is read only over HTTP too: the real ``assay app`` refuses ``POST /gradio_api/upload`` (any size)
before reading the body, and stores nothing."""

from __future__ import annotations

import http.client
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.app.running import running_app

pytestmark = pytest.mark.timeout(120)
pytest.importorskip("gradio", reason="gradio is not installed (the `app` extra)")
pytest.importorskip("plotly", reason="plotly is not installed (the `app` extra)")

MARKER = b"assay-upload-marker-" + uuid.uuid4().hex.encode()


def _multipart(boundary: str, size: int) -> tuple[bytes, bytes]:
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + MARKER
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail


def _post_upload(url: str, size: int) -> tuple[int, bytes]:
    """POST a multipart file of ``size`` bytes, sending the body only while the server still reads it."""
    parsed = urlparse(url)
    boundary = uuid.uuid4().hex
    head, tail = _multipart(boundary, size)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.putrequest("POST", "/gradio_api/upload")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    try:
        connection.send(head)
        sent = 0
        while sent < min(size, 4 << 20):  # 4 MB at most: a refusal does not wait for the rest
            chunk = b"\0" * min(1 << 20, size - sent)
            connection.send(chunk)
            sent += len(chunk)
        if sent == size:
            connection.send(tail)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed without reading the body: the answer is still there to read
    response = connection.getresponse()
    try:
        return response.status, response.read()
    finally:
        connection.close()


def _stored(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and MARKER in p.read_bytes()[:200]] if folder.exists() else []


@pytest.mark.parametrize("size", [1024, 100 << 20], ids=["1KB", "100MB"])
def test_uploads_are_refused_and_nothing_is_stored(tmp_path, size):
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    with running_app(outputs, tmp_path) as url:
        status, body = _post_upload(url, size)
        assert status == 403 and b"read only" in body
        with urllib.request.urlopen(url, timeout=10) as page:  # the viewer itself still answers
            assert page.status == 200
    assert _stored(tmp_path / "gradio") == []
