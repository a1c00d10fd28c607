"""A run whose every request fails (an HTML or plain-text 200, an empty body, an error each time) is a failure:
exit non-zero, with the server's first message of each kind on the console, not only in the records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from tests.helpers.loopback_server import LoopbackServer

pytestmark = pytest.mark.timeout(120)


def _gsm8k(tmp_path: Path, rows: int = 3) -> Path:
    path = tmp_path / "gsm8k.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"question": f"What is {i}+1?", "answer": f"#### {i + 1}"}) + b"\n"
                              for i in range(rows)))
    return path


def _eval(tmp_path: Path, base_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OPENAI_API_KEY": ""}
    args = ["eval", "--model", "m", "--api-url", base_url, "--datasets", "gsm8k", "--dataset-args",
            json.dumps({"gsm8k": {"dataset_id": str(_gsm8k(tmp_path))}}), "--max-retries", "0",
            "--work-dir", str(tmp_path / "out"), *extra]
    return subprocess.run([sys.executable, "-m", "assay", *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=100)


def _answer(status: int, body: bytes, content_type: str):
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    return handler


@pytest.mark.parametrize(("handler", "expected"), [
    (_answer(200, b"<html><body>Welcome to nginx!</body></html>", "text/html"), "malformed ×3: "),
    (_answer(200, b"It works!", "text/plain"), "malformed ×3: response is not JSON: b'It works!'"),
    (_answer(200, b"", "application/json"), "malformed ×3: response is not JSON"),
    (_answer(400, b'{"error": {"message": "max_tokens is too large: 2048 > 1024"}}', "application/json"),
     "400 ×3: max_tokens is too large: 2048 > 1024"),
    (_answer(200, b'{"error": {"message": "quota exhausted"}}', "application/json"), "server_error ×3: "),
], ids=["html", "text-plain", "empty", "every-400", "error-object"])
def test_a_run_where_every_request_fails_exits_non_zero_and_says_why(tmp_path, handler, expected):
    with LoopbackServer(handler) as server:
        result = _eval(tmp_path, server.base_url, "--no-stream")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr, result.stderr
    assert "every request failed (3 of 3)" in result.stderr
    (manifest,) = (tmp_path / "out").rglob("manifest.json")
    assert json.loads(manifest.read_text())["status"] == "failed"


def test_a_run_with_some_failures_still_finishes_and_names_them(tmp_path):
    calls = {"n": 0}

    async def handler(request: web.Request) -> web.StreamResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            return web.json_response({"error": {"message": "context length exceeded"}}, status=400)
        message = {"role": "assistant", "content": "The answer is \\boxed{1}."}
        return web.json_response({"id": "r", "model": "m", "choices": [
            {"index": 0, "message": message, "finish_reason": "stop"}]})

    with LoopbackServer(handler) as server:
        result = _eval(tmp_path, server.base_url, "--no-stream", "--eval-batch-size", "1")
    assert result.returncode == 0, result.stderr
    assert "1 of 3 requests failed" in result.stderr and "400 ×1: context length exceeded" in result.stderr


def test_a_server_trickling_keep_alives_times_out_instead_of_hanging(tmp_path):
    import asyncio
    import time

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await resp.write(b": keep-alive\n\n")
            await asyncio.sleep(0.2)
        return resp

    started = time.monotonic()
    with LoopbackServer(handler) as server:
        result = _eval(tmp_path, server.base_url, "--read-timeout", "1")
    assert time.monotonic() - started < 45  # the server would trickle for 60 s per request
    assert result.returncode == 2, result.stderr
    assert "read_timeout ×3: no answer from http://127.0.0.1" in result.stderr
