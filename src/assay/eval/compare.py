"""``assay report compare RUN_A RUN_B``: two runs side by side, with a paired test on the shared samples.

Two runs of one model (thinking vs non-thinking, two quantisations) answer the same questions, so their
scores are compared through per-sample differences (Miller, 2024, "Adding Error Bars to Evals"), which
cancels the questions' own variance: a seeded paired bootstrap gives the 95% interval of B - A, and the
difference "exceeds the noise" when that interval excludes 0. The statistics live in
:mod:`assay.eval.scoring.stats`, shared with the reports.
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

    benchmark: str
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
        metric = orjson.loads(reports_a[name].read_bytes())["main_metric"]
        results_a, results_b = store_a.load_results(name), store_b.load_results(name)
        pairs = [(sample_value(results_a[i], metric), sample_value(results_b[i], metric))
                 for i in results_a if i in results_b]
        pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
        if not pairs:
            continue
        a, b = [x for x, _ in pairs], [y for _, y in pairs]
        test = paired_bootstrap(a, b, seed=seed)
        stat_a, stat_b = mean_stderr(a), mean_stderr(b)
        assert stat_a.mean is not None and stat_b.mean is not None
        comparisons.append(Comparison(name, metric, test.count, stat_a.mean, stat_b.mean, test.difference,
                                      (test.ci_low, test.ci_high), test.p_value, test.significant,
                                      stat_a.stderr, stat_b.stderr))
    return comparisons


def print_comparison(comparisons: list[Comparison]) -> None:
    from rich.console import Console
    from rich.table import Table

    def score(value: float, stderr: float | None) -> str:
        return f"{value:.4f}" + (f" ± {stderr:.4f}" if stderr else "")

    table = Table("Dataset", "Metric", "Num", "Run A", "Run B", "B - A", "95% CI", "p", "Verdict")
    for c in comparisons:
        table.add_row(c.benchmark, c.metric, str(c.num), score(c.score_a, c.stderr_a), score(c.score_b, c.stderr_b),
                      f"{c.difference:+.4f}", f"[{c.ci95[0]:+.4f}, {c.ci95[1]:+.4f}]",
                      "n/a" if c.p_value is None else f"{c.p_value:.3g}", c.verdict)
    console = Console()
    console.print(table)
    console.print("paired bootstrap over the samples both runs graded (10,000 resamples, seeded); "
          "'beyond the noise' = the 95% interval of B - A excludes 0")
