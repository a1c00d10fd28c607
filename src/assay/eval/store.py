"""A run's folder: config.yaml, manifest.json, predictions/<benchmark>.jsonl, reports/, logs/run.log.

Every finished sample is appended to its predictions file and flushed at once, so a crash (even kill -9)
loses at most the line being written; reading back drops a torn last line before new lines are appended,
and skips (with a warning) any other line that does not parse, so its sample is asked again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import yaml

from assay.errors import ConfigError
from assay.types import SampleResult
from assay.types.manifest import MANIFEST_FILE, RunManifest

log = logging.getLogger("assay.eval")

MANIFEST = MANIFEST_FILE
_WARNED: set[tuple[Path, int, int]] = set()  # damaged lines already reported


class RunStore:
    """The files of one evaluation run, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.predictions = root / "predictions"
        self.reports = root / "reports"
        self.logs = root / "logs"
        self._writers: dict[str, BinaryIO] = {}

    @classmethod
    def create(cls, work_dir: str | Path, model: str) -> RunStore:
        """A new run folder ``<work_dir>/<timestamp>_<model>``."""
        stamp = dt.datetime.now().strftime("%Y%m%d_%H%M%S")
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model).name if os.sep in model else model)[:60]
        base = Path(work_dir).expanduser() / f"{stamp}_{name}"
        root, suffix = base, 1
        while root.exists():
            suffix += 1
            root = base.with_name(f"{base.name}_{suffix}")
        store = cls(root)
        store.make_dirs()
        return store

    @classmethod
    def existing(cls, path: str | Path) -> RunStore:
        """The run folder at ``path`` (for ``--use-cache``), which must hold a manifest."""
        root = Path(path).expanduser()
        if not (root / MANIFEST).is_file():
            raise ConfigError(f"--use-cache {path}: not an assay run folder (no {MANIFEST}); "
                              "leave out --use-cache to start a new run")
        store = cls(root)
        store.make_dirs()
        return store

    def make_dirs(self) -> None:
        for folder in (self.predictions, self.reports, self.logs):
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def run_id(self) -> str:
        return self.root.name

    # ---- config and manifest -----------------------------------------------------------------------

    def write_config(self, config: dict[str, Any]) -> None:
        (self.root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                                               encoding="utf-8")

    def read_manifest(self) -> RunManifest | None:
        """The run's manifest (any shape assay wrote), or None for a folder that has none yet."""
        path = self.root / MANIFEST
        if not path.is_file():
            return None
        try:
            return RunManifest.load(path)
        except ConfigError as exc:  # written by replace, so only a hand edit or a bad disk does this
            raise ConfigError(f"{exc}; pass --fresh to start a new run folder") from None

    def write_manifest(self, manifest: RunManifest) -> None:
        manifest.write(self.root / MANIFEST)

    # ---- predictions -------------------------------------------------------------------------------

    def predictions_path(self, benchmark: str) -> Path:
        return self.predictions / f"{benchmark}.jsonl"

    def load_results(self, benchmark: str, *, repair: bool = False) -> dict[str, SampleResult]:
        """The results recorded for ``benchmark`` by sample id (a later line wins).

        A torn last line (the run was killed while writing it) is skipped; with ``repair`` (a run about to
        append) it is also cut from the file. A damaged line elsewhere is skipped with a warning naming the
        file and line, and left in place: its sample counts as not answered, so a resumed run asks it again.
        Readers such as ``think`` and ``compare`` never write.
        """
        path = self.predictions_path(benchmark)
        if not path.is_file():
            return {}
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            if repair:
                log.warning("%s line %d: dropping a torn last line (the run was killed while writing it)", path,
                            data.count(b"\n") + 1)
                with path.open("r+b") as handle:
                    handle.truncate(keep)
            data = data[:keep]
        results: dict[str, SampleResult] = {}
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                result = SampleResult.model_validate(orjson.loads(line))
            except ValueError as exc:  # orjson's and pydantic's errors both are
                # One damaged line costs one sample, asked again on resume, never the whole run.
                if (path, number, hash(line)) not in _WARNED:  # once per process, though a run reads twice
                    _WARNED.add((path, number, hash(line)))
                    log.warning("%s line %d: not a readable sample record, skipped (%s)", path, number,
                                str(exc).splitlines()[0])
                continue
            results[result.sample.id] = result
        return results

    def append(self, benchmark: str, result: SampleResult) -> None:
        """Write one finished sample and flush it to the OS, so a crash cannot lose it."""
        writer = self._writers.get(benchmark)
        if writer is None:
            writer = self._writers[benchmark] = self.predictions_path(benchmark).open("ab")
        writer.write(orjson.dumps(result.model_dump(mode="json")) + b"\n")
        writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
