"""The report of a collection run: by task type, metric and dataset; by tag; by schema path; overall.

Group scores are means over the samples of the group (``count`` of them graded), each sample its mean over
repeats; a metric a benchmark pools over sub-items (IFEval's instruction-level accuracy, through
``Score.metadata["weights"]``) is pooled here too. The overall **weighted score** is the schema's view:
each dataset's main-metric score times its normalised weight, over the datasets that have a score, so it does
not move when one dataset was capped or had failures. The plain mean over all samples sits beside it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import orjson
from pydantic import BaseModel, Field

from assay.types import SampleResult

META = "collection"


class DatasetScore(BaseModel):
    """One row of the main table (the column names are the table's)."""

    task_type: str
    metric: str
    dataset_name: str
    average_score: float | None
    count: int
    ungraded: int = 0


class TaskTypeScore(BaseModel):
    task_type: str
    metric: str
    average_score: float | None
    count: int
    ungraded: int = 0


class TagScore(BaseModel):
    tag: str
    metric: str
    average_score: float | None
    count: int
    ungraded: int = 0


class PathScore(BaseModel):
    """A schema group (``Qwen3/English``): the samples' mean, and its datasets' means by their weights."""

    path: str
    metric: str
    average_score: float | None
    weighted_score: float | None
    count: int
    ungraded: int = 0


class SkippedRows(BaseModel):
    """Rows of the collection file that were not run (a benchmark assay lacks, or a row it cannot read)."""

    dataset_name: str
    rows: int
    reason: str


class CollectionReport(BaseModel):
    """What ``reports/collection.json`` holds (overall first)."""

    collection: str
    model: str
    weighted_score: float | None = Field(description="Datasets' main-metric scores by their schema weights.")
    average_score: float | None = Field(description="Mean of the main metric over all graded samples.")
    count: int
    failed_samples: int = 0
    datasets: list[DatasetScore] = Field(default_factory=list)
    task_types: list[TaskTypeScore] = Field(default_factory=list)
    tags: list[TagScore] = Field(default_factory=list)
    paths: list[PathScore] = Field(default_factory=list)
    benchmark_versions: dict[str, str] = Field(default_factory=dict)
    skipped: list[SkippedRows] = Field(default_factory=list, description="File rows not run, by dataset.")


@dataclass
class _Mean:
    """A running (optionally weighted) mean with graded and ungraded counts."""

    total: float = 0.0
    mass: float = 0.0
    count: int = 0
    ungraded: int = 0

    def add(self, value: float | None, weight: float = 1.0) -> None:
        if value is None:
            self.ungraded += 1
            return
        self.total += value * weight
        self.mass += weight
        self.count += 1

    @property
    def mean(self) -> float | None:
        return self.total / self.mass if self.mass else None


@dataclass
class _Leaf:
    path: tuple[str, ...]
    weight: float
    main_metric: str


def build_collection_report(results: Iterable[SampleResult], *, model: str, failures_as_zero: bool = False,
                            skipped: Iterable[Any] = ()) -> CollectionReport:
    """Aggregate a collection run's results (each carrying its ``metadata["collection"]`` fields); ``skipped``:
    the file's rows that were not run (``SkippedRow``: dataset_name, reason), counted by dataset and reason."""
    from assay.eval.report import sample_value

    rows = sorted((r for r in results if META in r.sample.metadata),
                  key=lambda r: r.sample.metadata[META]["index"])
    by_dataset: dict[tuple[str, str], dict[str, _Mean]] = defaultdict(lambda: defaultdict(_Mean))
    by_task: dict[str, dict[str, _Mean]] = defaultdict(lambda: defaultdict(_Mean))
    by_tag: dict[str, dict[str, _Mean]] = defaultdict(lambda: defaultdict(_Mean))
    by_path: dict[str, dict[str, _Mean]] = defaultdict(lambda: defaultdict(_Mean))
    by_leaf: dict[str, dict[str, _Mean]] = defaultdict(lambda: defaultdict(_Mean))
    leaves: dict[str, _Leaf] = {}
    overall = _Mean()
    versions: dict[str, str] = {}
    for result in rows:
        meta = result.sample.metadata[META]
        path = tuple(meta["path"])
        leaf_key = "/".join((*path, meta["benchmark"]))
        leaves.setdefault(leaf_key, _Leaf(path, float(meta["weight"]), meta["main_metric"]))
        versions.setdefault(meta["benchmark"], result.benchmark_version or meta["benchmark_version"])
        weights = result.scores[0].metadata.get("weights", {}) if result.scores else {}
        for metric in meta["metrics"]:
            value = sample_value(result, metric, failures_as_zero)
            weight = float(weights.get(metric, 1.0))
            groups = [by_dataset[(meta["task_type"], meta["benchmark"])], by_task[meta["task_type"]],
                      by_leaf[leaf_key], *(by_tag[tag] for tag in meta["tags"]),
                      *(by_path["/".join(path[:n])] for n in range(1, len(path) + 1))]
            for group in groups:
                group[metric].add(value, weight)
            if metric == meta["main_metric"]:
                overall.add(value, weight)

    def weighted(prefix: tuple[str, ...], metric: str | None) -> float | None:
        """Σ weight · score / Σ weight over the leaves under ``prefix`` that have a score (main metric if None)."""
        total = mass = 0.0
        for key, leaf in leaves.items():
            name = metric or leaf.main_metric
            score = by_leaf[key][name].mean if name in by_leaf[key] else None
            if leaf.path[: len(prefix)] == prefix and score is not None:
                total += leaf.weight * score
                mass += leaf.weight
        return total / mass if mass else None

    roots = list(dict.fromkeys(leaf.path[0] for leaf in leaves.values()))
    return CollectionReport(
        collection=roots[0] if len(roots) == 1 else ", ".join(roots), model=model,
        weighted_score=weighted((), None), average_score=overall.mean, count=overall.count,
        failed_samples=sum(1 for r in rows if any(c.error is not None for c in r.completions)),
        datasets=[DatasetScore(task_type=task_type, metric=metric, dataset_name=name, average_score=m.mean,
                               count=m.count, ungraded=m.ungraded)
                  for (task_type, name), metrics in by_dataset.items() for metric, m in metrics.items()],
        task_types=[TaskTypeScore(task_type=task_type, metric=metric, average_score=m.mean, count=m.count,
                                  ungraded=m.ungraded)
                    for task_type, metrics in by_task.items() for metric, m in metrics.items()],
        tags=[TagScore(tag=tag, metric=metric, average_score=m.mean, count=m.count, ungraded=m.ungraded)
              for tag, metrics in by_tag.items() for metric, m in metrics.items()],
        paths=[PathScore(path=path, metric=metric, average_score=m.mean,
                         weighted_score=weighted(tuple(path.split("/")), metric), count=m.count, ungraded=m.ungraded)
               for path, metrics in by_path.items() for metric, m in metrics.items()],
        benchmark_versions=versions,
        skipped=[SkippedRows(dataset_name=name, rows=n, reason=reason)
                 for (name, reason), n in Counter((s.dataset_name, s.reason) for s in skipped).items()],
    )


# ---- tables ----------------------------------------------------------------------------------------

def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def report_tables(report: CollectionReport) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]]:
    """(title, header, rows) of each table, as printed and as written to ``collection.md``."""
    return [
        ("by dataset", ("task_type", "metric", "dataset_name", "average_score", "count"),
         [(r.task_type, r.metric, r.dataset_name, _fmt(r.average_score), str(r.count)) for r in report.datasets]),
        ("by task type", ("task_type", "metric", "average_score", "count"),
         [(r.task_type, r.metric, _fmt(r.average_score), str(r.count)) for r in report.task_types]),
        ("by tag", ("tag", "metric", "average_score", "count"),
         [(r.tag, r.metric, _fmt(r.average_score), str(r.count)) for r in report.tags]),
        ("by schema path", ("path", "metric", "average_score", "weighted_score", "count"),
         [(r.path, r.metric, _fmt(r.average_score), _fmt(r.weighted_score), str(r.count)) for r in report.paths]),
    ]


