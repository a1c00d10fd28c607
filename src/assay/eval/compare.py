"""``assay report compare RUN_A RUN_B``: two runs side by side, with a paired test on the shared samples.

Two runs of one model (thinking vs non-thinking, two quantisations) answer the same questions, so their
scores are compared through per-sample differences (Miller, 2024, "Adding Error Bars to Evals"), which
cancels the questions' own variance: a seeded paired bootstrap gives the 95% interval of B - A, and the
difference "exceeds the noise" when that interval excludes 0. The statistics live in
:mod:`assay.eval.scoring.stats`, shared with the reports.

A collection run (``data_collection``) is compared per dataset, per task type and as a whole, each row on
its own benchmark's main metric, as the collection report groups it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from assay.errors import ConfigError
from assay.eval.report import sample_value
from assay.eval.scoring.stats import mean_stderr, paired_bootstrap
from assay.eval.store import RunStore


@dataclass(frozen=True)
class Comparison:
    """One benchmark's main metric in two runs, over the samples both graded (paired by sample id)."""

    benchmark: str  # the benchmark; in a collection, the dataset, ``task_type: X`` or ``collection``
    metric: str
    num: int
    score_a: float
    score_b: float
    difference: float  # b - a
    ci95: tuple[float, float]
    p_value: float | None
    significant: bool  # the interval excludes 0: the difference is larger than the noise
    stderr_a: float | None = None
    stderr_b: float | None = None

    @property
    def verdict(self) -> str:
        if self.significant:
            return f"{'B' if self.difference > 0 else 'A'} is better (beyond the noise)"
        return "within the noise"


def compare_runs(run_a: str | Path, run_b: str | Path, *, seed: int = 0) -> list[Comparison]:
    """Each benchmark present in both runs, compared on its main metric over the samples both graded."""
    store_a, store_b = RunStore.existing(run_a), RunStore.existing(run_b)
    reports_a = {p.stem: p for p in store_a.reports.glob("*.json")}
    shared = sorted(name for name in reports_a if (store_b.reports / f"{name}.json").is_file())
    if not shared:
        raise ConfigError(f"{run_a} and {run_b} have no benchmark in common")
    comparisons = []
    for name in shared:
        if name == "collection":  # a collection run's breakdown, not a benchmark's report
            continue
        results_a, results_b = store_a.load_results(name), store_b.load_results(name)
        if name == "data_collection":
            comparisons += _collection_comparisons(results_a, results_b, seed)
            continue
        metric = orjson.loads(reports_a[name].read_bytes())["main_metric"]
        pairs = [(sample_value(results_a[i], metric), sample_value(results_b[i], metric))
                 for i in results_a if i in results_b]
        comparison = _paired(name, metric, pairs, seed)
        if comparison is not None:
            comparisons.append(comparison)
    return comparisons


def _paired(name: str, metric: str, pairs: list[tuple[float | None, float | None]], seed: int) -> Comparison | None:
    """The paired test over the pairs both sides graded, or None when there are none."""
    pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
    if not pairs:
        return None
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    test = paired_bootstrap(a, b, seed=seed)
    stat_a, stat_b = mean_stderr(a), mean_stderr(b)
    assert stat_a.mean is not None and stat_b.mean is not None
    return Comparison(name, metric, test.count, stat_a.mean, stat_b.mean, test.difference,
                      (test.ci_low, test.ci_high), test.p_value, test.significant, stat_a.stderr, stat_b.stderr)


def _collection_comparisons(results_a: dict, results_b: dict, seed: int) -> list[Comparison]:
    """A collection's rows paired by index, each on its benchmark's main metric: per dataset, per task type,
    and over the whole collection."""
    groups: dict[tuple[str, str], list[tuple[float | None, float | None]]] = {}
    for index, result_a in results_a.items():
        if index not in results_b or "collection" not in result_a.sample.metadata:
            continue
        meta = result_a.sample.metadata["collection"]
        metric = meta["main_metric"]
        pair = (sample_value(result_a, metric), sample_value(results_b[index], metric))
        for key in ((meta["benchmark"], metric), (f"task_type: {meta['task_type']}", "main metrics"),
                    ("collection", "main metrics")):
            groups.setdefault(key, []).append(pair)
    found = (_paired(name, metric, pairs, seed) for (name, metric), pairs in groups.items())
    order = {"task_type": 1, "collection": 2}
    return sorted((c for c in found if c is not None),
                  key=lambda c: (order.get(c.benchmark.split(":")[0], 0), c.benchmark))


def print_comparison(comparisons: list[Comparison]) -> None:
    from rich.console import Console
    from rich.table import Table

    def score(value: float, stderr: float | None) -> str:
        return f"{value:.4f}" + (f" ± {stderr:.4f}" if stderr else "")

    table = Table()
    for name in ("Dataset", "Metric", "Num", "Run A", "Run B", "B - A", "95% CI", "p", "Verdict"):
        table.add_column(name, overflow="fold")  # wrapped in a narrow terminal, never cut
    for c in comparisons:
        table.add_row(c.benchmark, c.metric, str(c.num), score(c.score_a, c.stderr_a), score(c.score_b, c.stderr_b),
                      f"{c.difference:+.4f}", f"[{c.ci95[0]:+.4f}, {c.ci95[1]:+.4f}]",
                      "n/a" if c.p_value is None else f"{c.p_value:.3g}", c.verdict)
    console = Console()
    console.print(table)
    console.print("paired bootstrap over the samples both runs graded (10,000 resamples, seeded); "
          "'beyond the noise' = the 95% interval of B - A excludes 0")
