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
        # The cache first, with no network at all: a prefetched dataset never touches the hub again.
        cached = hub_download(self.hub, repo, self.cache_dir, local_only=True)
        if cached is not None:
            return cached
        if _offline():
            raise DatasetError(self._missing(benchmark, f"{repo} is not cached and HF_HUB_OFFLINE is set"))
        try:
            path = hub_download(self.hub, repo, self.cache_dir, local_only=False)
        except ImportError as exc:
            raise DatasetError(self._missing(benchmark, f"{exc.name or 'the hub client'} is not installed "
                                                        "(pip install 'assay[hub]')")) from None
        except Exception as exc:  # the hubs raise many kinds; all mean "not available here"
            raise DatasetError(self._missing(benchmark, f"{repo} is not cached and could not be downloaded "
                                                        f"({exc.__class__.__name__})")) from None
        assert path is not None
        return path

    def _missing(self, benchmark: str, why: str) -> str:
        return (f"dataset {benchmark!r} is not available: {why}; run `assay data prefetch --datasets {benchmark}"
                f"{' --dataset-dir ' + str(self.cache_dir) if self.cache_dir != DEFAULT_CACHE_DIR else ''}` "
                f"where the hub is reachable, or point dataset_args.{benchmark}.dataset_id at a local copy in the "
                f"hub's schema, or --dataset-dir at a folder holding {benchmark}/")


_ALLOW_PATTERNS = ["*.json", "*.jsonl", "*.jsonl.gz", "*.csv", "*.parquet", "*.md"]


def _offline() -> bool:
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes")
               for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "ASSAY_OFFLINE"))


def hub_download(hub: str, repo: str, cache_dir: Path, *, local_only: bool) -> Path | None:
    """A dataset repo's snapshot in ``cache_dir/<hub>``; with ``local_only`` the cached copy or None, never
    the network. The one place that calls the hubs (tests replace it)."""
    if hub == "modelscope":
        from modelscope import snapshot_download as ms_snapshot

        target = cache_dir / "modelscope"
        if local_only:
            # ModelScope has no cache-only mode: a finished download is the folder it wrote.
            folder = target / repo
            return folder if folder.is_dir() and any(folder.iterdir()) else None
        return Path(ms_snapshot(repo, repo_type="dataset", cache_dir=str(target)))
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        if local_only:
            return None
        raise
    try:
        path = snapshot_download(repo, repo_type="dataset", cache_dir=str(cache_dir / "huggingface"),
                                 local_files_only=local_only, allow_patterns=_ALLOW_PATTERNS)
    except Exception:  # noqa: BLE001 - not cached (local_only) or not reachable
        if local_only:
            return None
        raise
    return Path(path)


def _looks_local(value: str) -> bool:
    # A hub id is "owner/name"; a path exists, or starts like one.
    from assay.data.readers import SUFFIXES

    return (os.path.exists(os.path.expanduser(value)) or value.startswith(("/", "./", "../", "~"))
            or value.lower().endswith(SUFFIXES) or value.count("/") >= 2)
