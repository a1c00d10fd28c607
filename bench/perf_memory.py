"""Memory: peak RSS of `assay perf` for a 100,000-request run (records stream to SQLite).

The simulator runs in its own child process (zero latency), so this process's peak resident set size
(ru_maxrss) is the load generator's alone: plan, client, metrics, the SQLite writer thread and the summary.

    python bench/perf_memory.py [--number 100000] [--tokens 64] [--parallel 64]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from assay.perf import PerfConfig, run_perf
from assay.sim import SimConfig, SimProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--parallel", type=int, default=64)
    args = parser.parse_args()
    sim_config = SimConfig(port=0, latency_model="fixed", ttft_ms=0, itl_ms=0, output_len=str(args.tokens))
    with SimProcess(sim_config) as sim, tempfile.TemporaryDirectory() as out:
        before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        s = run_perf(PerfConfig(url=sim.base_url, model="assay-sim", parallel=[args.parallel], number=[args.number],
                                prompt="hi", max_tokens=args.tokens, charts=False, outputs_dir=out)).summaries[0]
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size_mb = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs) / 2**20
    print(f"{s.total_requests} requests ({s.failed_requests} failed) in {wall:.0f} s, {s.itl_samples} ITL samples "
          f"(exact percentiles: {s.itl_exact}); peak RSS {peak_mb:.0f} MB (after imports {before_mb:.0f} MB); "
          f"records on disk {size_mb:.0f} MB")


if __name__ == "__main__":
    main()
