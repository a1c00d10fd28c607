"""What the viewer reads of perf sweeps (``perf/<run-id>/<plan>/summary.json``, ``percentiles.json``,
``sweep.json``) and of think results (``think.json``, ``think.png``), under the one outputs root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from assay.app.readers import Outputs, _inside, _walk_dirs, read_json
from assay.errors import ConfigError
from assay.perf.finish import plan_folders
from assay.perf.summary import PlanSummary
from assay.think.report import ThinkReport


@dataclass(frozen=True)
class PerfRun:
    """One perf run: its plans' summaries, in the order they ran, and its charts.

    ``unsummarised``: plans with records but no ``summary.json`` (the run was killed, or is still running);
    ``assay perf rebuild`` writes their summaries.
    """

    run_id: str  # relative to the outputs root, e.g. perf/20260129_153000_qwen
    plans: list[PlanSummary]
    charts: list[Path]
    unsummarised: tuple[str, ...] = ()

    @property
    def incomplete(self) -> bool:
        return bool(self.unsummarised)


def _plan_dirs(folder: Path, root: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / "summary.json").is_file() and _inside(root, p))


def _unsummarised(folder: Path, root: Path) -> list[Path]:
    return [p for p in plan_folders(folder) if not (p / "summary.json").is_file() and _inside(root, p)]


def list_perf_runs(outputs: Outputs) -> list[str]:
    """The perf runs under ``perf/`` (newest first), as ids to pass to :func:`read_perf_run`; runs killed
    before writing their summaries are listed too (their ``PerfRun`` says ``incomplete``)."""
    perf = outputs.root / "perf"
    if not perf.is_dir() or not _inside(outputs.root, perf):
        return []
    runs = [p for p in perf.iterdir() if p.is_dir() and _inside(outputs.root, p)
            and ((p / "sweep.json").is_file() or _plan_dirs(p, outputs.root) or _unsummarised(p, outputs.root))]
    return [p.relative_to(outputs.root).as_posix() for p in sorted(runs, key=lambda p: p.name, reverse=True)]


def perf_run_label(outputs: Outputs, run_id: str) -> str:
    """How a run is named in the viewer's pickers: its id, marked when plans have no summary yet."""
    folder = outputs.path(run_id)
    missing = [] if (folder / "sweep.json").is_file() else _unsummarised(folder, outputs.root)
    return f"{run_id} (incomplete: {len(missing)} plan(s) without a summary)" if missing else run_id


def read_perf_run(outputs: Outputs, run_id: str) -> PerfRun:
    """A perf run's plan summaries (``sweep.json`` when there is one, else each plan's ``summary.json``)."""
    folder = outputs.path(run_id)
    sweep = folder / "sweep.json"
    plans: list[PlanSummary] = []
    try:
        if sweep.is_file():
            plans = [PlanSummary.model_validate(item) for item in orjson.loads(sweep.read_bytes())]
        else:
            plans = [PlanSummary.model_validate(orjson.loads((p / "summary.json").read_bytes()))
                     for p in _plan_dirs(folder, outputs.root)]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{run_id}: cannot read its summaries ({exc})") from None
    charts = [p for p in sorted(folder.rglob("*.png")) if _inside(outputs.root, p)]
    missing = () if sweep.is_file() else tuple(p.name for p in _unsummarised(folder, outputs.root))
    return PerfRun(run_id, plans, charts, missing)


def perf_label(run_id: str) -> str:
    """A short name for a run in legends: the folder name."""
    return Path(run_id).name


def percentile_rows(outputs: Outputs, run_id: str, plan: str) -> list[dict[str, float | str | None]]:
    """``percentiles.json`` of one plan (one row per percentile)."""
    path = outputs.child(run_id, plan) / "percentiles.json"
    if not _inside(outputs.root, path) or not path.is_file():
        return []
    rows = read_json(path)  # None for a damaged file: an empty table, not a traceback
    return rows if isinstance(rows, list) else []


@dataclass(frozen=True)
class ThinkResult:
    """One think analysis: its table and its figure."""

    result_id: str  # the folder holding think.json, relative to the root
    report: ThinkReport
    figure: Path | None


def list_think_results(outputs: Outputs, max_depth: int = 3) -> list[str]:
    """Folders under the root holding a ``think.json``."""
    found = [p for p in _walk_think(outputs.root, max_depth) if (p / "think.json").is_file()]
    return [p.relative_to(outputs.root).as_posix() for p in found]


def _walk_think(root: Path, max_depth: int) -> list[Path]:
    folders = [root] if (root / "think.json").is_file() else []
    folders += [p for p in _walk_dirs(root, max_depth) if p.name != "predictions"]
    return folders


def read_think(outputs: Outputs, result_id: str) -> ThinkResult:
    folder = outputs.path(result_id)
    path = folder / "think.json"
    if not path.is_file():
        raise ConfigError(f"{result_id}: no think.json")
    try:
        report = ThinkReport.model_validate(orjson.loads(path.read_bytes()))
    except ValueError as exc:
        raise ConfigError(f"{result_id}/think.json: cannot be read ({exc})") from None
    figure = folder / "think.png"
    return ThinkResult(result_id, report, figure if figure.is_file() and _inside(outputs.root, figure) else None)
