"""Pipeline overhead of `assay eval`: N MMLU-shaped samples against the zero-latency simulator.

Prints samples/s and peak RSS. Data: /work/shared/data/mmlu (mapped to the hub schema in a temp folder),
or synthetic questions with --synthetic. Usage: python bench/eval_pipeline.py --samples 10000
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path


def _dataset(folder: Path, samples: int) -> tuple[Path, int]:
    rows = [{"question": f"Question {i}: which option is right?", "subject": "anatomy",
             "choices": [f"opt {i} a", f"opt {i} b", f"opt {i} c", f"opt {i} d"], "answer": i % 4}
            for i in range(samples)]
    path = folder / "anatomy" / "test.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    from assay.eval import TaskConfig, run_task

    with tempfile.TemporaryDirectory() as tmp:
        data, count = _dataset(Path(tmp) / "mmlu", args.samples)
        task = TaskConfig(
            eval_type="sim", model="bench", datasets=["mmlu"], eval_batch_size=args.batch,
            model_args={"latency_model": "fixed", "ttft_ms": 0, "itl_ms": 0, "output_len": "8", "seed": 1},
            dataset_args={"mmlu": {"dataset_id": str(data), "subset_list": ["anatomy"]}},
            work_dir=str(Path(tmp) / "out"), generation_config={"max_tokens": 8})
        start = time.perf_counter()
        result = run_task(task, show=False)
        elapsed = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"samples: {count}  elapsed: {elapsed:.2f}s  samples/s: {count / elapsed:.0f}  peak RSS: {rss_mb:.0f} MB  "
          f"score: {result.reports['mmlu'].score}")


if __name__ == "__main__":
    main()
