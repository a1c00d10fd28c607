"""What the web workbench's pages need from an outputs folder, as typed records (no HTML here).

Built on ``assay.app.readers`` and ``assay.app.samples``: the runs are re-listed on every request (a new run
shows up without a restart), and a predictions file is read through its line-offset index (built once per
file and kept while its size and mtime stay the same), so a page or a sample costs a few seeks, not a parse
of the whole file. Every run and benchmark name goes through :class:`Outputs`, which refuses anything that
would lead out of the outputs folder.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

import orjson

from assay.app.readers import Outputs, list_eval_runs, read_reports
from assay.app.samples import STATUSES, PredictionIndex, SampleFilter, Status, filter_rows, prediction_index
from assay.errors import ConfigError
from assay.types import SampleResult
from assay.types.manifest import MANIFEST_FILE, RunManifest
from assay.types.report import BenchmarkReport

PAGE_SIZE = 50
STATUS_LABELS: dict[str, str] = {"": "all", "correct": "correct", "wrong": "incorrect", "error": "failed",
                                 "ungraded": "ungraded"}
# The caches in assay.app.samples are plain dicts; the server reads from a thread pool.
_LOCK = threading.Lock()
_ROWS: OrderedDict[tuple[Path, tuple[int, int], SampleFilter], list[int]] = OrderedDict()


# ---- runs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkLine:
    """One benchmark of a run as the runs table shows it (from its report; None where it has none yet)."""

    name: str
    metric: str | None
    score: float | None
    stderr: float | None
    ci95: tuple[float, float] | None
    samples: int | None
    failed: int | None
    truncated: int | None
    unfinished_reasoning: int | None
    has_predictions: bool


@dataclass(frozen=True)
class RunLine:
    run_id: str
    model: str
    status: str
    started: str
    duration_s: float | None
    error: str | None
    benchmarks: list[BenchmarkLine]


def _manifest(folder: Path) -> RunManifest | None:
    """The run's typed manifest (any shape assay wrote), None when it has none or it is damaged."""
    try:
        return RunManifest.load(folder / MANIFEST_FILE) if (folder / MANIFEST_FILE).is_file() else None
    except ConfigError:
        return None


def _benchmark_line(name: str, report: BenchmarkReport | None, folder: Path) -> BenchmarkLine:
    has_predictions = (folder / "predictions" / f"{name}.jsonl").is_file()
    if report is None:
        return BenchmarkLine(name, None, None, None, None, None, None, None, None, has_predictions)
    main = report.metrics.get(report.main_metric)
    return BenchmarkLine(name, report.main_metric, report.score, main.stderr if main else None,
                         main.ci95 if main else None, report.num, report.failed_samples, report.truncated_answers,
                         report.unfinished_reasoning, has_predictions)


def _run_folder(outputs: Outputs, run_id: str) -> Path:
    """The folder of run ``run_id``: inside the outputs folder and a run's (``ConfigError`` otherwise)."""
    folder = outputs.path(run_id)
    if not folder.is_dir() or not any((folder / n).exists() for n in ("manifest.json", "reports", "predictions")):
        raise ConfigError(f"{run_id!r}: no such run")
    return folder


def run_line(outputs: Outputs, run_id: str, model: str = "?", started: str = "") -> RunLine:
    """One run: its manifest and reports (``ConfigError`` for a name outside the outputs folder)."""
    folder = _run_folder(outputs, run_id)
    manifest = _manifest(folder)
    reports = read_reports(outputs, run_id)
    predictions = folder / "predictions"
    names = sorted(set(reports) | set(manifest.benchmarks if manifest else {}) |
                   ({p.stem for p in predictions.glob("*.jsonl")} if predictions.is_dir() else set()))
    known = manifest.model if manifest is not None and manifest.model != "?" else None
    model = str(known or next((r.model for r in reports.values()), None) or model)
    begun = manifest.started_at if manifest is not None else None
    ended = manifest.finished_at if manifest is not None else None
    return RunLine(run_id, model, manifest.status if manifest is not None else "unknown",
                   begun.isoformat(timespec="seconds") if begun else started,
                   (ended - begun).total_seconds() if begun and ended else None,
                   manifest.error if manifest is not None else None,
                   [_benchmark_line(name, reports.get(name), folder) for name in names])


