"""The workbench's dashboard (``/dashboard``): models × benchmarks, and the runs still going.

Each cell is the latest *finished* run of that model on that benchmark, as its typed manifest
(:class:`~assay.types.manifest.RunManifest`) recorded it: main score ± half its 95% interval, failed and
truncated counts, a link to the run. Runs whose manifest says ``running`` are listed above with samples done
of total; done is the number of whole lines in ``predictions/<benchmark>.jsonl`` (the runner appends one per
sample), counted once per file and then only over the bytes appended since (keyed by size and mtime), so the
2-second poll of ``/dashboard/progress.json`` by ``static/dashboard.js`` costs a stat per file. Runs are
re-listed on every request, so a run started by another process appears without a restart.

``/run/setup`` shows what a run was asked with: each report's ``protocol`` and the run's ``config.yaml``
(credentials scrubbed).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from assay.app.readers import EvalRun, Outputs, list_eval_runs, read_eval_run, read_reports
from assay.app.web_html import h, page
from assay.client.config import scrub_secrets
from assay.errors import ConfigError
from assay.perf.finish import read_run_config
from assay.types.manifest import BenchmarkEntry

PROGRESS_PATH = "/dashboard/progress.json"
POLL_MS = 2000
_CSS = '<link rel="stylesheet" href="/static/web_views.css"><link rel="stylesheet" href="/static/dashboard.css">'


# ---- counting lines of a file being appended to -----------------------------------------------------------


@dataclass
class _Count:
    size: int
    mtime_ns: int
    inode: int  # a file replaced (not appended to) is counted again
    lines: int  # whole lines in the first ``size`` bytes


_COUNTS: dict[Path, _Count] = {}
_COUNT_LOCK = threading.Lock()


def count_lines(path: Path) -> int:
    """Whole (newline-ended) lines of ``path``; a file that only grew is read from where the last count ended,
    one that shrank or was replaced is counted again, an unchanged one not read at all."""
    try:
        stat = path.stat()
    except OSError:
        return 0
    with _COUNT_LOCK:
        known = _COUNTS.get(path)
    if known is not None and (known.size, known.mtime_ns, known.inode) == (stat.st_size, stat.st_mtime_ns,
                                                                          stat.st_ino):
        return known.lines
    grew = known is not None and known.inode == stat.st_ino and stat.st_size >= known.size
    start, lines = (known.size, known.lines) if known is not None and grew else (0, 0)
    end, position = start, start
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
                cut = chunk.rfind(b"\n")
                if cut >= 0:  # a half-written last line is counted once it is whole
                    end = position + cut + 1
                position += len(chunk)
    except OSError:
        return lines
    with _COUNT_LOCK:
        # the mtime is of the stat before reading: a write during the read changes it, so the next call re-reads
        _COUNTS[path] = _Count(end, stat.st_mtime_ns if end == stat.st_size else -1, stat.st_ino, lines)
        if len(_COUNTS) > 4096:
            _COUNTS.pop(next(iter(_COUNTS)))
    return lines


# ---- data -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One model × benchmark: the latest finished run's headline."""

    run_id: str
    started: str
    metric: str | None
    score: float | None
    half_ci: float | None  # half the 95% interval's width (the "±")
    ci95: tuple[float, float] | None
    failed: int
    truncated: int
    samples: int | None


@dataclass(frozen=True)
class Matrix:
    models: list[str]
    benchmarks: list[str]
    cells: dict[tuple[str, str], Cell]


def _half_ci(entry: BenchmarkEntry) -> float | None:
    if entry.ci95 is not None:
        return (entry.ci95[1] - entry.ci95[0]) / 2
    return 1.96 * entry.stderr if entry.stderr is not None else None


def _cell(run: EvalRun, entry: BenchmarkEntry) -> Cell:
    return Cell(run.run_id, run.started, entry.main_metric, entry.score, _half_ci(entry), entry.ci95,
                entry.failed_samples, entry.truncated_answers, entry.num_samples)


def build_matrix(runs: list[EvalRun]) -> Matrix:
    """Latest finished run per model and benchmark (``runs`` newest first, as ``list_eval_runs`` gives them);
    only runs with a manifest count, and only benchmarks it scored."""
    cells: dict[tuple[str, str], Cell] = {}
    for run in runs:
        if run.manifest is None or run.manifest.status != "finished":
            continue
        for name, entry in run.manifest.benchmarks.items():
            if entry.score is not None:
                cells.setdefault((run.model, name), _cell(run, entry))
    models = sorted({m for m, _ in cells})
    benchmarks = sorted({b for _, b in cells})
    return Matrix(models, benchmarks, cells)


