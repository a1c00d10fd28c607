"""Where a benchmark's data lives, and how to find a split (and subset) in a local copy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from assay.data.readers import SUFFIXES, is_data_file

HUBS = ("huggingface", "modelscope")
# Where one file holds every subject, the subject is in one of these columns (the benchmark's own column, if it
# declares one, is tried first): MMLU's "subject", MMLU-Pro's "category", the "_hf_subset" of hub exports.
SUBSET_COLUMNS = ("subject", "category", "_hf_subset")

_SPLITS = {"train", "test", "validation", "valid", "val", "dev"}


class HubId(NamedTuple):
    """One place a dataset can be downloaded from: the hub and the dataset's id there."""

    hub: str
    id: str


@dataclass(frozen=True)
class HubDataset:
    """A benchmark's data: the hubs it is on (in the order they are tried), its split and how subsets are kept.

    ``hubs``: ``(hub, id)`` pairs, tried in order when the user names no hub; a hub left out does not have it.
    ``config``: the hub config a single-subset benchmark reads (gsm8k's ``main``).
    ``subset_is_config``: each subset is a hub config (a folder or file named after it in a local copy);
    otherwise subsets are a column of one table (``subset_column``) and the benchmark selects its rows.
    ``aliases``: other names its folder may have under the dataset dir (``math500`` for ``math_500``); the hub
    ids' names are accepted too.
    """

    hubs: tuple[tuple[str, str], ...] = ()
    config: str | None = None
    split: str = "test"
    subset_is_config: bool = False
    subset_column: str | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pairs = tuple(HubId(*pair) for pair in self.hubs)
        unknown = [pair.hub for pair in pairs if pair.hub not in HUBS]
        if unknown:
            raise ValueError(f"unknown hub {unknown[0]!r} (hubs: {', '.join(HUBS)})")
        object.__setattr__(self, "hubs", pairs)

    def ids_on(self, hub: str) -> list[str]:
        """The dataset's ids on ``hub`` (none: it is not there)."""
        return [pair.id for pair in self.hubs if pair.hub == hub]

    def subset_columns(self) -> tuple[str, ...]:
        """The columns a row's subset may be read from, the benchmark's own first."""
        own = (self.subset_column,) if self.subset_column else ()
        return tuple(dict.fromkeys((*own, *SUBSET_COLUMNS)))


def folder_names(benchmark: str, source: HubDataset) -> list[str]:
    """The names a copy of ``benchmark`` may have under the dataset dir: its own, its aliases, its hub ids' names."""
    names = [benchmark, *source.aliases, *(pair.id.rsplit("/", 1)[-1] for pair in source.hubs)]
    return list(dict.fromkeys(names))


def name_key(name: str) -> str:
    """``name`` as folder names are compared: case, ``_``, ``-``, ``.`` and spaces ignored (MATH-500 = math500)."""
    return re.sub(r"[-_.\s]", "", name).lower()


def find_local_copy(dataset_dir: Path, names: list[str]) -> Path | None:
    """The folder (or single data file, ``math500.jsonl``) under ``dataset_dir`` named by one of ``names``.

    An exact name wins; then the first of ``names`` whose spelling matches once case, ``_``, ``-`` and ``.`` are
    ignored. The hubs' own cache folders are never a copy.
    """
    if not dataset_dir.is_dir():
        return None
    entries = [entry for entry in dataset_dir.iterdir()
               if not entry.name.startswith(".") and entry.name not in HUBS
               and (entry.is_dir() or is_data_file(entry))]
    by_name = {_entry_stem(entry): entry for entry in sorted(entries)}
    for name in names:
        if name in by_name:
            return by_name[name]
    by_key: dict[str, Path] = {}
    for stem, entry in by_name.items():
        by_key.setdefault(name_key(stem), entry)
    for name in names:
        if name_key(name) in by_key:
            return by_key[name_key(name)]
    return None


def _entry_stem(entry: Path) -> str:
    return entry.name if entry.is_dir() else _stem(entry)


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


def split_names_subsets(root: Path, split: str) -> bool:
    """Whether the copy at ``root`` keeps ``split`` in a file or folder per subset (else one table holds it)."""
    if root.is_file():
        return False
    files, _ = find_split_files(root, split)
    return any(_names_any_subset(file.relative_to(root), split) for file in files)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in SUFFIXES:
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