def list_runs(outputs: Outputs) -> list[RunLine]:
    """Every eval run under the outputs folder, newest first, scanned afresh."""
    lines = []
    for run in list_eval_runs(outputs):
        try:
            lines.append(run_line(outputs, run.run_id, run.model, run.started))
        except (OSError, ConfigError):
            continue  # removed between the scan and the read
    return lines


def run_reports(outputs: Outputs, run_id: str) -> dict[str, BenchmarkReport]:
    return read_reports(outputs, run_id)


# ---- the samples page's query -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplesQuery:
    """The samples page's whole state, as its URL carries it (so a link reopens the same sample)."""

    run: str
    bench: str
    page: int | None = None  # None: the page that holds ``row`` (or the first)
    status: str = ""
    subset: str = ""
    min_score: str = ""  # as typed: a bad value is shown back with a field error
    text: str = ""
    row: int | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> SamplesQuery:
        def number(name: str) -> int | None:
            try:
                return int(params.get(name, ""))
            except ValueError:
                return None

        page, row, goto = number("page"), number("row"), number("goto")
        if goto is not None:  # "go to #N": the N-th sample in dataset order (1-based, as the list numbers them)
            page, row = None, max(0, goto - 1)
        return cls(run=params.get("run", ""), bench=params.get("bench", ""), page=max(1, page) if page else None,
                   status=params.get("status", ""), subset=params.get("subset", ""),
                   min_score=params.get("min", "").strip(), text=params.get("q", ""), row=row)

    def url_params(self, **changes: Any) -> str:
        """The query string of this state with ``changes`` (empty fields left out)."""
        state = replace(self, **changes)
        pairs = [("run", state.run), ("bench", state.bench), ("page", str(state.page or "")),
                 ("status", state.status), ("subset", state.subset), ("min", state.min_score), ("q", state.text),
                 ("row", "" if state.row is None else str(state.row))]
        return urlencode([(k, v) for k, v in pairs if v])

    def sample_filter(self) -> tuple[SampleFilter, dict[str, str]]:
        """The filter, and a message per field whose value cannot be used (that field is then ignored)."""
        errors: dict[str, str] = {}
        status: Status | None = None
        if self.status:
            if self.status in STATUSES:
                status = self.status  # type: ignore[assignment]
            else:
                errors["status"] = f"unknown status {self.status!r}"
        min_score = None
        if self.min_score:
            try:
                min_score = float(self.min_score)
            except ValueError:
                errors["min"] = f"{self.min_score!r} is not a number"
            else:
                if not math.isfinite(min_score):
                    errors["min"] = "give a finite number"
                    min_score = None
        return SampleFilter(subset=self.subset or None, status=status, min_score=min_score,
                            text=self.text.strip() or None), errors


# ---- pages of samples -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRow:
    row: int
    sample_id: str
    subset: str
    status: Status
    value: float | None
    question: str
    answer: str


@dataclass(frozen=True)
class ListPage:
    rows: list[ListRow]
    page: int
    pages: int
    matching: int
    total: int
    subsets: list[str]
    metric: str
    errors: dict[str, str] = field(default_factory=dict)


def _index_and_rows(outputs: Outputs, query: SamplesQuery) -> tuple[PredictionIndex, list[int], dict[str, str]]:
    _run_folder(outputs, query.run)  # a run folder, not any folder of the outputs (its reports are not needed)
    flt, errors = query.sample_filter()
    with _LOCK:  # one build of an index, however many requests want it at once
        index = prediction_index(outputs, query.run, query.bench)
        key = (index.path, index.stamp, flt)
        rows = _ROWS.get(key)
        if rows is not None:
            _ROWS.move_to_end(key)
            return index, rows, errors
    rows = filter_rows(index, flt)  # outside the lock: a text search reads the file, other pages need not wait
    with _LOCK:
        _ROWS[key] = rows
        while len(_ROWS) > 32:
            _ROWS.popitem(last=False)
    return index, rows, errors