@dataclass(frozen=True)
class BenchProgress:
    name: str
    done: int
    total: int | None
    written_at: float | None  # mtime of its predictions file (None: nothing written yet)


@dataclass(frozen=True)
class RunProgress:
    run_id: str
    model: str
    started: str
    benchmarks: list[BenchProgress]

    @property
    def done(self) -> int:
        return sum(b.done for b in self.benchmarks)

    @property
    def total(self) -> int | None:
        totals = [b.total for b in self.benchmarks]
        return None if any(t is None for t in totals) else sum(totals)  # type: ignore[misc]

    @property
    def idle_s(self) -> float | None:
        """Seconds since a sample was last written: a "running" run idle for long may have died unnoticed."""
        written = [b.written_at for b in self.benchmarks if b.written_at is not None]
        return max(0.0, time.time() - max(written)) if written else None

    def as_json(self) -> dict[str, Any]:
        idle = self.idle_s
        return {"run": self.run_id, "model": self.model, "done": self.done, "total": self.total,
                "idle_s": None if idle is None else round(idle, 1),
                "benchmarks": [{"name": b.name, "done": b.done, "total": b.total} for b in self.benchmarks]}


def run_progress(outputs: Outputs, run: EvalRun) -> RunProgress:
    """Samples written so far per benchmark of a running run; the total is the manifest's sample count, else
    the report's."""
    folder = outputs.path(run.run_id)
    entries = run.manifest.benchmarks if run.manifest is not None else {}
    names = sorted(set(entries) | set(run.datasets))
    reports = read_reports(outputs, run.run_id) if any(entries.get(n) is None or entries[n].num_samples is None
                                                      for n in names) else {}
    out = []
    for name in names:
        entry = entries.get(name)
        total = entry.num_samples if entry is not None else None
        if total is None and name in reports:
            total = reports[name].num
        path = folder / "predictions" / f"{name}.jsonl"
        try:
            written_at: float | None = path.stat().st_mtime
        except OSError:
            written_at = None
        out.append(BenchProgress(name, count_lines(path), total, written_at))
    return RunProgress(run.run_id, run.model, run.started, out)


def running(outputs: Outputs, runs: list[EvalRun] | None = None) -> list[RunProgress]:
    """Progress of every run whose manifest says ``running`` (scanned afresh)."""
    runs = list_eval_runs(outputs) if runs is None else runs
    return [run_progress(outputs, r) for r in runs if r.status == "running"]


def progress_json(outputs: Outputs) -> dict[str, Any]:
    """What ``/dashboard/progress.json`` answers: the running runs, and a stamp of the finished ones (the page
    reloads when it changes, so a run that finishes moves into the matrix)."""
    runs = list_eval_runs(outputs)
    return {"running": [p.as_json() for p in running(outputs, runs)], "finished": finished_stamp(runs)}


def finished_stamp(runs: list[EvalRun]) -> str:
    """A short digest of the finished runs' ids: changes when one finishes (or is removed)."""
    ids = "\n".join(sorted(r.run_id for r in runs if r.status == "finished"))
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


# ---- HTML -------------------------------------------------------------------------------------------------


def _run_href(run_id: str) -> str:
    return "/run?" + h(urlencode({"run": run_id}))


def _samples_href(run_id: str, bench: str) -> str:
    return "/samples?" + h(urlencode({"run": run_id, "bench": bench}))


def _setup_href(run_id: str) -> str:
    return "/run/setup?" + h(urlencode({"run": run_id}))


def _cell_html(model: str, bench: str, cell: Cell | None) -> str:
    if cell is None:
        return '<td class="cell empty">–</td>'
    score = "–" if cell.score is None else f"{cell.score:.3f}"
    spread = f' <span class="pm">± {cell.half_ci:.3f}</span>' if cell.half_ci is not None else ""
    title = f"{cell.metric or ''}" + (f" 95% [{cell.ci95[0]:.3f}, {cell.ci95[1]:.3f}]" if cell.ci95 else "")
    counts = []
    if cell.failed:
        counts.append(f'<span class="badge warn failed" title="failed samples">{cell.failed} failed</span>')
    if cell.truncated:
        counts.append(f'<span class="badge warn truncated" title="truncated answers">{cell.truncated} truncated</span>')
    return (f'<td class="cell" data-model="{h(model)}" data-bench="{h(bench)}" data-run="{h(cell.run_id)}">'
            f'<a class="cell-link" href="{_run_href(cell.run_id)}" title="{h(title)}">'
            f'<span class="score">{score}</span>{spread}</a> {"".join(counts)}'
            f'<div class="muted small"><a href="{_samples_href(cell.run_id, bench)}">samples</a> · '
            f'<a href="{_setup_href(cell.run_id)}">setup</a> · {h(cell.started[:16].replace("T", " "))}</div></td>')


