"""Accuracy under load: `assay perf` against injected latency (TTFT 50 ms, ITL 10 ms) at parallel 256.

The simulator (fixed latency model, child process) sleeps exactly ttft-ms before the first token and itl-ms
between tokens; the error is what `assay perf` reports minus that truth. Run with one and with several
load-generator processes.

    python bench/perf_accuracy.py [--parallel 256] [--number 1024] [--tokens 64] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import tempfile

from assay.perf import PerfConfig, run_perf
from assay.sim import SimConfig, SimProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=256)
    parser.add_argument("--number", type=int, default=1024)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--ttft-ms", type=float, default=50)
    parser.add_argument("--itl-ms", type=float, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    sim = SimConfig(port=0, latency_model="fixed", ttft_ms=args.ttft_ms, itl_ms=args.itl_ms, output_len=str(args.tokens))
    tpot_truth = args.itl_ms  # (latency - ttft) / (n - 1) = itl when every token is its own chunk
    print(f"truth: TTFT {args.ttft_ms} ms, ITL {args.itl_ms} ms, {args.tokens} tokens; parallel {args.parallel}, "
          f"{args.number} requests")
    with SimProcess(sim) as server:
        for workers in args.workers:
            with tempfile.TemporaryDirectory() as out:
                s = run_perf(PerfConfig(url=server.base_url, model="assay-sim", parallel=[args.parallel],
                                        number=[args.number], prompt="hi", max_tokens=args.tokens, charts=False,
                                        outputs_dir=out, num_workers=workers, warmup=args.parallel)).summaries[0]
            p = s.percentiles
            print(f"workers={workers}: TTFT p50 {p['ttft_s']['p50'] * 1000:.2f} ms "
                  f"(error {p['ttft_s']['p50'] * 1000 - args.ttft_ms:+.2f}), p99 {p['ttft_s']['p99'] * 1000:.2f} ms; "
                  f"ITL p50 {p['itl_s']['p50'] * 1000:.2f} ms (error {p['itl_s']['p50'] * 1000 - args.itl_ms:+.2f}), "
                  f"p99 {p['itl_s']['p99'] * 1000:.2f} ms; TPOT p50 {p['tpot_s']['p50'] * 1000:.2f} ms "
                  f"(error {p['tpot_s']['p50'] * 1000 - tpot_truth:+.2f}); {s.request_throughput_rps:.0f} req/s; "
                  f"client CPU {s.health.cpu_mean_fraction:.0%}, loop lag p99 {s.health.loop_lag_p99_ms:.1f} ms; "
                  f"warnings: {s.health.warnings or 'none'}")


if __name__ == "__main__":
    main()
