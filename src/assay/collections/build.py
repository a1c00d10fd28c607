"""``assay collection build``: a schema file in, a sampled collection file out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.collections.sampler import SAMPLERS, DrawPlan
from assay.collections.schema import CollectionSchema
from assay.eval.config import DatasetHub


class BuildConfig(BaseModel):
    """How to sample a collection from a schema (the CLI's flags, and the Python API's arguments)."""

    model_config = ConfigDict(extra="forbid")

    schema_path: str = Field(description="The collection schema, YAML or JSON.")
    output: str = Field(description="Where to write the collection (JSONL, one sample a line).")
    sampler: Literal["weighted", "stratified", "uniform"] = Field(
        default="weighted", description="weighted (schema weights, capped by dataset size), stratified "
                                        "(proportional to dataset sizes) or uniform (equal per dataset).")
    count: int = Field(default=1000, ge=1, description="Rows to draw in all (fewer when datasets run out).")
    seed: int = Field(default=42, description="Seed of the draw (the same seed gives the same file).")
    dataset_hub: DatasetHub | None = Field(default=None, description="Where to download datasets from; unset: each benchmark's hubs in their fallback order.")
    dataset_dir: str | None = Field(
        default=None, description="Dataset cache folder; <dir>/<benchmark> is used as a local copy if present.")


@dataclass(frozen=True)
class BuildResult:
    """The file written, how many rows, and how they split over the datasets."""

    path: Path
    rows: int
    plan: list[DrawPlan]


def build_collection(config: BuildConfig) -> BuildResult:
    """Sample ``config.schema_path`` and write the rows to ``config.output``."""
    from assay.utils.io import dump_jsonl_data

    schema = CollectionSchema.from_file(config.schema_path)
    sampler = SAMPLERS[config.sampler](schema, seed=config.seed, dataset_hub=config.dataset_hub,
                                       dataset_dir=config.dataset_dir)
    items = sampler.sample(config.count)
    path = dump_jsonl_data(items, config.output)
    return BuildResult(path=path, rows=len(items), plan=sampler.plan)