def _bar(done: int, total: int | None) -> str:
    text = f"{done} / {total}" if total is not None else f"{done} / ?"
    bar = f'<progress max="{total}" value="{min(done, total)}"></progress> ' if total else ""
    return f'{bar}<span class="count">{h(text)}</span>'


def _idle(seconds: float | None) -> str:
    if seconds is None:
        return "none yet"
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def _running_html(progress: list[RunProgress]) -> str:
    if not progress:
        return '<p class="muted" id="no-running">No run is going now.</p>'
    rows = []
    for run in progress:
        benches = "".join(f'<li data-bench="{h(b.name)}">{h(b.name)}: {_bar(b.done, b.total)}</li>'
                          for b in run.benchmarks)
        rows.append(f'<tr class="running-run" data-run="{h(run.run_id)}"><td><a href="{_run_href(run.run_id)}">'
                    f'{h(run.model)}</a><div class="muted small">{h(run.run_id)}</div></td>'
                    f'<td class="total">{_bar(run.done, run.total)}</td><td><ul class="benches">{benches}</ul></td>'
                    f'<td>{h(run.started[:19].replace("T", " "))}</td><td class="idle">{_idle(run.idle_s)}</td>'
                    f'<td><a href="{_setup_href(run.run_id)}">setup</a></td></tr>')
    return ('<table id="running-table" class="grid"><thead><tr><th>Model</th><th>Samples done</th>'
            f'<th>Benchmarks</th><th>Started</th><th>Last sample</th><th></th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def dashboard_page(outputs: Outputs) -> str:
    """The matrix and the running runs, read afresh."""
    runs = list_eval_runs(outputs)
    matrix = build_matrix(runs)
    progress = running(outputs, runs)
    finished = finished_stamp(runs)
    parts = [_CSS, f'<div id="dashboard" data-poll="{PROGRESS_PATH}" data-poll-ms="{POLL_MS}" '
                   f'data-finished="{h(finished)}">',
             f'<p class="muted">{len(runs)} runs under <code>{h(outputs.root)}</code> · <a href="/">all runs</a> · '
             '<a href="/compare">compare</a> · <a href="/think">think</a></p>',
             '<h2>Running</h2>', _running_html(progress), '<h2>Latest finished run per model and benchmark</h2>']
    if not matrix.cells:
        parts.append('<p class="empty">No finished run with scores yet.</p>')
    else:
        head = "".join(f'<th scope="col">{h(b)}</th>' for b in matrix.benchmarks)
        body = []
        for model in matrix.models:
            cells = "".join(_cell_html(model, b, matrix.cells.get((model, b))) for b in matrix.benchmarks)
            body.append(f'<tr><th scope="row" class="model">{h(model)}</th>{cells}</tr>')
        parts.append(f'<table id="matrix" class="grid"><thead><tr><th>Model</th>{head}</tr></thead>'
                     f'<tbody>{"".join(body)}</tbody></table>'
                     '<p class="muted small">Score ± half the 95% interval of the main metric, from each run\'s '
                     'manifest; click a cell to open its run.</p>')
    parts.append('</div><script src="/static/dashboard.js" defer></script>')
    return page("Dashboard", "".join(parts), "dashboard")


def setup_page(outputs: Outputs, run_id: str) -> str:
    """A run's protocol per benchmark (from its reports) and its ``config.yaml``, credentials scrubbed."""
    folder = outputs.path(run_id)
    if not (folder / "manifest.json").is_file() and not (folder / "reports").is_dir():
        raise ConfigError(f"{run_id!r}: no such run")
    run = read_eval_run(outputs, run_id)
    reports = read_reports(outputs, run_id)
    parts = [_CSS, f'<h1>{h(run.model)}</h1><p class="muted"><code>{h(run_id)}</code> · '
                   f'<a href="{_run_href(run_id)}">run page</a> · <a href="/dashboard">dashboard</a></p>']
    for name in run.datasets:
        report = reports.get(name)
        protocol = report.protocol if report is not None and report.protocol else None
        parts.append(f'<h2>{h(name)}</h2>' + (f'<pre class="protocol">{h(protocol)}</pre>' if protocol
                                                else '<p class="muted">no protocol recorded</p>'))
    config = scrub_secrets(read_run_config(folder))
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True) if config else "(no config.yaml)"
    parts.append(f'<h2>config.yaml</h2><pre id="run-config">{h(text)}</pre>')
    return page(f"Setup of {run_id}", "".join(parts), "setup")
