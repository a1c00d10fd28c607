"""One line of a collection file: a benchmark sample and everything needed to score it later, anywhere."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.types import Sample


class CollectionItem(BaseModel):
    """A sampled row: the ``sample`` as its benchmark rendered it (prompt messages, target, choices, metadata),
    the benchmark's name and version, the subset, the schema ``path`` and the dataset's normalised ``weight``,
    the report's ``task_type`` and ``tags``, and the ``args`` it was loaded with (its scorer's settings)."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="Position in the collection; the sample id an evaluation records.")
    benchmark: str
    benchmark_version: str
    subset: str
    task_type: str
    tags: list[str] = Field(default_factory=list)
    path: list[str] = Field(description="Schema groups from the root down, e.g. ['Qwen3', 'English'].")
    weight: float = Field(description="The dataset's share of the whole collection (the leaves sum to 1).")
    args: dict[str, Any] = Field(default_factory=dict)
    sample: Sample

    @property
    def dataset_key(self) -> str:
        """The schema leaf this row came from: path and benchmark joined with '/'."""
        return "/".join((*self.path, self.benchmark))
