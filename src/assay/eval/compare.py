"""``assay report compare RUN_A RUN_B``: two runs side by side, with a paired test on the shared samples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from assay.errors import ConfigError
from assay.eval.report import sample_value
from assay.eval.store import RunStore


@dataclass(frozen=True)
class Comparison:
    """One benchmark's main metric in two runs, over the samples both graded (paired by sample id)."""

    benchmark: str
    metric: str
    num: int
    score_a: float
    score_b: float
    difference: float  # b - a
    stderr: float
    ci95: tuple[float, float]
    p_value: float


def paired_difference(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Mean of b - a, its standard error and the two-sided p-value (normal approximation of the paired test)."""
    diffs = [y - x for x, y in zip(a, b)]
    n = len(diffs)
    mean = sum(diffs) / n
    if n < 2:
        return mean, 0.0, 1.0
    stderr = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1) / n)
    if stderr == 0:
        return mean, 0.0, 1.0 if mean == 0 else 0.0
    return mean, stderr, math.erfc(abs(mean / stderr) / math.sqrt(2))


def compare_runs(run_a: str | Path, run_b: str | Path) -> list[Comparison]:
    """Each benchmark present in both runs, compared on its main metric."""
    store_a, store_b = RunStore.existing(run_a), RunStore.existing(run_b)
    reports_a = {p.stem: p for p in store_a.reports.glob("*.json")}
    shared = sorted(name for name in reports_a if (store_b.reports / f"{name}.json").is_file())
    if not shared:
        raise ConfigError(f"{run_a} and {run_b} have no benchmark in common")
    import orjson

    comparisons = []
    for name in shared:
        metric = orjson.loads(reports_a[name].read_bytes())["main_metric"]
        results_a, results_b = store_a.load_results(name), store_b.load_results(name)
        pairs = [(sample_value(results_a[i], metric), sample_value(results_b[i], metric))
                 for i in results_a if i in results_b]
        pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
        if not pairs:
            continue
        a, b = [x for x, _ in pairs], [y for _, y in pairs]
        diff, stderr, p_value = paired_difference(a, b)
        comparisons.append(Comparison(name, metric, len(pairs), sum(a) / len(a), sum(b) / len(b), diff, stderr,
                                      (diff - 1.96 * stderr, diff + 1.96 * stderr), p_value))
    return comparisons


def print_comparison(comparisons: list[Comparison]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("Dataset", "Metric", "Num", "Run A", "Run B", "B - A", "95% CI", "p")
    for c in comparisons:
        table.add_row(c.benchmark, c.metric, str(c.num), f"{c.score_a:.4f}", f"{c.score_b:.4f}",
                      f"{c.difference:+.4f}", f"[{c.ci95[0]:+.4f}, {c.ci95[1]:+.4f}]", f"{c.p_value:.3g}")
    Console().print(table)
