"""Find a benchmark's data: a local path, a copy under the dataset dir, or a hub download (cached).

The order, always: ``dataset_args.<name>.dataset_id`` when it is a path; ``<dataset_dir>/<name>`` (or an alias,
``math500`` for ``math_500``); the hub copies already cached in ``dataset_dir`` (no network); then a download from
each of the benchmark's hubs in its order (or from the one hub the user named).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from assay.data.readers import SUFFIXES, read_rows
from assay.data.source import HUBS, HubDataset, HubId, find_local_copy, find_split_files, folder_names
from assay.errors import ConfigError, DatasetError

log = logging.getLogger("assay.data")

DATASET_DIR_ENV = "ASSAY_DATASET_DIR"
LOADER_HUBS = (*HUBS, "local")


def default_dataset_dir() -> Path:
    """``$ASSAY_DATASET_DIR`` if set (read when a loader is made), else ``~/.cache/assay/datasets``."""
    configured = os.environ.get(DATASET_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "assay" / "datasets"


class DatasetLoader:
    """Resolves and reads datasets; one per run, so each file is read once.

    ``hub``: None (each benchmark's hubs, in its order), ``huggingface`` or ``modelscope`` (that hub only), or
    ``local`` (never download). A hub id is downloaded with ``huggingface_hub.snapshot_download`` or
    ``modelscope.snapshot_download`` into ``cache_dir`` and read from there, so the second run works offline.
    """

    def __init__(self, hub: str | None = None, cache_dir: str | Path | None = None) -> None:
        if hub is not None and hub not in LOADER_HUBS:
            raise ConfigError(f"dataset_hub: unknown hub {hub!r} (use {', '.join(LOADER_HUBS)}, or leave it unset)")
        self.hub = hub
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_dataset_dir()
        self._custom_dir = cache_dir is not None
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
        if not override:
            copy = find_local_copy(self.cache_dir, folder_names(benchmark, source))
            if copy is not None:
                return copy
        candidates = self._candidates(benchmark, source, override)
        # Every hub's cache first, with no network at all: a prefetched dataset never touches a hub again.
        for hub, repo in candidates:
            cached = hub_download(hub, repo, self.cache_dir, local_only=True)
            if cached is not None:
                log.info("%s: cached %s copy of %s", benchmark, hub, repo)
                return cached
        if self.hub == "local":
            return self._fail(benchmark, source, f"no copy under {self.cache_dir} and dataset_hub is local")
        if _offline():
            return self._fail(benchmark, source, f"{_ids(candidates)} not cached and HF_HUB_OFFLINE is set")
        failures, gated = [], None
        for hub, repo in candidates:
            try:
                return hub_download(hub, repo, self.cache_dir, local_only=False)  # type: ignore[return-value]
            except ImportError as exc:
                failures.append(f"{hub} {repo}: {exc.name or 'the hub client'} is not installed "
                                "(pip install 'assay[hub]')")
            except Exception as exc:  # noqa: BLE001 - the hubs raise many kinds; all mean "not available here"
                if hub == "huggingface" and gated is None and is_gated_error(exc):
                    gated = gated_message(benchmark, repo)
                failures.append(f"{hub} {repo} is not cached and could not be downloaded ({exc.__class__.__name__})")
            log.info("%s: %s; trying the next hub", benchmark, failures[-1])
        if gated is not None:
            # What the user must do is accept the terms, not prefetch: the generic advice would hide that.
            raise DatasetError(gated)
        return self._fail(benchmark, source, "; ".join(failures))

    def _candidates(self, benchmark: str, source: HubDataset, override: str | None) -> list[HubId]:
        """The (hub, id) pairs to try, in order; a hub the user named that lacks the dataset is one line."""
        named = self.hub if self.hub in HUBS else None
        if override:  # a hub id of the user's: on the named hub, else on the benchmark's hubs (or any) in order
            hubs = [named] if named else list(dict.fromkeys(pair.hub for pair in source.hubs)) or list(HUBS)
            return [HubId(hub, override) for hub in hubs]
        if not source.hubs:
            raise DatasetError(f"{benchmark} is on no hub: set dataset_args.{benchmark}.dataset_id to a file or "
                               f"folder, or put a copy at {self.cache_dir / benchmark}")
        if named is None:
            return list(source.hubs)
        if not source.ids_on(named):
            elsewhere = ", ".join(f"{pair.hub} ({pair.id})" for pair in source.hubs)
            raise DatasetError(f"dataset {benchmark!r} is not on {named} (dataset_hub): it is on {elsewhere}; "
                               "leave dataset_hub unset to try its hubs in order")
        return [HubId(named, repo) for repo in source.ids_on(named)]

    def _fail(self, benchmark: str, source: HubDataset, why: str) -> Path:
        hub = f" --dataset-hub {self.hub}" if self.hub in HUBS else ""
        folder = f" --dataset-dir {self.cache_dir}" if self._custom_dir else ""
        names = "/, ".join(folder_names(benchmark, source)[:3])
        raise DatasetError(
            f"dataset {benchmark!r} is not available: {why}; run `assay data prefetch --datasets {benchmark}{hub}"
            f"{folder}` where the hub is reachable, or point dataset_args.{benchmark}.dataset_id at a local copy in "
            f"the hub's schema, or --dataset-dir at a folder holding {names}/ (see `assay data layout --datasets "
            f"{benchmark}`)")


def is_gated_error(exc: BaseException) -> bool:
    """Whether a Hugging Face download failed for want of access: ``GatedRepoError`` (the terms not accepted, or
    no token), or another 401/403 answer. A ``RepositoryNotFoundError`` is not: the hub answers 401 for a repo
    that does not exist too, and calling a misspelt id gated would send the user to the wrong fix."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "GatedRepoError" in names:
        return True
    if "RepositoryNotFoundError" in names:
        return False
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status in (401, 403)


def gated_message(benchmark: str, repo: str) -> str:
    """The one line for a gated Hugging Face dataset: where to accept its terms, and the two ways round."""
    return (f"{benchmark} is gated on Hugging Face: accept its terms at https://huggingface.co/datasets/{repo} and "
            f"set HF_TOKEN (or pass a local copy with dataset_args.{benchmark}.dataset_id)")


_ALLOW_PATTERNS = [f"*{suffix}" for suffix in SUFFIXES] + ["*.md"]


def _ids(candidates: list[HubId]) -> str:
    return ", ".join(f"{hub} {repo}" for hub, repo in candidates)


def _offline() -> bool:
    return any(os.environ.get(name, "").lower() in ("1", "true", "yes")
               for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "ASSAY_OFFLINE"))


def hub_download(hub: str, repo: str, cache_dir: Path, *, local_only: bool) -> Path | None:
    """A dataset repo's snapshot in ``cache_dir/<hub>``; with ``local_only`` the cached copy or None, never
    the network. The one place that calls the hubs (tests replace it)."""
    if hub == "modelscope":
        target = cache_dir / "modelscope"
        if local_only:
            # ModelScope has no cache-only mode: a finished download is the folder it wrote (its versions put
            # datasets at <cache>/<id> or <cache>/datasets/<id>).
            for folder in (target / repo, target / "datasets" / repo):
                if folder.is_dir() and any(folder.iterdir()):
                    return folder
            return None
        from modelscope import snapshot_download as ms_snapshot

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
    return (os.path.exists(os.path.expanduser(value)) or value.startswith(("/", "./", "../", "~"))
            or value.lower().endswith(SUFFIXES) or value.count("/") >= 2)
