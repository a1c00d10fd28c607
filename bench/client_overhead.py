"""Client overhead: assay's client against a minimal raw aiohttp streaming loop, in one run.

The simulator runs in a child process with zero latency and fixed-length streamed answers sent in one
write, so every loop is limited by the client side. For each concurrency four loops each run for a
fixed wall time:

- raw bytes: post, read the stream, count ``data:`` markers. aiohttp's floor; it learns nothing.
- raw lines: the loop every load tester starts from: ``async for line in resp.content``, keep the
  ``data:`` lines, stop at ``[DONE]``, count the chunks; no JSON parsing.
- raw JSON: the least a load tester must do: split the events and parse each one's JSON for its delta.
- assay: the client, which also stamps every chunk, keeps text and reasoning apart, reads usage and
  finish reason, checks for errors and builds a typed Completion.

    python bench/client_overhead.py [--seconds 5] [--tokens 200] [--concurrency 1 64 512]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from contextlib import nullcontext
from typing import Awaitable, Callable

import aiohttp
import orjson

from assay.client import ClientConfig, OpenAIClient
from assay.sim import SimConfig, SimProcess
from assay.utils.gctune import collector_tuned_for_load

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None


def payload(tokens: int) -> dict:
    return {
        "model": "assay-sim", "messages": [{"role": "user", "content": "Tell me a story."}],
        "max_tokens": tokens, "stream": True, "stream_options": {"include_usage": True},
    }


async def _aiohttp_loop(base_url: str, concurrency: int, seconds: float, tokens: int,
                        read: Callable[[aiohttp.ClientResponse], Awaitable[int]]) -> tuple[int, int]:
    """``concurrency`` workers posting the same request until ``seconds`` pass; ``read`` counts its chunks."""
    body = orjson.dumps(payload(tokens))
    headers = {"Content-Type": "application/json"}
    requests = chunks = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal requests, chunks
            while time.perf_counter() < deadline:
                async with session.post(base_url + "/chat/completions", data=body, headers=headers) as resp:
                    chunks += await read(resp)
                requests += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests, chunks


async def _count_markers(resp: aiohttp.ClientResponse) -> int:
    chunks = 0
    async for data in resp.content.iter_any():
        chunks += data.count(b"data:")
    return chunks


async def _count_lines(resp: aiohttp.ClientResponse) -> int:
    chunks = 0
    async for line in resp.content:
        if not line.startswith(b"data:"):
            continue
        chunks += 1  # [DONE] included, as the raw bytes loop counts it
        if line[5:].strip() == b"[DONE]":
            break
    return chunks


async def _parse_events(resp: aiohttp.ClientResponse) -> int:
    chunks = 0
    buffer = b""
    text = []
    async for data in resp.content.iter_any():
        buffer += data
        *events, buffer = buffer.split(b"\n\n")
        for event in events:
            chunks += 1
            if event != b"data: [DONE]":
                choices = orjson.loads(event[6:])["choices"]
                if choices:
                    text.append(choices[0]["delta"].get("content") or "")
    return chunks


async def raw_loop(base_url: str, concurrency: int, seconds: float, tokens: int) -> tuple[int, int]:
    """The hardware's limit for this job: post, read the stream, count its data events, nothing else."""
    return await _aiohttp_loop(base_url, concurrency, seconds, tokens, _count_markers)


async def raw_lines_loop(base_url: str, concurrency: int, seconds: float, tokens: int) -> tuple[int, int]:
    """The idiomatic minimal streaming loop: read line by line, count ``data:`` events up to ``[DONE]``."""
    return await _aiohttp_loop(base_url, concurrency, seconds, tokens, _count_lines)


async def raw_json_loop(base_url: str, concurrency: int, seconds: float, tokens: int) -> tuple[int, int]:
    """A minimal hand-written streaming client: split SSE events, parse each event's JSON."""
    return await _aiohttp_loop(base_url, concurrency, seconds, tokens, _parse_events)


async def client_loop(base_url: str, concurrency: int, seconds: float, tokens: int) -> tuple[int, int]:
    """assay's client: parses every chunk, stamps every chunk, builds a typed Completion."""
    body = orjson.dumps(payload(tokens))
    requests = chunks = failures = 0
    deadline = time.perf_counter() + seconds
    async with OpenAIClient(ClientConfig(base_url=base_url)) as client:
        async def worker() -> None:
            nonlocal requests, chunks, failures
            while time.perf_counter() < deadline:
                completion = await client.send("chat", body, capture_errors=True)
                requests += 1
                chunks += completion.chunk_count + 1  # + the [DONE] event the raw loop also counts
                failures += completion.error is not None

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failures:
        raise SystemExit(f"{failures} requests failed")
    return requests, chunks


def measure(fn, base_url: str, concurrency: int, seconds: float, tokens: int,
            tuned_gc: bool = False) -> tuple[float, float]:
    runner = uvloop.run if uvloop else asyncio.run
    started = time.perf_counter()
    with collector_tuned_for_load() if tuned_gc else nullcontext():
        requests, chunks = runner(fn(base_url, concurrency, seconds, tokens))
    elapsed = time.perf_counter() - started
    return requests / elapsed, chunks / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 64, 512])
    parser.add_argument("--tuned-gc", action="store_true",
                        help="run every loop with the garbage-collector setting assay perf and eval use")
    args = parser.parse_args()
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=0, itl_ms=0, output_len=str(args.tokens))
    print(f"answers of {args.tokens} tokens, {args.seconds:.0f} s per measurement, simulator in a child process"
          + (", collector tuned as in perf and eval" if args.tuned_gc else ", Python's default collector"))
    print(f"{'concurrency':>11} | {'loop':>9} | {'req/s':>7} | {'chunks/s':>9} | vs raw bytes | vs raw lines | "
          "vs raw JSON")
    with SimProcess(config) as sim:
        for concurrency in args.concurrency:
            measure(raw_loop, sim.base_url, concurrency, 0.5, args.tokens)  # warm-up
            results = {}
            for name, loop in (("raw bytes", raw_loop), ("raw lines", raw_lines_loop), ("raw JSON", raw_json_loop),
                               ("assay", client_loop)):
                results[name] = measure(loop, sim.base_url, concurrency, args.seconds, args.tokens, args.tuned_gc)
            for name, (rps, cps) in results.items():
                print(f"{concurrency:>11} | {name:>9} | {rps:>7.0f} | {cps:>9.0f} | "
                      f"{cps / results['raw bytes'][1]:>11.0%} | {cps / results['raw lines'][1]:>11.0%} | "
                      f"{cps / results['raw JSON'][1]:>10.0%}")


if __name__ == "__main__":
    main()