def _read(index: PredictionIndex, row: int, handle: Any) -> SampleResult | None:
    handle.seek(index.offsets[row])
    try:
        return SampleResult.model_validate(orjson.loads(handle.read(index.lengths[row])))
    except ValueError:
        return None  # a line the index accepted but that is not a sample record


def _snippet(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _question(result: SampleResult) -> str:
    messages = result.sample.messages or []
    users = [m for m in messages if m.role == "user"]
    return (users[-1] if users else messages[-1]).text() if messages else (result.sample.prompt or "")


def page_of(rows: list[int], row: int) -> int:
    """The 1-based page holding ``row`` in the filtered ``rows`` (the page it would sort into if filtered out)."""
    return bisect.bisect_left(rows, row) // PAGE_SIZE + 1


def list_page(outputs: Outputs, query: SamplesQuery) -> ListPage:
    """One page of the filtered samples; only that page's lines are read."""
    from assay.app.samples import sample_status

    index, rows, errors = _index_and_rows(outputs, query)
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    page = query.page or (page_of(rows, query.row) if query.row is not None else 1)
    page = min(page, pages)
    listed = []
    with index.path.open("rb") as handle:
        for row in rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
            result = _read(index, row, handle)
            if result is None:
                continue
            status, value = sample_status(result, index.metric)
            answer = result.completions[0].text if result.completions else ""
            listed.append(ListRow(row, result.sample.id, result.sample.subset, status, value,
                                  _snippet(_question(result)), _snippet(answer)))
    return ListPage(listed, page, pages, len(rows), len(index), list(index.subsets), index.metric, errors)


@dataclass(frozen=True)
class Neighbour:
    row: int
    page: int


@dataclass(frozen=True)
class SampleDetail:
    row: int
    result: SampleResult
    metric: str
    status: Status
    value: float | None
    previous: Neighbour | None  # within the filtered samples
    next: Neighbour | None


def sample_detail(outputs: Outputs, query: SamplesQuery) -> SampleDetail:
    """The sample at ``query.row`` and its filtered neighbours (``ConfigError`` if there is none)."""
    from assay.app.samples import sample_status

    index, rows, _ = _index_and_rows(outputs, query)
    row = query.row
    if row is None or not 0 <= row < len(index):
        raise ConfigError(f"{query.bench}: no sample at row {row}")
    with index.path.open("rb") as handle:
        result = _read(index, row, handle)
    if result is None:
        raise ConfigError(f"{query.bench}: the sample at row {row} cannot be read (a damaged line)")
    status, value = sample_status(result, index.metric)
    at = bisect.bisect_left(rows, row)
    after = at + 1 if at < len(rows) and rows[at] == row else at
    previous = Neighbour(rows[at - 1], (at - 1) // PAGE_SIZE + 1) if at > 0 else None
    following = Neighbour(rows[after], after // PAGE_SIZE + 1) if after < len(rows) else None
    return SampleDetail(row, result, index.metric, status, value, previous, following)


# ---- the exported file ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedBenchmark:
    name: str
    metric: str
    total: int  # samples in the predictions file
    samples: list[tuple[int, SampleResult, Status, float | None]]  # (row, result, status, value), file order


def export_samples(outputs: Outputs, run_id: str, bench: str = "", limit: int = 2000) -> list[ExportedBenchmark]:
    """The first ``limit`` samples of a run (all its benchmarks, or ``bench``), in file order: what the exported
    HTML file holds. ``ConfigError`` for a run or benchmark that is not there."""
    from assay.app.samples import sample_status

    line = run_line(outputs, run_id)
    names = [bench] if bench else [b.name for b in line.benchmarks if b.has_predictions]
    left = limit
    exported = []
    for name in names:
        index = prediction_index(outputs, run_id, name)
        samples = []
        with index.path.open("rb") as handle:
            for row in range(min(left, len(index))):
                result = _read(index, row, handle)
                if result is not None:
                    status, value = sample_status(result, index.metric)
                    samples.append((row, result, status, value))
        left -= len(samples)
        exported.append(ExportedBenchmark(name, index.metric, len(index), samples))
    return exported
