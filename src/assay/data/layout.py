"""What a benchmark's data looks like on disk, for ``assay data layout``: hubs, splits, subsets, folder names.

Built from the benchmark's ``HubDataset`` and the same helpers the loader uses (``folder_names``,
``find_local_copy``, ``SUFFIXES``), so the listing cannot drift from what is actually accepted.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

from assay.data.loader import DATASET_DIR_ENV, default_dataset_dir
from assay.data.readers import SUFFIXES
from assay.data.source import HUBS, HubDataset, find_local_copy, folder_names, name_key

_SHOWN_SUBSETS = 10


@dataclass(frozen=True)
class DataLayout:
    """One benchmark's data as the loader looks for it."""

    benchmark: str
    source: HubDataset
    subsets: tuple[str, ...]
    few_shot_split: str | None = None
    user_subsets: bool = False  # subsets are whatever the user names (its files, or release names)

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for s in (self.source.split, self.few_shot_split) if s))

    @property
    def has_subsets(self) -> bool:
        return len(self.subsets) > 1 and not self.user_subsets


def render_layout(layout: DataLayout, dataset_dir: Path, *, all_subsets: bool = False) -> str:
    """The listing of one benchmark: where it is looked for, how its splits and subsets are found, an example."""
    name, source = layout.benchmark, layout.source
    lines = [name]
    if source.hubs:
        hubs = "; ".join(f"{hub} {repo}" for hub, repo in source.hubs)
        lines.append(f"  hubs, tried in order: {hubs}")
        if source.config:
            lines.append(f"  hub config: {source.config} (a folder of that name in a local copy is used too)")
    else:
        lines.append(f"  hubs: none; your own file or folder: dataset_args.{name}.dataset_id (or local_path)")
    splits = f"{source.split} (evaluated)"
    if layout.few_shot_split and layout.few_shot_split != source.split:
        splits += f", {layout.few_shot_split} (few-shot examples)"
    lines.append(f"  splits: {splits}")
    lines.extend(_subset_lines(layout, all_subsets))
    lines.append(f"  files: {', '.join(SUFFIXES)} (parquet needs pyarrow)")
    if source.hubs:
        names = folder_names(name, source)
        spelled = f": {name_key(name)} works" if name_key(name) != name else ""
        lines.append(f"  folder under dataset_dir: {', '.join(names)} (case, '_', '-' and '.' ignored{spelled}); "
                     f"a single file so named ({name}.jsonl) works too")
        found = find_local_copy(dataset_dir, names)
        lines.append(f"  in {dataset_dir}: {found.name if found else 'no copy (the hubs are tried)'}")
    lines.append("  example:")
    lines.extend(f"    {line}" for line in example_tree(layout))
    return "\n".join(wrapped for line in lines for wrapped in _wrap(line))


def _wrap(line: str) -> list[str]:
    indent = " " * (len(line) - len(line.lstrip()))
    return textwrap.wrap(line, width=110, subsequent_indent=indent + "  ", break_on_hyphens=False,
                         break_long_words=False) or [line]


def _subset_lines(layout: DataLayout, all_subsets: bool) -> list[str]:
    source = layout.source
    if layout.user_subsets:
        if not source.hubs:
            return ["  subsets: one per file (<subset>_<split>.csv, <subset>.jsonl), or one file as 'default'"]
        return [f"  subsets: {', '.join(layout.subsets)} by default; others by name in subset_list"]
    if not layout.has_subsets:
        return ["  subsets: none (one table)"]
    shown = layout.subsets if all_subsets else layout.subsets[:_SHOWN_SUBSETS]
    more = len(layout.subsets) - len(shown)
    names = ", ".join(shown) + (f", ... ({more} more: --datasets {layout.benchmark} lists all)" if more else "")
    columns = ", ".join(source.subset_columns())
    if source.subset_is_config:
        how = f"a file or folder per subset, or one file with the subset in a column ({columns})"
    else:
        how = f"a column of the split's rows ({columns})"
    return [f"  subsets ({len(layout.subsets)}): {names}",
            f"  subsets found by: {how}; a file with none of these runs whole as subset 'default' (with a warning)"]


def example_tree(layout: DataLayout) -> list[str]:
    """Paths of a minimal local copy that the loader accepts, relative to the dataset dir."""
    name, source = layout.benchmark, layout.source
    root = "<dataset_dir>/" + name if source.hubs else f"<dataset_id: a folder, e.g. ./{name}>"
    if layout.user_subsets and not source.hubs:
        return [f"{root}/{stem}_{split}.csv" for stem in ("physics", "history") for split in layout.splits]
    if layout.has_subsets and source.subset_is_config:
        first = [f"{root}/{subset}/{split}.jsonl" for subset in layout.subsets[:2] for split in layout.splits]
        one_file = f"{root}/{source.split}.jsonl"
        column = source.subset_columns()[0]
        return [*first, "...", f"or: {one_file}  (every subset, with a '{column}' column)"]
    return [f"{root}/{split}.jsonl" for split in layout.splits]


def resolve_dataset_dir(named: str | None) -> tuple[Path, str]:
    """The dataset dir a run would use, and where that choice came from (the flag, the variable, the default)."""
    if named:
        return Path(named).expanduser(), "--dataset-dir"
    if os.environ.get(DATASET_DIR_ENV):
        return default_dataset_dir(), DATASET_DIR_ENV
    return default_dataset_dir(), f"the default; set {DATASET_DIR_ENV} or --dataset-dir"


def dataset_dir_note(dataset_dir: Path, origin: str) -> str:
    """The header: which dataset dir is shown (and why), and where the hub downloads are cached."""
    caches = ", ".join(f"{dataset_dir / hub}" for hub in HUBS)
    return (f"dataset_dir: {dataset_dir} ({origin})\nhub downloads are cached in {caches}; a copy under "
            "dataset_dir is used first, then these caches, then the hubs in order")
