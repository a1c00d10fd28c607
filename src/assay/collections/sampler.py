"""Samplers: how many rows each benchmark of a schema gives to the collection, and which ones.

- ``WeightedSampler``: by the schema's normalised weights, capped by what each dataset has (a capped dataset
  gives all its rows and the others keep their counts, so the weights of the rest are not bent).
- ``StratifiedSampler``: in proportion to the datasets' sizes (the mix of running them all, scaled down).
- ``UniformSampler``: the same number from every dataset, capped by its size.

Counts are apportioned by largest remainders, so they add up to the count asked (unless capped) and each is
within one of its exact share. Rows are drawn without replacement with a generator seeded by the seed and the
dataset's place in the schema: the same seed and schema always give the same collection, and adding a dataset
does not change the rows drawn from the others.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from assay.collections.item import CollectionItem
from assay.collections.schema import CollectionSchema, FlatDataset
from assay.errors import ConfigError, DatasetError
from assay.types import Sample

log = logging.getLogger("assay.collections")


def apportion(total: int, shares: Sequence[float]) -> list[int]:
    """Split ``total`` into whole counts proportional to ``shares`` (largest remainder method).

    The counts add up to ``total`` and each is the floor or the ceiling of its exact quota; ties go to the
    earlier share, so the result is deterministic.
    """
    mass = float(sum(shares))
    if total <= 0 or mass <= 0:
        return [0] * len(shares)
    quotas = [total * share / mass for share in shares]
    counts = [math.floor(q) for q in quotas]
    left = total - sum(counts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts


@dataclass(frozen=True)
class DrawPlan:
    """What a sampler decided for one dataset: its share, how many rows it has, how many were drawn."""

    key: str
    weight: float
    available: int
    drawn: int

    @property
    def capped(self) -> bool:
        return self.drawn == self.available and self.drawn > 0


class Sampler:
    """Loads every benchmark of ``schema`` and draws a collection from them.

    Data is found as ``assay eval`` finds it: a leaf's ``args.dataset_id``, else ``<dataset_dir>/<benchmark>``,
    else the hub (``dataset_hub``; ``local`` never downloads). A benchmark assay does not have, or whose data
    is not available, is a ``DatasetError`` naming it, raised before anything is drawn.
    """

    name: ClassVar[str] = ""

    def __init__(self, schema: CollectionSchema, *, seed: int = 42, dataset_hub: str | None = None,
                 dataset_dir: str | None = None) -> None:
        from assay.data import DatasetLoader

        self.schema = schema
        self.seed = seed
        self.loader = DatasetLoader(dataset_hub, dataset_dir)
        self.plan: list[DrawPlan] = []

    def allocate(self, count: int, leaves: list[FlatDataset], sizes: list[int]) -> list[int]:
        """Rows to draw from each leaf (never more than it has)."""
        raise NotImplementedError

    def sample(self, count: int) -> list[CollectionItem]:
        """Draw about ``count`` rows (fewer when datasets are capped); ``self.plan`` says how they split."""
        if count < 1:
            raise ConfigError(f"the collection needs a count of at least 1, not {count}")
        leaves = self.schema.flatten()
        self._check_benchmarks(leaves)
        pools = [self._load(leaf) for leaf in leaves]
        sizes = [len(pool) for pool in pools]
        counts = [min(k, size) for k, size in zip(self.allocate(count, leaves, sizes), sizes)]
        self.plan = [DrawPlan(leaf.key, leaf.weight, size, k) for leaf, size, k in zip(leaves, sizes, counts)]
        items: list[CollectionItem] = []
        for leaf, pool, k in zip(leaves, pools, counts):
            rng = random.Random(f"{self.seed}:{leaf.key}")
            for position in sorted(rng.sample(range(len(pool)), k)):
                items.append(_item(len(items), leaf, pool.benchmark, pool.samples[position]))
        return items

    # ---- loading -----------------------------------------------------------------------------------

    def _check_benchmarks(self, leaves: list[FlatDataset]) -> None:
        from assay import __version__
        from assay.eval.benchmarks import benchmark_names

        known = set(benchmark_names())
        missing = [leaf for leaf in leaves if leaf.info.name not in known]
        if missing:
            names = ", ".join(f"{leaf.info.name} (at {leaf.key})" for leaf in missing)
            raise DatasetError(f"collection {self.schema.name!r}: no benchmark {names} in assay {__version__}, so "
                               f"the mix cannot be built as weighted; remove them from the schema or set their "
                               f"weight to 0 (assay.eval.benchmark_names() lists the benchmarks there are)")

    def _load(self, leaf: FlatDataset) -> _Pool:
        from assay.eval.benchmarks import get_benchmark
        from assay.eval.config import DatasetArgs

        benchmark = get_benchmark(leaf.info.name)(DatasetArgs(**leaf.info.args), self.seed)
        where = f"collection {self.schema.name!r}, dataset {leaf.key}"
        try:
            samples = benchmark.load(self.loader)
        except (DatasetError, ConfigError) as exc:
            raise type(exc)(f"{where}: {exc}") from None
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise DatasetError(f"{where}: its rows do not look like {leaf.info.name}'s hub schema ({exc!r}); "
                               f"set args.dataset_id to a copy in that schema") from None
        if not samples and leaf.weight > 0:
            raise DatasetError(f"{where}: the data was found but has no samples; the mix would silently lose it")
        return _Pool(benchmark, samples)


@dataclass
class _Pool:
    """A benchmark and the samples it loaded."""

    benchmark: Any
    samples: list[Sample]

    def __len__(self) -> int:
        return len(self.samples)


def _item(index: int, leaf: FlatDataset, benchmark: Any, sample: Sample) -> CollectionItem:
    return CollectionItem(
        index=index, benchmark=benchmark.name, benchmark_version=benchmark.version, subset=sample.subset,
        task_type=leaf.info.task_type or benchmark.task_type,
        tags=list(leaf.info.tags or benchmark.tags), path=list(leaf.path), weight=leaf.weight,
        args=leaf.info.args, sample=sample,
    )


class WeightedSampler(Sampler):
    """Rows in proportion to the schema's normalised weights, each dataset capped by its size."""

    name = "weighted"

    def allocate(self, count: int, leaves: list[FlatDataset], sizes: list[int]) -> list[int]:
        counts = apportion(count, [leaf.weight for leaf in leaves])
        for leaf, k, size in zip(leaves, counts, sizes):
            if k > size:
                log.warning("%s: its weight asks for %d rows and it has %d; all %d are taken", leaf.key, k, size,
                            size)
        return counts


class StratifiedSampler(Sampler):
    """Rows in proportion to each dataset's size (weights are not used)."""

    name = "stratified"

    def allocate(self, count: int, leaves: list[FlatDataset], sizes: list[int]) -> list[int]:
        return apportion(min(count, sum(sizes)), sizes)


class UniformSampler(Sampler):
    """The same number of rows from every dataset, capped by its size (weights are not used)."""

    name = "uniform"

    def allocate(self, count: int, leaves: list[FlatDataset], sizes: list[int]) -> list[int]:
        return apportion(count, [1.0] * len(leaves))


SAMPLERS: dict[str, type[Sampler]] = {cls.name: cls for cls in (WeightedSampler, StratifiedSampler, UniformSampler)}
