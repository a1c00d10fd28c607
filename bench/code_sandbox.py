"""Throughput of HumanEval grading: canonical solutions graded per second through the benchmark's own path
(``HumanEval.ascore``: the code harness's judge process forks the candidate in the sandbox and decides).

    python bench/code_sandbox.py [--parallel N] [--data PATH]

Prints samples/s, the pass rate (must be 100%) and what isolation this host gave.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assay.data import DatasetLoader
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from tests.helpers.shared_data import shared_data_dir

DEFAULT = shared_data_dir() / "humaneval" / "HumanEval.jsonl.gz"
FIXTURE = Path(__file__).parent.parent / "tests/eval/fixtures/humaneval/test.jsonl"


async def _bench(data: Path, parallel: int) -> tuple[int, float, int, str]:
    benchmark = get_benchmark("humaneval")(DatasetArgs(dataset_id=str(data),
                                                       extra_params={"sandbox_workers": parallel, "wall_s": 20}))
    samples = benchmark.load(DatasetLoader(hub="local"))
    answers = [f"```python\n{s.metadata['question']}{s.target}```" for s in samples]
    started = time.perf_counter()
    scores = await asyncio.gather(*(benchmark.ascore(s, a, None) for s, a in zip(samples, answers)))
    elapsed = time.perf_counter() - started
    return len(samples), elapsed, sum(score.values["acc"] == 1 for score in scores), benchmark.sandbox().isolation.how


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data", type=Path, default=DEFAULT if DEFAULT.exists() else FIXTURE)
    args = parser.parse_args()
    count, elapsed, passed, how = asyncio.run(_bench(args.data, args.parallel))
    print(f"{count} samples, {args.parallel} in parallel: {elapsed:.2f} s, {count / elapsed:.1f} samples/s, "
          f"passed {passed}/{count}; isolation: {how}")


if __name__ == "__main__":
    main()
