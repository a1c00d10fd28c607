"""``assay data prefetch``: download and cache every dataset a run needs, so the run itself stays offline; and
``assay data layout``: what each benchmark's data looks like on disk.

Each benchmark is loaded exactly as a run loads it (its test split, its few-shot split, every subset), so a
prefetch that succeeds guarantees the run finds its data: after it, the loader answers from the cache
(``dataset_dir``) without any network call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.data import DatasetLoader
from assay.data.layout import DataLayout
from assay.eval.benchmarks import benchmark_names, get_benchmark
from assay.eval.config import DatasetArgs


@dataclass(frozen=True)
class Prefetched:
    """One benchmark's data, ready offline: where it is and how many samples a full run has."""

    benchmark: str
    path: Path
    samples: int


def prefetch(
    datasets: list[str],
    *,
    dataset_args: dict[str, DatasetArgs | dict[str, Any]] | None = None,
    dataset_hub: str | None = None,
    dataset_dir: str | Path | None = None,
) -> list[Prefetched]:
    """Download (or find) each benchmark's data into ``dataset_dir`` and read it all once."""
    loader = DatasetLoader(dataset_hub, dataset_dir)
    done = []
    for name in datasets:
        cls = get_benchmark(name)
        raw = (dataset_args or {}).get(name)
        args = raw if isinstance(raw, DatasetArgs) else DatasetArgs(**(raw or {}))
        benchmark = cls(args)
        samples = benchmark.load(loader)  # every subset and few-shot split a run reads
        done.append(Prefetched(name, loader.locate(name, cls.source, args.source_override), len(samples)))
    return done


def data_layouts(datasets: list[str] | None = None) -> list[DataLayout]:
    """Each benchmark's data layout (every registered benchmark when ``datasets`` is empty), from its class."""
    layouts = []
    for name in datasets or benchmark_names():
        cls = get_benchmark(name)
        layouts.append(DataLayout(benchmark=name, source=cls.source, subsets=tuple(cls.subsets),
                                  few_shot_split=cls.few_shot_split,
                                  user_subsets=cls(DatasetArgs()).accepts_any_subset()))
    return layouts
