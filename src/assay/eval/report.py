"""Aggregate sample results into reports; write them as JSON and Markdown; print them as a table."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import orjson

from assay.eval.scoring.stats import majority_index, mean_stderr, pass_at_k, pass_hat_k, weighted_mean_stderr
from assay.types import SampleResult
from assay.types.report import BenchmarkReport, MetricScore, SubsetReport

OVERALL = "OVERALL"


def sample_value(result: SampleResult, metric: str, failures_as_zero: bool = False) -> float | None:
    """A sample's value of ``metric``: the mean over its repeats (mean@n); None if no repeat was graded.

    With ``failures_as_zero`` (``--ignore-errors``) a repeat whose request failed counts 0, as a wrong answer.
    """
    values = [0.0 if failures_as_zero and c.error is not None else s.values.get(metric)
              for c, s in zip(result.completions, result.scores)]
    return mean_stderr(values).mean


def summarise(values: Sequence[float | None], weights: Sequence[float] | None = None) -> MetricScore:
    """Mean, standard error of the mean and 95% interval of the graded values; ``None`` counted apart.

    With ``weights`` (see :func:`metric_weights`) the mean pools the units the values are fractions of.
    """
    stat = weighted_mean_stderr(values, weights) if weights is not None else mean_stderr(values)
    if stat.mean is None:
        return MetricScore(score=None, num=0, ungraded=stat.ungraded)
    ci95 = (stat.mean - 1.96 * stat.stderr, stat.mean + 1.96 * stat.stderr) if stat.stderr is not None else None
    return MetricScore(score=stat.mean, stderr=stat.stderr, ci95=ci95, num=stat.count, ungraded=stat.ungraded)


# Metrics over a sample's repeats, computed from the repeats' ``acc`` (and, for maj@k, their extracted answers).
_REPEAT_METRIC = re.compile(r"^(pass@|pass\^|maj@)([1-9][0-9]*)$")


def repeat_metric(metric: str) -> tuple[str, int] | None:
    """``("pass@" | "pass^" | "maj@", k)`` for a metric computed over repeats, None for any other."""
    match = _REPEAT_METRIC.match(metric)
    return (match.group(1), int(match.group(2))) if match else None


def repeat_metrics(repeats: int) -> list[str]:
    """The metrics a report adds when each sample was answered ``repeats`` > 1 times."""
    return [f"pass@{repeats}", f"maj@{repeats}", f"pass^{repeats}"] if repeats > 1 else []


def _vote_key(extracted: object) -> object:
    """What maj@k counts: the extracted answer with its whitespace normalised; lists and dicts as their JSON."""
    if extracted is None:
        return None
    if isinstance(extracted, str):
        return " ".join(extracted.split()) or None
    if isinstance(extracted, (list, dict, tuple)):
        return orjson.dumps(extracted, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return repr(extracted)


def _over_repeats(result: SampleResult, kind: str, k: int, failures_as_zero: bool) -> float | None:
    """One sample's pass@k, pass^k or maj@k from its graded repeats; None with fewer than k graded.

    maj@k takes the first k graded repeats, votes on their extracted answers (a repeat with none does not vote)
    and scores the sample as the first repeat holding the winning answer was scored; with no answer among them,
    as the first repeat was (a benchmark that extracts nothing keeps its own grade that way).
    """
    graded = [(None if c.error is not None else s.extracted, 0.0 if failures_as_zero and c.error is not None
               else s.values.get("acc")) for c, s in zip(result.completions, result.scores)]
    graded = [(answer, value) for answer, value in graded if value is not None]
    if len(graded) < k:
        return None
    if kind == "maj@":
        chosen = graded[:k]
        winner = majority_index([_vote_key(answer) for answer, _ in chosen])
        return chosen[0 if winner is None else winner][1]
    correct = sum(1 for _, value in graded if value == 1.0)
    return (pass_at_k if kind == "pass@" else pass_hat_k)(len(graded), correct, k)


def metric_values(results: Sequence[SampleResult], metric: str,
                  failures_as_zero: bool = False) -> list[float | None]:
    """One value per sample; ``pass@k``, ``pass^k`` and ``maj@k`` are computed from the repeats (see
    :func:`_over_repeats`), every other metric is the mean over the repeats."""
    over_repeats = repeat_metric(metric)
    if over_repeats is not None:
        return [_over_repeats(r, *over_repeats, failures_as_zero) for r in results]
    return [sample_value(r, metric, failures_as_zero) for r in results]


def metric_weights(results: Sequence[SampleResult], metric: str) -> list[float] | None:
    """Per-sample weights of ``metric`` from ``Score.metadata["weights"]`` (e.g. IFEval's instruction count),
    or None when no sample gives one (a plain mean over samples)."""
    weights = [next((s.metadata["weights"][metric] for s in r.scores if metric in s.metadata.get("weights", {})),
                    None) for r in results]
    if all(w is None for w in weights):
        return None
    return [1.0 if w is None else float(w) for w in weights]


@dataclass(frozen=True)
class DerivedMetrics:
    """A benchmark's metrics that are no mean over samples (a ratio of two sums, a harmonic mean of two means), so
    they cannot be stored per sample and averaged: the report computes them for each group of samples (all of
    them, each subset) from that group's per-sample values of ``inputs``.

    ``compute`` gets those values by metric name, one list per metric aligned by sample (``None`` where a sample
    could not be graded), and returns a ``MetricScore`` for each of ``names``.
    """

    names: tuple[str, ...]
    inputs: tuple[str, ...]
    compute: Callable[[Mapping[str, Sequence[float | None]]], Mapping[str, MetricScore]]


def build_report(
    benchmark: str,
    version: str,
    model: str,
    metrics: Sequence[str],
    main_metric: str,
    results: Sequence[SampleResult],
    subset_order: Sequence[str] = (),
    repeats: int = 1,
    *,
    protocol: str | None = None,
    preset: str | None = None,
    failures_as_zero: bool = False,
    applies: Callable[[SampleResult, str], bool] | None = None,
    derived: DerivedMetrics | None = None,
) -> BenchmarkReport:
    """The report of one benchmark: overall (over all samples) and per subset, for every metric.

    Failed requests are counted in ``failed_samples`` either way; they are left out of the scores (ungraded)
    unless ``failures_as_zero`` (``--ignore-errors``), which scores them as wrong answers. ``applies`` says
    whether a metric is one a sample has at all (a collection mixes benchmarks with different metrics): the
    others are not its ungraded samples, and a subset none of whose samples has a metric gets no row for it.
    ``derived`` computes the benchmark's report-level metrics among ``metrics`` (see :class:`DerivedMetrics`).
    """
    names = list(metrics) + [m for m in repeat_metrics(repeats) if "acc" in metrics and m not in metrics]
    by_subset: dict[str, list[SampleResult]] = defaultdict(list)
    for result in results:
        by_subset[result.sample.subset].append(result)
    order = [s for s in subset_order if s in by_subset] + sorted(s for s in by_subset if s not in subset_order)

    def having(chosen: Sequence[SampleResult], metric: str) -> list[SampleResult]:
        # pass@k, pass^k and maj@k over repeats are computed from acc (a benchmark's own pass@1 is its own metric)
        own = "acc" if metric not in metrics or repeat_metric(metric) else metric
        return list(chosen) if applies is None else [r for r in chosen if applies(r, own)]

    def stats(chosen: Sequence[SampleResult], metric: str) -> MetricScore:
        return summarise(metric_values(chosen, metric, failures_as_zero), metric_weights(chosen, metric))

    derived_names = set(derived.names) if derived is not None else set()

    def group_metrics(chosen: Sequence[SampleResult], overall: bool) -> dict[str, MetricScore]:
        """Each metric of ``names`` over ``chosen``: the means, then the derived ones; a subset none of whose
        samples has a metric gets none (the overall row always does)."""
        found = {m: stats(own, m) for m in names if m not in derived_names and ((own := having(chosen, m)) or overall)}
        if derived is not None and derived_names & set(names):
            own = having(chosen, derived.inputs[0])
            if own or overall:
                found.update(derived.compute({m: metric_values(own, m, failures_as_zero) for m in derived.inputs}))
        return {m: found[m] for m in names if m in found}

    overall = group_metrics(results, overall=True)
    completions = [c for r in results for c in r.completions]
    scores = [s for r in results for s in r.scores]
    return BenchmarkReport(
        benchmark=benchmark, main_metric=main_metric, score=overall[main_metric].score if main_metric in overall
        else None, num=len(results), model=model, version=version, protocol=protocol, preset=preset, repeats=repeats,
        metrics=overall,
        subsets=[SubsetReport(name=name, num=len(by_subset[name]), metrics=group_metrics(by_subset[name], False))
                 for name in order],
        failed_samples=sum(1 for r in results if any(c.error is not None for c in r.completions)),
        failed_scored_as="wrong" if failures_as_zero else "ungraded",
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
                if metric in subset.metrics:  # a metric none of the subset's samples has gets no row
                    stat = subset.metrics[metric]
                    rows.append((report.model, report.benchmark, metric, subset.name, str(stat.num + stat.ungraded),
                                 _fmt(stat)))
            rows.append((report.model, report.benchmark, metric, OVERALL if subsets else report.subsets[0].name
                         if report.subsets else OVERALL, str(overall.num + overall.ungraded or report.num),
                         _fmt(overall)))
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
    notes = [f"- {r.benchmark}: {note}" for r in reports for note in report_notes(r)]
    notes += [f"- {r.benchmark} protocol: {r.protocol}" for r in reports if r.protocol]
    notes += [f"- {r.benchmark} preset: {r.preset}" for r in reports if r.preset]
    over_repeats = any(repeat_metric(m) for r in reports for m in r.metrics if r.repeats > 1)
    legend = "Scores are means ± standard error" + (
        " over samples; pass@k: some of k repeats right (unbiased), pass^k: all k right (drawn without "
        "replacement), maj@k: the majority answer of the first k repeats right." if over_repeats else ".")
    return "\n".join(lines + ["", legend, *notes]) + "\n"


def report_notes(report: BenchmarkReport) -> list[str]:
    """One line per thing that makes a score less than it looks: failures, truncations, unfinished thinking."""
    notes = []
    if report.failed_samples:
        how = "scored as wrong (--ignore-errors)" if report.failed_scored_as == "wrong" else \
            "left out of the score (ungraded); resuming the run asks them again"
        notes.append(f"{report.failed_samples} samples failed (request errors), {how}")
    if report.truncated_answers:
        notes.append(f"{report.truncated_answers} answers hit max_tokens (finish_reason length)")
    if report.unfinished_reasoning:
        notes.append(f"{report.unfinished_reasoning} answers were cut off while thinking (no answer to grade)")
    return notes


def print_table(reports: Sequence[BenchmarkReport]) -> None:
    """The report table on stdout (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for name in HEADER:  # long metric and dataset names wrap in narrow terminals instead of being cut
        table.add_column(name, overflow="fold")
    for row in table_rows(reports):
        table.add_row(*row)
    console = Console()
    console.print(table)
    for report in reports:
        for note in report_notes(report):
            console.print(f"{report.benchmark}: {note}")
