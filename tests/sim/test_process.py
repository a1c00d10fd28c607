"""The simulator in a child process: start, stop, and a thousand concurrent streams."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request

import aiohttp
import orjson
import pytest

from assay.errors import ModelError
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(60)


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return orjson.loads(resp.read())


def test_sim_process_starts_serves_and_stops():
    started = time.perf_counter()
    with SimProcess(SimConfig(port=8801, output_len="3", latency_model="fixed", ttft_ms=0, itl_ms=0)) as sim:
        startup_s = time.perf_counter() - started
        assert sim.port and sim.port != 8801  # always a free port, never the configured one
        assert sim.base_url == f"http://127.0.0.1:{sim.port}/v1"
        request = urllib.request.Request(
            sim.base_url + "/chat/completions", headers={"Content-Type": "application/json"},
            data=orjson.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}),
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert orjson.loads(resp.read())["choices"][0]["message"]["content"] == "The quick brown"
        process = sim._process
        stopping = time.perf_counter()
    stop_s = time.perf_counter() - stopping
    assert process.returncode == 0  # a clean exit on SIGTERM
    assert startup_s < 5 and stop_s < 3, (startup_s, stop_s)
    with pytest.raises(RuntimeError, match="not started"):
        _ = sim.base_url


def test_sim_process_reports_a_failed_start(tmp_path):
    with pytest.raises(ModelError, match="exited with code 2"):
        SimProcess(SimConfig(replay_path=tmp_path / "missing.jsonl")).start()


def test_child_stops_when_its_parent_goes_away():
    # The child watches its standard input, the parent's pipe: closing it is what a dying parent does.
    sim = SimProcess(SimConfig(latency_model="fixed", ttft_ms=0, itl_ms=0))
    sim.start()
    process = sim._process
    try:
        process.stdin.close()
        assert process.wait(timeout=5) == 0
    finally:
        sim.stop()


def test_python_m_assay_sim_rejects_bad_config_json():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-m", "assay.sim", '{"port": "nope"}'], capture_output=True,
                            timeout=30, env=env, check=False)
    assert result.returncode == 2
    assert b"cannot start the simulator" in result.stderr
    assert result.stdout == b""


def test_sigint_stops_serve():
    sim = SimProcess(SimConfig(latency_model="fixed", ttft_ms=0, itl_ms=0))
    sim.start()
    try:
        sim._process.send_signal(signal.SIGINT)
        assert sim._process.wait(timeout=5) == 0
    finally:
        sim.stop()


@pytest.mark.timeout(90)
async def test_thousand_concurrent_streams():
    streams = 1000
    # Long enough a first token that every stream is open at once while the client ramps up.
    config = SimConfig(latency_model="fixed", ttft_ms=1500, itl_ms=20, output_len="8")
    body = orjson.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 16, "stream": True,
                         "stream_options": {"include_usage": True}})
    with SimProcess(config) as sim:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def one() -> tuple[int, int, bool]:
                async with session.post(sim.base_url + "/chat/completions", data=body,
                                        headers={"Content-Type": "application/json"}) as resp:
                    raw = await resp.read()
                return resp.status, raw.count(b'"content":"') - 1, raw.endswith(b"data: [DONE]\n\n")

            started = time.perf_counter()
            results = await asyncio.gather(*(one() for _ in range(streams)))
            elapsed_s = time.perf_counter() - started
            async with session.get(sim.base_url.removesuffix("/v1") + "/sim/stats") as resp:
                stats = await resp.json()
    assert results == [(200, 8, True)] * streams
    assert stats["peak_active_streams"] == streams
    assert stats["requests_total"] == streams and stats["active_streams"] == 0
    print(f"{streams} concurrent streams in {elapsed_s:.2f} s")


async def test_sim_server_urls_and_lifecycle():
    from assay.sim import SimServer

    server = SimServer(SimConfig(host="0.0.0.0", port=0))
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url
    async with server as sim:
        assert sim.base_url == f"http://127.0.0.1:{sim.port}/v1"
        await sim.start()  # starting twice is harmless
        assert sim.stats()["requests_total"] == 0
    await server.stop()  # so is stopping twice
