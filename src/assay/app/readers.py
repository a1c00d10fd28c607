"""What the viewer reads from an outputs folder: the folder itself and its eval runs.

Pure reading, no UI: every function takes the :class:`Outputs` folder and names relative to it, and no name
can reach a file outside it (``..``, absolute paths and symlinks that lead out are refused with
``ConfigError``). Samples and comparisons are read by ``assay.app.samples``, perf sweeps and think results
by ``assay.app.perf_think``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson
import yaml

from assay.errors import ConfigError
from assay.types.manifest import MANIFEST_FILE, RunManifest
from assay.types.report import BenchmarkReport

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+=-]*$")


class Outputs:
    """An outputs folder, the one root the viewer reads under."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise ConfigError(f"--outputs {root}: no such folder")

    def path(self, relative: str | Path) -> Path:
        """``relative`` inside the root, resolved; ``ConfigError`` for anything that would lead out of it."""
        text = str(relative)
        if not text or Path(text).is_absolute() or "\x00" in text:
            raise ConfigError(f"{text!r}: not a path inside the outputs folder")
        resolved = (self.root / text).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise ConfigError(f"{text!r}: not a path inside the outputs folder")
        return resolved

    def child(self, relative: str | Path, name: str) -> Path:
        """The file ``name`` (a plain file name, e.g. a benchmark's) in the folder ``relative``."""
        if not _SAFE_NAME.match(name):
            raise ConfigError(f"{name!r}: not a valid name")
        return self.path(Path(relative) / name)


# ---- eval runs --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalRun:
    """One eval run folder: who ran, when, on what, and each benchmark's main score (from its manifest)."""

    run_id: str  # the folder, relative to the outputs root
    model: str
    started: str
    status: str
    datasets: tuple[str, ...]
    scores: dict[str, float | None]
    main_metrics: dict[str, str]
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    task_types: dict[str, str] = field(default_factory=dict)
    manifest: RunManifest | None = field(default=None, compare=False, repr=False)


def _is_eval_run(folder: Path) -> bool:
    return (folder / MANIFEST_FILE).is_file() or (folder / "reports").is_dir() or (folder / "predictions").is_dir()


def list_eval_runs(outputs: Outputs, max_depth: int = 2) -> list[EvalRun]:
    """The eval runs under the root (run folders up to ``max_depth`` deep), newest first."""
    runs = []
    for folder in _walk_dirs(outputs.root, max_depth):
        if folder.name in ("perf", "think") or not _is_eval_run(folder):
            continue
        try:
            runs.append(read_eval_run(outputs, folder.relative_to(outputs.root).as_posix()))
        except (OSError, ValueError, ConfigError):
            continue  # a half-written or foreign folder is left out, not fatal
    return sorted(runs, key=lambda r: (r.started, r.run_id), reverse=True)


def _walk_dirs(root: Path, max_depth: int) -> Iterator[Path]:
    level = [root]
    for _ in range(max_depth):
        nxt = []
        for folder in level:
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
            except OSError:
                continue
            for child in children:
                if child.is_symlink() and not _inside(root, child):
                    continue
                yield child
                if not _is_eval_run(child):
                    nxt.append(child)
        level = nxt


def _inside(root: Path, path: Path) -> bool:
    resolved = path.resolve()
    return resolved == root or root in resolved.parents


def read_eval_run(outputs: Outputs, run_id: str) -> EvalRun:
    """The run at ``run_id``, described by its manifest alone (``ConfigError`` for a damaged one).

    A manifest that predates the scores table (or a folder with reports and no manifest) takes the missing
    main scores from ``reports/``; the benchmark registry is never consulted, so the viewer shows what the
    run recorded, not what today's code would say.
    """
    folder = outputs.path(run_id)
    path = folder / MANIFEST_FILE
    manifest = RunManifest.load(path) if path.is_file() else None
    entries = manifest.benchmarks if manifest is not None else {}
    missing = [name for name, entry in entries.items() if entry.main_metric is None]
    reports = read_reports(outputs, run_id) if manifest is None or missing else {}
    datasets = sorted(set(entries) | set(reports) | set(_prediction_names(folder)))
    scores: dict[str, float | None] = {}
    main_metrics: dict[str, str] = {}
    for name in datasets:
        entry = entries.get(name)
        if entry is not None and entry.main_metric is not None:
            scores[name], main_metrics[name] = entry.score, entry.main_metric
        elif name in reports:
            scores[name], main_metrics[name] = reports[name].score, reports[name].main_metric
        else:
            scores[name] = None
    if manifest is not None:
        model, status = manifest.model, manifest.status
        started = manifest.started_at.isoformat() if manifest.started_at else ""
    else:
        model = next((r.model for r in reports.values()), None) or _read_yaml(folder / "config.yaml").get("model")
        model, status, started = str(model or "?"), "unknown", ""
    return EvalRun(
        run_id=run_id, model=model, started=started, status=status, datasets=tuple(datasets), scores=scores,
        main_metrics=main_metrics, tags={name: tuple(e.tags) for name, e in entries.items()},
        task_types={name: e.task_type for name, e in entries.items() if e.task_type}, manifest=manifest,
    )


def _prediction_names(folder: Path) -> list[str]:
    predictions = folder / "predictions"
    return [p.stem for p in predictions.glob("*.jsonl") if _inside(folder, p)] if predictions.is_dir() else []


def read_reports(outputs: Outputs, run_id: str) -> dict[str, BenchmarkReport]:
    """``reports/<benchmark>.json`` of a run, by benchmark."""
    folder = outputs.path(run_id) / "reports"
    reports = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            if not _inside(outputs.root, path):
                continue
            try:
                reports[path.stem] = BenchmarkReport.model_validate(orjson.loads(path.read_bytes()))
            except (ValueError, OSError):
                continue
    return reports


def read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes()) if path.is_file() else None
    except (OSError, orjson.JSONDecodeError):
        return None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class SubsetRow:
    benchmark: str
    subset: str
    metric: str
    num: int
    score: float | None


def subset_rows(outputs: Outputs, run_id: str) -> list[SubsetRow]:
    """Every benchmark × subset × metric score of a run (from its reports)."""
    rows = []
    for name, report in read_reports(outputs, run_id).items():
        for subset in report.subsets:
            for metric, value in subset.metrics.items():
                rows.append(SubsetRow(name, subset.name, metric, subset.num, value.score))
    return rows


def task_type_scores(run: EvalRun) -> dict[str, float]:
    """Mean main score per kind of task (the benchmarks' tags other than language, as the manifest recorded
    them), for the radar chart; a benchmark without tags counts as ``other``."""
    groups: dict[str, list[float]] = {}
    for name, score in run.scores.items():
        if score is None:
            continue
        tags = [t for t in run.tags.get(name, ()) if t not in ("en", "zh")]
        for tag in tags or ["other"]:
            groups.setdefault(tag, []).append(score)
    return {tag: sum(v) / len(v) for tag, v in sorted(groups.items())}
