"""Find a benchmark's data: a local path, a copy under the dataset dir, or a hub download (cached)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from assay.data.readers import read_rows
from assay.data.source import HubDataset, find_split_files
from assay.errors import DatasetError

log = logging.getLogger("assay.data")

DEFAULT_CACHE_DIR = Path(os.environ.get("ASSAY_DATASET_DIR", Path.home() / ".cache" / "assay" / "datasets"))


class DatasetLoader:
    """Resolves and reads datasets; one per run, so each file is read once.

    ``hub`` is ``huggingface``, ``modelscope`` or ``local`` (never download). A hub id is downloaded with
    ``huggingface_hub.snapshot_download`` or ``modelscope.snapshot_download`` into ``cache_dir`` and read
    from there, so the second run works offline.
    """

    def __init__(self, hub: str = "huggingface", cache_dir: str | Path | None = None) -> None:
        self.hub = hub
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else DEFAULT_CACHE_DIR
        self._roots: dict[tuple[str, str | None], Path] = {}
        self._rows: dict[tuple[Path, str, str | None], tuple[list[dict[str, Any]], bool]] = {}

    def locate(self, benchmark: str, source: HubDataset, override: str | None = None) -> Path:
        """The local file or folder holding ``benchmark``'s data, downloading it if need be."""
        key = (benchmark, override)
        if key not in self._roots:
            self._roots[key] = self._locate(benchmark, source, override)
        return self._roots[key]

    def rows(self, root: Path, split: str, subset: str | None = None) -> tuple[list[dict[str, Any]], bool]:
        """The rows of ``split``, and whether they are ``subset``'s alone (the copy has a file or folder per
        subset) or the whole split (the caller selects the subset's rows)."""
        key = (root, split, subset)
        if key not in self._rows:
            files, per_subset = find_split_files(root, split, subset)
            if not files:
                what = f"split {split!r}" + (f", subset {subset!r}" if subset else "")
                raise DatasetError(f"no data files for {what} under {root}")
            rows: list[dict[str, Any]] = []
            for file in files:
                rows.extend(read_rows(file))
            self._rows[key] = (rows, per_subset)
        return self._rows[key]

    def _locate(self, benchmark: str, source: HubDataset, override: str | None) -> Path:
        if override and _looks_local(override):
            path = Path(override).expanduser()
            if not path.exists():
                raise DatasetError(f"dataset_args.{benchmark}.dataset_id: no such file or folder {path}")
            return path
        local_copy = self.cache_dir / benchmark
        if not override and local_copy.exists():
            return local_copy
        repo = override or (source.modelscope if self.hub == "modelscope" else source.hf)
        if self.hub == "local" or not repo:
            raise DatasetError(self._missing(benchmark, "no local copy and dataset_hub is local"))
        if self.hub == "modelscope":
            return self._download_modelscope(benchmark, repo)
        return self._download_hf(benchmark, repo)

    def _download_hf(self, benchmark: str, repo: str) -> Path:
        try:
            from huggingface_hub import snapshot_download
        except ImportError:
            raise DatasetError(self._missing(benchmark, "huggingface_hub is not installed")) from None
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        try:
            path = snapshot_download(
                repo, repo_type="dataset", cache_dir=str(self.cache_dir / "huggingface"), local_files_only=offline,
                allow_patterns=["*.json", "*.jsonl", "*.jsonl.gz", "*.csv", "*.parquet", "*.md"],
            )
        except Exception as exc:  # the hub raises many kinds; all mean "not available here"
            raise DatasetError(self._missing(benchmark, f"{repo} is not cached and could not be downloaded "
                                                        f"({exc.__class__.__name__})")) from None
        return Path(path)

    def _download_modelscope(self, benchmark: str, repo: str) -> Path:
        try:
            from modelscope import snapshot_download
        except ImportError:
            raise DatasetError(self._missing(benchmark, "modelscope is not installed (pip install modelscope)")) from None
        try:
            path = snapshot_download(repo, repo_type="dataset", cache_dir=str(self.cache_dir / "modelscope"))
        except Exception as exc:  # as above
            raise DatasetError(self._missing(benchmark, f"{repo} could not be downloaded ({exc.__class__.__name__})"))
        return Path(path)

    def _missing(self, benchmark: str, why: str) -> str:
        return (f"dataset {benchmark!r} is not available: {why}; point dataset_args.{benchmark}.dataset_id at a "
                f"local copy in the hub's schema, or --dataset-dir at a folder holding {benchmark}/")


def _looks_local(value: str) -> bool:
    # A hub id is "owner/name"; a path exists, or starts like one.
    from assay.data.readers import SUFFIXES

    return (os.path.exists(os.path.expanduser(value)) or value.startswith(("/", "./", "../", "~"))
            or value.lower().endswith(SUFFIXES) or value.count("/") >= 2)