def summary_line(report: CollectionReport) -> str:
    line = (f"{report.collection}: weighted score {_fmt(report.weighted_score)} (datasets' main metrics by their "
            f"schema weights); mean over {report.count} graded samples {_fmt(report.average_score)}")
    if report.failed_samples:
        line += f"; {report.failed_samples} samples failed"
    if report.skipped:
        line += "; not run: " + ", ".join(f"{s.dataset_name} ({s.rows} rows: {s.reason})" for s in report.skipped)
    return line


def markdown_report(report: CollectionReport) -> str:
    lines = [f"# Collection {report.collection} — {report.model}", "", summary_line(report)]
    for title, header, rows in report_tables(report):
        lines += ["", f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_collection_report(report: CollectionReport, folder: Path) -> None:
    """``collection.json`` and ``collection.md`` in ``folder`` (a run's reports/)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "collection.json").write_bytes(orjson.dumps(report.model_dump(mode="json"), option=orjson.OPT_INDENT_2))
    (folder / "collection.md").write_text(markdown_report(report), encoding="utf-8")


def print_collection_report(report: CollectionReport, console: Any = None) -> None:
    """The four tables and the overall line, on stdout (rich)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    for title, header, rows in report_tables(report):
        table = Table(title=f"{report.collection} {title}", box=box.ASCII2)
        for name in header:  # long metric, dataset and path names wrap in narrow terminals instead of being cut
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    console.print(summary_line(report))


def load_collection_report(run_dir: str | Path) -> CollectionReport:
    """The collection report a run wrote."""
    return CollectionReport.model_validate(orjson.loads((Path(run_dir) / "reports" / "collection.json").read_bytes()))
