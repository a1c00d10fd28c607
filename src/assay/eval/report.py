"""Aggregate sample results into reports; write them as JSON and Markdown; print them as a table."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

import orjson

from assay.types import SampleResult
from assay.types.report import BenchmarkReport, MetricScore, SubsetReport

OVERALL = "OVERALL"


def sample_value(result: SampleResult, metric: str) -> float | None:
    """A sample's value of ``metric``: the mean over its repeats (mean@n); None if no repeat was graded."""
    values = [s.values.get(metric) for s in result.scores]
    graded = [v for v in values if v is not None]
    return sum(graded) / len(graded) if graded else None


def pass_at_k(n: int, correct: int, k: int) -> float:
    """Unbiased pass@k (Chen et al., 2021): the chance that k of the n answers include a correct one."""
    if n - correct < k:
        return 1.0
    return 1.0 - math.comb(n - correct, k) / math.comb(n, k)


def summarise(values: Sequence[float | None]) -> MetricScore:
    """Mean, standard error of the mean and 95% interval of the graded values; ``None`` counted apart."""
    graded = [v for v in values if v is not None]
    count = len(graded)
    if not count:
        return MetricScore(score=None, num=0, ungraded=len(values))
    mean = sum(graded) / count
    stderr = math.sqrt(sum((v - mean) ** 2 for v in graded) / (count - 1) / count) if count > 1 else 0.0
    return MetricScore(score=mean, stderr=stderr, ci95=(mean - 1.96 * stderr, mean + 1.96 * stderr), num=count,
                       ungraded=len(values) - count)


def metric_values(results: Sequence[SampleResult], metric: str) -> list[float | None]:
    """One value per sample; ``pass@k`` metrics are computed from the repeats' ``acc``."""
    if metric.startswith("pass@"):
        k = int(metric[5:])
        values: list[float | None] = []
        for result in results:
            graded = [s.values.get("acc") for s in result.scores if s.values.get("acc") is not None]
            values.append(pass_at_k(len(graded), sum(1 for v in graded if v == 1.0), k) if len(graded) >= k
                          else None)
        return values
    return [sample_value(r, metric) for r in results]


def build_report(
    benchmark: str,
    version: str,
    model: str,
    metrics: Sequence[str],
    main_metric: str,
    results: Sequence[SampleResult],
    subset_order: Sequence[str] = (),
    repeats: int = 1,
) -> BenchmarkReport:
    """The report of one benchmark: overall (over all samples) and per subset, for every metric."""
    names = list(metrics) + ([f"pass@{repeats}"] if repeats > 1 and "acc" in metrics else [])
    by_subset: dict[str, list[SampleResult]] = defaultdict(list)
    for result in results:
        by_subset[result.sample.subset].append(result)
    order = [s for s in subset_order if s in by_subset] + sorted(s for s in by_subset if s not in subset_order)
    overall = {name: summarise(metric_values(results, name)) for name in names}
    completions = [c for r in results for c in r.completions]
    scores = [s for r in results for s in r.scores]
    return BenchmarkReport(
        benchmark=benchmark, main_metric=main_metric, score=overall[main_metric].score if main_metric in overall
        else None, num=len(results), model=model, version=version, repeats=repeats, metrics=overall,
        subsets=[SubsetReport(name=name, num=len(by_subset[name]),
                              metrics={m: summarise(metric_values(by_subset[name], m)) for m in names})
                 for name in order],
        failed_samples=sum(1 for r in results if any(c.error is not None for c in r.completions)),
        truncated_answers=sum(1 for c in completions if c.finish_reason == "length"),
        unfinished_reasoning=sum(1 for s in scores if s.metadata.get("unfinished_reasoning")),
        no_answer=sum(1 for s in scores if s.extracted is None and s.graded),
    )


def write_reports(reports: Iterable[BenchmarkReport], folder: Path) -> None:
    """``reports/<benchmark>.json`` for each benchmark, and ``report.md`` with the table as printed."""
    reports = list(reports)
    folder.mkdir(parents=True, exist_ok=True)
    for report in reports:
        (folder / f"{report.benchmark}.json").write_bytes(
            orjson.dumps(report.model_dump(mode="json"), option=orjson.OPT_INDENT_2))
    (folder / "report.md").write_text(markdown_table(reports), encoding="utf-8")


def table_rows(reports: Iterable[BenchmarkReport]) -> list[tuple[str, str, str, str, str, str]]:
    """(Model, Dataset, Metric, Subset, Num, Score) rows: each subset, then the overall score."""
    rows = []
    for report in reports:
        for metric, overall in report.metrics.items():
            subsets = report.subsets if len(report.subsets) > 1 else []
            for subset in subsets:
                stat = subset.metrics[metric]
                rows.append((report.model, report.benchmark, metric, subset.name, str(subset.num), _fmt(stat)))
            rows.append((report.model, report.benchmark, metric, OVERALL if subsets else report.subsets[0].name
                         if report.subsets else OVERALL, str(report.num), _fmt(overall)))
    return rows


def _fmt(stat: MetricScore) -> str:
    if stat.score is None:
        return "n/a"
    text = f"{stat.score:.4f}"
    if stat.stderr:
        text += f" ± {stat.stderr:.4f}"
    if stat.ungraded:
        text += f" ({stat.ungraded} ungraded)"
    return text


HEADER = ("Model", "Dataset", "Metric", "Subset", "Num", "Score")


def markdown_table(reports: Sequence[BenchmarkReport]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(reports)]
    notes = [f"- {r.benchmark}: {r.failed_samples} failed samples, {r.truncated_answers} truncated answers, "
             f"{r.unfinished_reasoning} with unfinished reasoning (score ± standard error)"
             for r in reports if r.failed_samples or r.truncated_answers or r.unfinished_reasoning]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def print_table(reports: Sequence[BenchmarkReport]) -> None:
    """The report table on stdout (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*HEADER)
    for row in table_rows(reports):
        table.add_row(*row)
    console = Console()
    console.print(table)
    for report in reports:
        if report.failed_samples:
            console.print(f"{report.benchmark}: {report.failed_samples} samples failed (see predictions; "
                          "they are left out of the score and counted as ungraded)")
