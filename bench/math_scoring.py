"""Math scoring throughput: math-verify equivalence over MATH answers written the way models write them.

Each reference answer of MATH-500 (math500/test.jsonl of the shared data folder; ``--source math`` for the 5,000
MATH test answers, targets from each solution's last box) is rewritten as a model's final answer would
be: ``\\dfrac`` for ``\\frac``, ``x = ...``, a unit, thousands separators, decimals for fractions, stray
spaces and ``\\left( \\right)``, inside a sentence with ``\\boxed{}``. Each one is graded as the runner
grades it: extraction from the text, the cheap string and number stages in the caller, the symbolic stage
in ``MathChecker``'s process pool. Prints per-sample median and p99 latency, samples/s and the agreement.

Usage: python bench/math_scoring.py [--source math500|math] [--workers 2] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.shared_data import shared_data_dir  # noqa: E402

SOURCES = {"math500": shared_data_dir() / "math500" / "test.jsonl", "math": shared_data_dir() / "math" / "test.jsonl"}


def model_style(answer: str, index: int) -> str:
    """One of six ways models write ``answer`` (chosen by ``index``, so the set is fixed)."""
    style = index % 6
    if style == 1:
        answer = answer.replace("\\frac", "\\dfrac").replace(",", ", ")
    elif style == 2:
        answer = f"x = {answer}"
    elif style == 3:
        match = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", answer)
        if match:
            value = Fraction(int(match[2]), int(match[3])) * (-1 if match[1] else 1)
            # A terminating decimal only (what a model would write exactly).
            denominator = value.denominator
            for p in (2, 5):
                while denominator % p == 0:
                    denominator //= p
            if denominator == 1:
                answer = f"{float(value):g}"
    elif style == 4 and re.fullmatch(r"-?\d+(\.\d+)?", answer):
        answer = f"{answer}\\text{{ units}}"
    elif style == 5:
        if re.fullmatch(r"\d{4,}", answer):
            answer = f"{int(answer):,}".replace(",", "{,}")
        elif answer.startswith("(") and answer.endswith(")"):
            answer = f"\\left( {answer[1:-1]} \\right)"
    return f"Putting it together step by step, we get the result.\nThe final answer is $\\boxed{{{answer}}}$."


def load(source: str, limit: int | None) -> list[str]:
    from assay.eval.scoring.math import extract_boxed

    rows = [json.loads(line) for line in SOURCES[source].read_text().splitlines() if line.strip()]
    targets = [str(r["answer"]) if "answer" in r else extract_boxed(r["solution"]) for r in rows]
    return [t for t in targets if t][:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", choices=sorted(SOURCES), default="math500")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    options = parser.parse_args()

    from assay.eval.benchmarks.common import final_answer
    from assay.eval.scoring.symbolic import MathChecker

    targets = load(options.source, options.limit)
    outputs = [model_style(t, i) for i, t in enumerate(targets)]
    verdicts: list[bool | None] = []
    latencies_ms: list[float] = []
    with MathChecker(timeout_s=5.0, max_workers=options.workers) as checker:
        checker.equal("\\frac{1}{2}", "\\sin(x)^2 + \\cos(x)^2")  # start the pool: not part of any sample's time
        started = time.perf_counter()
        for output, target in zip(outputs, targets):
            t0 = time.perf_counter()
            extraction = final_answer(output)
            verdicts.append(None if extraction is None else checker.equal(extraction.answer, target))
            latencies_ms.append((time.perf_counter() - t0) * 1000)
        total_s = time.perf_counter() - started
    ordered = sorted(latencies_ms)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    equal = sum(1 for v in verdicts if v is True)
    undecided = sum(1 for v in verdicts if v is None)
    print(f"source: {options.source} ({len(targets)} answers, model-style rewrites), {options.workers} checker workers")
    print(f"per-sample latency: median {statistics.median(latencies_ms):.3f} ms, p99 {p99:.2f} ms, "
          f"max {ordered[-1]:.1f} ms")
    print(f"throughput: {len(targets) / total_s:.0f} samples/s ({total_s:.2f} s in all, one at a time)")
    print(f"judged equivalent: {equal}/{len(targets)} ({equal / len(targets):.1%}); undecided (timeout): {undecided}")
    misses = [(o.split("boxed{", 1)[1][:40], t) for o, t, v in zip(outputs, targets, verdicts) if v is not True]
    for output, target in misses[:10]:
        print(f"  not matched: {output!r} vs {target!r}")


if __name__ == "__main__":
    main()
