"""The preflight sends the run's own request options, so a max_tokens over the server's limit stops the run at
once with the server's message; a run whose every request fails exits non-zero and says why on the console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from assay.sim import SimConfig, SimProcess
from tests.helpers.loopback_server import LoopbackServer

pytestmark = pytest.mark.timeout(120)

VLLM_MESSAGE = "This model's maximum context length is 1024 tokens"


def _perf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": "", "ASSAY_API_KEY": "", "COLUMNS": "200",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "assay", "perf", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=100, env=env)


@pytest.fixture(scope="module")
def sim_1024():
    config = SimConfig(port=0, max_model_len=1024, output_len="8", latency_model="fixed", ttft_ms=0, itl_ms=0)
    with SimProcess(config) as server:
        yield server


def _common(server_url: str, prompts_file: Path, tmp_path: Path) -> list[str]:
    return ["--url", server_url, "--model", "m", "--number", "6", "--parallel", "2", "--dataset", "line_by_line",
            "--dataset-path", str(prompts_file), "--no-charts", "--outputs-dir", str(tmp_path / "out")]


def test_max_tokens_over_the_limit_fails_the_preflight_with_the_servers_message(sim_1024, tmp_path, prompts_file):
    result = _perf(*_common(sim_1024.base_url, prompts_file, tmp_path), "--max-tokens", "2048", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "rejected the request" in line and VLLM_MESSAGE in line
    assert not (tmp_path / "out").exists()  # stopped before the run: no run folder


def test_max_tokens_within_the_limit_runs(sim_1024, tmp_path, prompts_file):
    result = _perf(*_common(sim_1024.base_url, prompts_file, tmp_path), "--max-tokens", "512", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "requests failed" not in result.stdout


def test_extra_body_is_in_the_preflight_too(tmp_path, prompts_file):
    seen: list[dict] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append(body)
        if body.get("chat_template_kwargs") != {"enable_thinking": False}:
            return web.json_response({"error": {"message": "unexpected"}}, status=500)
        return web.json_response({"error": {"message": "chat_template_kwargs is not supported here"}}, status=400)

    with LoopbackServer(handler) as server:
        result = _perf(*_common(server.base_url, prompts_file, tmp_path), "--max-tokens", "64", "--extra-args",
                       orjson.dumps({"chat_template_kwargs": {"enable_thinking": False}}).decode(), cwd=tmp_path)
    assert result.returncode == 2 and "chat_template_kwargs is not supported here" in result.stderr, result.stderr
    assert len(seen) == 1 and seen[0]["max_tokens"] == 64


def test_every_request_rejected_exits_non_zero_and_prints_the_message(sim_1024, tmp_path, prompts_file):
    result = _perf(*_common(sim_1024.base_url, prompts_file, tmp_path), "--max-tokens", "2048",
                   "--no-test-connection", "--warmup", "0", cwd=tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "6 of 6 requests failed:" in result.stdout and f"400 ×6: {VLLM_MESSAGE}" in result.stdout
    assert "every request failed (6 of 6)" in result.stderr and VLLM_MESSAGE in result.stderr
    assert list((tmp_path / "out").rglob("summary.json"))  # the summaries are still written
