"""``assay collection``: weighted, tagged mixes of benchmarks, sampled into one file and evaluated as one.

``from assay.collections import CollectionSchema, DatasetInfo, WeightedSampler``; evaluate the saved file with
``run_task(TaskConfig(datasets=['data_collection'], dataset_args={'data_collection': {'dataset_id': PATH}}))``.
Imports are lazy: the ``data_collection`` benchmark reads ``CollectionItem`` without loading the samplers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.collections.build import BuildConfig, build_collection
    from assay.collections.item import CollectionItem
    from assay.collections.report import CollectionReport, load_collection_report
    from assay.collections.sampler import (
        SAMPLERS, Sampler, StratifiedSampler, UniformSampler, WeightedSampler, apportion,
    )
    from assay.collections.schema import CollectionSchema, DatasetInfo, FlatDataset

__all__ = ["SAMPLERS", "BuildConfig", "CollectionItem", "CollectionReport", "CollectionSchema", "DatasetInfo",
           "FlatDataset", "Sampler", "StratifiedSampler", "UniformSampler", "WeightedSampler", "apportion",
           "build_collection", "load_collection_report"]

_WHERE = {
    "CollectionSchema": "schema", "DatasetInfo": "schema", "FlatDataset": "schema", "CollectionItem": "item",
    "Sampler": "sampler", "WeightedSampler": "sampler", "StratifiedSampler": "sampler", "UniformSampler": "sampler",
    "SAMPLERS": "sampler", "apportion": "sampler", "BuildConfig": "build", "build_collection": "build",
    "CollectionReport": "report", "load_collection_report": "report",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"assay.collections.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'assay.collections' has no attribute {name!r}")
