"""Throughput of the code sandbox: HumanEval canonical solutions (prompt + solution + check) per second.

    python bench/code_sandbox.py [--parallel N] [--data PATH]

Prints samples/s, the pass rate (must be 100%) and what isolation this host gave.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assay.eval.scoring.code import humaneval_program, humaneval_test_program
from assay.eval.scoring.sandbox import Sandbox, SandboxLimits
from tests.helpers.shared_data import shared_data_dir

DEFAULT = shared_data_dir() / "humaneval" / "HumanEval.jsonl.gz"
FIXTURE = Path(__file__).parent.parent / "tests/eval/fixtures/humaneval/test.jsonl"


def _rows(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


async def _bench(rows: list[dict], parallel: int) -> tuple[float, int]:
    sandbox = Sandbox(SandboxLimits(cpu_s=10, wall_s=20), max_parallel=parallel)
    programs = [humaneval_test_program(humaneval_program(r["prompt"], r["canonical_solution"], r["entry_point"])[0],
                                       r["test"], r["entry_point"]) for r in rows]
    started = time.perf_counter()
    results = await asyncio.gather(*(sandbox.run_python(p) for p in programs))
    return time.perf_counter() - started, sum(r.ok for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data", type=Path, default=DEFAULT if DEFAULT.exists() else FIXTURE)
    args = parser.parse_args()
    rows = _rows(args.data)
    elapsed, passed = asyncio.run(_bench(rows, args.parallel))
    print(f"{len(rows)} samples, {args.parallel} in parallel: {elapsed:.2f} s, {len(rows) / elapsed:.1f} samples/s, "
          f"passed {passed}/{len(rows)}; isolation: {Sandbox().isolation.how}")


if __name__ == "__main__":
    main()
