"""Where a benchmark's data lives, and how to find a split (and subset) in a local copy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assay.data.readers import is_data_file


_SPLITS = {"train", "test", "validation", "valid", "val", "dev"}


@dataclass(frozen=True)
class HubDataset:
    """A dataset on the hubs: the Hugging Face id (and config), the ModelScope id, the default split.

    ``subset_is_config``: each subset is a hub config (a folder or file named after it in a local copy);
    otherwise subsets are a column of one table and the benchmark selects its rows.
    """

    hf: str | None = None
    modelscope: str | None = None
    config: str | None = None
    split: str = "test"
    subset_is_config: bool = False


def find_split_files(root: Path, split: str, subset: str | None = None) -> tuple[list[Path], bool]:
    """The data files of ``split`` (and ``subset``, when the copy keeps one per file or folder) under ``root``.

    Understands the layouts hubs and users use: ``<split>.jsonl``, ``<subset>/<split>-00000-of-00001.parquet``,
    ``data/<split>-*.parquet``, ``<split>/<subset>_<split>.csv``. Returns the files and whether they are
    ``subset``'s own: if the copy has no per-subset files, all files of the split come back with ``False``
    and the benchmark selects the subset's rows itself.
    """
    if root.is_file():
        return [root], False
    files = sorted(p for p in root.rglob("*") if is_data_file(p) and not _hidden(p.relative_to(root)))
    of_split = [p for p in files if split in _tokens(p.relative_to(root))]
    if not of_split and (len(files) == 1 or not any(_tokens(p.relative_to(root)) & _SPLITS for p in files)):
        of_split = files  # one file, or a copy whose files name no split at all
    if subset is None:
        return of_split, False
    of_subset = [p for p in of_split if _names_subset(p.relative_to(root), subset, split)]
    if of_subset:
        return of_subset, True
    if any(_names_any_subset(p.relative_to(root), split) for p in of_split):
        return [], True
    return of_split, False


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".jsonl.gz", ".jsonl", ".json", ".csv", ".parquet"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _tokens(relative: Path) -> set[str]:
    parts = [*relative.parts[:-1], _stem(relative)]
    tokens: set[str] = set(parts)
    for part in parts:
        tokens.update(t for t in re.split(r"[-_.\s]", part) if t)
    return tokens


def _names_subset(relative: Path, subset: str, split: str) -> bool:
    stem = _stem(relative)
    if subset in relative.parts[:-1]:
        return True
    return stem in (subset, f"{subset}_{split}", f"{subset}-{split}") or stem.startswith(f"{subset}-{split}-")


def _names_any_subset(relative: Path, split: str) -> bool:
    # A file named more than just the split ("abstract_algebra_test.csv", "IQ/test.jsonl") names a subset.
    stem = _stem(relative)
    bare = re.fullmatch(rf"{re.escape(split)}(-\d+-of-\d+)?", stem) is not None
    dirs = [d for d in relative.parts[:-1] if d not in ("data", split)]
    return bool(dirs) or not bare
