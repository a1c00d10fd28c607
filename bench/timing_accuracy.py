"""Timing accuracy: the client's TTFT and inter-chunk gaps against a simulator with known delays.

The simulator (child process, ``fixed`` latency model) waits exactly ``--ttft-ms`` before the first
token and ``--itl-ms`` between tokens, on absolute deadlines. We run ``--concurrency`` streams and
compare the client's measured values with the configured truth at the median and p99.

    python bench/timing_accuracy.py [--concurrency 64] [--requests 640] [--ttft-ms 50] [--itl-ms 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np
import orjson

from assay.client import ClientConfig, OpenAIClient
from assay.sim import SimConfig, SimProcess

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None


async def run(base_url: str, concurrency: int, requests: int, tokens: int) -> tuple[list[float], list[float]]:
    body = orjson.dumps({
        "model": "assay-sim", "messages": [{"role": "user", "content": "time me"}], "max_tokens": tokens,
        "stream": True, "stream_options": {"include_usage": True},
    })
    ttfts: list[float] = []
    gaps: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    async with OpenAIClient(ClientConfig(base_url=base_url)) as client:
        # Warm-up: open the connections (TCP set-up is not what we measure) and wake the server.
        await asyncio.gather(*(client.send("chat", body) for _ in range(concurrency)))
        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                completion = await client.send("chat", body, capture_errors=True)
                if completion.error:
                    raise RuntimeError(completion.error.message)
                ttfts.append(completion.timings.time_to_first_token_s * 1000)
                gaps.extend(g * 1000 for g in completion.timings.inter_chunk_gaps_s())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ttfts, gaps


def describe(name: str, values: list[float], truth: float) -> str:
    arr = np.asarray(values)
    errors = np.abs(arr - truth)
    return (f"{name:>4}: truth {truth:.1f} ms | measured median {np.median(arr):.2f} p99 {np.percentile(arr, 99):.2f}"
            f" | |error| median {np.median(errors):.2f} ms, p99 {np.percentile(errors, 99):.2f} ms (n={len(arr)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--requests", type=int, default=640)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--itl-ms", type=float, default=10.0)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                        help="asyncio's loop gets kernel receive timestamps on Linux; uvloop stamps in data_received")
    args = parser.parse_args()
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=args.ttft_ms, itl_ms=args.itl_ms,
                       output_len=str(args.tokens))
    with SimProcess(config) as sim:
        started = time.perf_counter()
        runner = uvloop.run if uvloop and args.loop == "uvloop" else asyncio.run
        ttfts, gaps = runner(run(sim.base_url, args.concurrency, args.requests, args.tokens))
        elapsed = time.perf_counter() - started
    print(f"{args.loop} loop, concurrency {args.concurrency}, {args.requests} requests of {args.tokens} tokens in {elapsed:.1f} s")
    print(describe("TTFT", ttfts, args.ttft_ms))
    print(describe("ITL", gaps, args.itl_ms))


if __name__ == "__main__":
    main()
