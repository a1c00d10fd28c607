"""`assay perf` capacity: the most requests/s and chunks/s it sustains, beside the raw aiohttp loop.

The simulator runs in a child process at zero latency, streaming fixed-length answers in one write, so
every loop here is limited by the client. For each concurrency: the raw loops of bench/client_overhead.py
(raw bytes: the hardware's limit; raw lines: the minimal line-by-line loop a load tester starts from), then
`assay perf` (the whole tool: plan, client, metrics, SQLite records, health monitor), and its median TTFT
against the server's true TTFT of 0 (phantom latency, if any).
Optionally the same load through EvalScope (`--evalscope PATH_TO_evalscope_EXECUTABLE`).

    python bench/perf_capacity.py [--seconds 5] [--tokens 200] [--parallel 64 512] [--evalscope /tmp/es/bin/evalscope]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import tempfile
import time

from client_overhead import measure, raw_lines_loop, raw_loop

from assay.perf import PerfConfig, run_perf
from assay.sim import SimConfig, SimProcess


def assay_perf(base_url: str, parallel: int, number: int, tokens: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = run_perf(PerfConfig(
            url=base_url, model="assay-sim", parallel=[parallel], number=[number], prompt="Tell me a story.",
            max_tokens=tokens, charts=False, outputs_dir=out, num_workers=workers))
        wall = time.perf_counter() - started
    s = result.summaries[0]
    return {"rps": s.request_throughput_rps, "tps": s.output_throughput_tps, "ttft_p50_ms": s.median_ttft_s * 1000,
            "ttft_p99_ms": s.percentiles["ttft_s"]["p99"] * 1000, "failed": s.failed_requests, "wall_s": wall,
            "client_bound": s.health.client_bound, "cpu": s.health.cpu_mean_fraction}


def evalscope_perf(exe: str, base_url: str, parallel: int, number: int, tokens: int) -> dict | None:
    with tempfile.TemporaryDirectory() as out:
        cmd = [exe, "perf", "--url", base_url + "/chat/completions", "--model", "assay-sim", "--api", "openai",
               "--parallel", str(parallel), "--number", str(number), "--prompt",
               "Tell me a story.", "--max-tokens", str(tokens), "--stream", "--outputs-dir", out]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "MODELSCOPE_OFFLINE": "1"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        found = glob.glob(os.path.join(out, "**", "benchmark_summary.json"), recursive=True)
        if proc.returncode != 0 or not found:
            print("evalscope failed:", proc.stderr[-500:])
            return None
        with open(found[0]) as file:
            summary = json.load(file)
        ttft_ms = None
        percentile_files = glob.glob(os.path.join(out, "**", "benchmark_percentile.json"), recursive=True)
        if percentile_files:
            with open(percentile_files[0]) as file:
                rows = json.load(file)
            # EvalScope 1.14 reports TTFT in ms ("TTFT (ms)"), older releases in s ("TTFT (s)").
            for row in rows:
                if row.get("Percentiles") == "50%":
                    ttft_ms = row.get("TTFT (ms)", (row.get("TTFT (s)") or 0) * 1000)
        rps = summary.get("Req Throughput (req/s)", summary.get("Request throughput (req/s)"))
        return {"rps": rps, "ttft_p50_ms": ttft_ms}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--parallel", type=int, nargs="+", default=[64, 512])
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--evalscope", default=None, help="path to an evalscope executable (optional)")
    args = parser.parse_args()
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=0, itl_ms=0, output_len=str(args.tokens))
    print(f"answers of {args.tokens} tokens in one write, zero server latency, simulator in a child process, "
          f"{os.cpu_count()} CPUs")
    with SimProcess(config) as sim:
        for parallel in args.parallel:
            measure(raw_loop, sim.base_url, parallel, 0.5, args.tokens)  # warm-up
            raw_rps, raw_cps = measure(raw_loop, sim.base_url, parallel, args.seconds, args.tokens)
            lines_rps, lines_cps = measure(raw_lines_loop, sim.base_url, parallel, args.seconds, args.tokens)
            number = max(parallel * 4, int(raw_rps * args.seconds))
            print(f"\nparallel {parallel}: raw bytes loop {raw_rps:.0f} req/s, {raw_cps:.0f} chunks/s; "
                  f"raw lines loop {lines_rps:.0f} req/s, {lines_cps:.0f} chunks/s; assay perf runs {number} requests")

            def of_raw(rps: float) -> str:
                return f"{rps / raw_rps:.0%} of raw bytes, {rps / lines_rps:.0%} of raw lines"

            for workers in args.workers:
                r = assay_perf(sim.base_url, parallel, number, args.tokens, workers)
                print(f"  assay perf (workers={workers}): {r['rps']:.0f} req/s ({of_raw(r['rps'])}), "
                      f"{r['tps']:.0f} tokens/s, median TTFT {r['ttft_p50_ms']:.1f} ms, p99 {r['ttft_p99_ms']:.1f} ms, "
                      f"failed {r['failed']}, client CPU {r['cpu']:.0%}, client-bound warning: {r['client_bound']}")
            if args.evalscope:
                e = evalscope_perf(args.evalscope, sim.base_url, parallel, number, args.tokens)
                if e:
                    print(f"  evalscope perf: {e['rps']:.0f} req/s ({of_raw(e['rps'])}), "
                          f"median TTFT {e['ttft_p50_ms']:.1f} ms")


if __name__ == "__main__":
    main()
