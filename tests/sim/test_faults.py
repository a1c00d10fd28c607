"""Fault injection: each fault forced with the X-Sim-Fault header, and drawn from seeded rates."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

pytestmark = pytest.mark.timeout(30)


def fault(kind: str) -> dict[str, str]:
    return {"X-Sim-Fault": kind}


async def test_error_500(sim, chat_body):
    status, body, _ = await sim.post("/chat/completions", chat_body(), fault("error"))
    assert status == 500
    assert body["error"]["type"] == "server_error" and body["error"]["code"] == 500
    result = await sim.stream("/chat/completions", chat_body(), fault("error"))
    assert result.status == 500


async def test_429_with_retry_after(sim, chat_body):
    status, body, headers = await sim.post("/chat/completions", chat_body(), fault("429"))
    assert status == 429
    assert headers["Retry-After"] == "1"
    assert body["error"]["type"] == "rate_limit_error"


async def test_error_in_200(sim, chat_body):
    status, body, _ = await sim.post("/chat/completions", chat_body(), fault("error_200"))
    assert status == 200 and set(body) == {"error"} and body["error"]["message"]
    result = await sim.stream("/chat/completions", chat_body(), fault("error_200"))
    assert result.status == 200
    assert set(result.events[0]) == {"error"}
    assert result.done and len(result.events) == 1


async def test_disconnect_mid_stream(start_sim, chat_body):
    _, sim = await start_sim(output_len="10")
    result = await sim.stream("/chat/completions", chat_body(max_tokens=50), fault("disconnect"))
    assert result.status == 200
    assert result.error is not None
    assert not result.done
    assert 0 < len(result.token_times) < 10


async def test_disconnect_mid_stream_with_latency(start_sim, chat_body):
    _, sim = await start_sim(output_len="10", ttft_ms=5, itl_ms=2)
    result = await sim.stream("/completions", {"prompt": "x", "max_tokens": 50}, fault("disconnect"))
    assert result.error is not None and not result.done
    assert len(result.token_times) == 2


async def test_disconnect_without_response(sim, chat_body):
    with pytest.raises(aiohttp.ClientError):
        await sim.post("/chat/completions", chat_body(), fault("disconnect"))
    # The server keeps serving.
    assert (await sim.post("/chat/completions", chat_body()))[0] == 200


async def test_malformed(start_sim, chat_body):
    _, sim = await start_sim(output_len="5")
    result = await sim.stream("/chat/completions", chat_body(max_tokens=50), fault("malformed"))
    assert result.done
    broken = [event for event in result.events if isinstance(event, bytes)]
    assert len(broken) == 1
    assert result.events.index(broken[0]) == 2  # after the role frame and the first token
    status, body, _ = await sim.post("/chat/completions", chat_body(), fault("malformed"))
    assert status == 200 and isinstance(body, bytes)


async def test_stall_mid_stream(start_sim, chat_body):
    _, sim = await start_sim(output_len="3", stall_s=0.4)
    result = await sim.stream("/chat/completions", chat_body(max_tokens=50), fault("stall"))
    assert result.done and len(result.token_times) == 3
    gaps = [b - a for a, b in zip(result.token_times, result.token_times[1:])]
    assert gaps[0] >= 0.35
    started = time.perf_counter()
    status, _, _ = await sim.post("/chat/completions", chat_body(), fault("stall"))
    assert status == 200 and time.perf_counter() - started >= 0.35


async def test_stall_of_a_one_token_answer_comes_before_the_token(start_sim, chat_body):
    _, sim = await start_sim(output_len="1", stall_s=0.3)
    started = time.perf_counter()
    result = await sim.stream("/chat/completions", chat_body(max_tokens=50), fault("stall"))
    assert result.done and len(result.token_times) == 1
    assert result.token_times[0] - started >= 0.25


async def test_stalled_answers_do_not_hold_up_shutdown(start_sim, session, chat_body):
    server, sim = await start_sim(output_len="3")  # stall_s defaults to an hour

    async def first_chunk_then_wait() -> None:
        async with session.post(sim.base_url + "/chat/completions", json=chat_body(stream=True),
                                headers=fault("stall")) as resp:
            await resp.content.readuntil(b"\n\n")
            await resp.read()

    streaming = asyncio.create_task(first_chunk_then_wait())
    pending = asyncio.create_task(sim.post("/chat/completions", chat_body(), fault("stall")))
    await asyncio.sleep(0.3)
    assert server.stats()["active_streams"] == 2
    started = time.perf_counter()
    await server.stop()
    assert time.perf_counter() - started < 1.5
    for task in (streaming, pending):
        with pytest.raises(aiohttp.ClientError):
            await task


async def test_unknown_fault_header_is_400(sim, chat_body):
    status, body, _ = await sim.post("/chat/completions", chat_body(), fault("explode"))
    assert status == 400 and "X-Sim-Fault" in body["error"]["message"]


async def test_seeded_rates(start_sim, chat_body):
    _, always = await start_sim(error_rate=1.0)
    assert [(await always.post("/chat/completions", chat_body()))[0] for _ in range(5)] == [500] * 5
    # "none" forces a clean answer whatever the rates.
    assert (await always.post("/chat/completions", chat_body(), fault("none")))[0] == 200

    async def statuses(seed: int) -> list[int]:
        _, sim = await start_sim(seed=seed, error_rate=0.3, rate_429=0.3)
        return [(await sim.post("/chat/completions", chat_body()))[0] for _ in range(40)]

    first, again = await statuses(7), await statuses(7)
    assert first == again  # same seed, same faults
    assert {500, 429, 200} <= set(first)


async def test_fault_counts_in_stats(start_sim, chat_body):
    server, sim = await start_sim(error_200_rate=1.0)
    for _ in range(3):
        await sim.post("/chat/completions", chat_body())
    await sim.post("/chat/completions", chat_body(), fault("429"))
    await sim.stream("/chat/completions", chat_body(), fault("malformed"))
    _, stats = await sim.get("/sim/stats")
    assert stats["faults"] == {"error": 0, "429": 1, "disconnect": 0, "malformed": 1, "stall": 0,
                               "error_200": 3}
    assert stats["requests_total"] == 5
    assert server.stats() == stats
