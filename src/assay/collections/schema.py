"""A collection schema: a tree of named groups whose leaves are benchmarks, each with a weight.

Weights are relative among siblings and normalised down the tree: a leaf's share of the whole collection is
its weight over its siblings' total, times its group's share of the level above, and so on up to the root.
So ``English(weight 1) → [mmlu_pro 1, mmlu_redux 1, ifeval 1]`` under a root with four equal groups gives each
of the three a share of 1/4 · 1/3 = 1/12.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assay.errors import ConfigError


class DatasetInfo(BaseModel):
    """A leaf of the schema: one benchmark (by its registered name) and how to load it.

    ``args`` are the benchmark's ``dataset_args`` (few_shot_num, subset_list, dataset_id, ...), checked when the
    schema is made. ``task_type`` and ``tags`` group the report; left out, they are the benchmark's own.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="A registered benchmark, e.g. gsm8k, mmlu_pro.")
    weight: float = Field(default=1.0, ge=0, description="Relative to its siblings.")
    task_type: str | None = None
    tags: list[str] = Field(default_factory=list)
    args: dict[str, Any] = Field(default_factory=dict, description="The benchmark's dataset_args.")

    @field_validator("args")
    @classmethod
    def _known_args(cls, value: dict[str, Any]) -> dict[str, Any]:
        from assay.eval.config import DatasetArgs

        DatasetArgs(**value)  # an unknown key or a bad value fails here, named by pydantic
        return value


class CollectionSchema(BaseModel):
    """A named group of benchmarks and sub-groups (``datasets``), itself weighted among its siblings."""

    model_config = ConfigDict(extra="forbid")

    name: str
    weight: float = Field(default=1.0, ge=0)
    datasets: list[Union[CollectionSchema, DatasetInfo]] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> CollectionSchema:
        names = [child.name for child in self.datasets]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"collection {self.name!r} names {', '.join(twice)} more than once; give each "
                             "sibling its own name (put repeated benchmarks in separate groups)")
        if sum(child.weight for child in self.datasets) <= 0:
            raise ValueError(f"collection {self.name!r}: the weights of its datasets add up to 0")
        return self

    def flatten(self) -> list[FlatDataset]:
        """Every leaf with its schema path and its normalised share of the whole collection (sums to 1)."""
        return list(_flatten(self, (), 1.0))

    # ---- files -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "schema") -> CollectionSchema:
        """A schema from its dict form; a bad one is a one-line ``ConfigError`` naming the field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("CollectionSchema",
                                                                                    "DatasetInfo")))
            raise ConfigError(f"{source}: {where + ': ' if where else ''}{first['msg']}") from None

    def dump_json(self, path: str | Path) -> None:
        _write(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")

    def dump_yaml(self, path: str | Path) -> None:
        _write(path, yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))

    @classmethod
    def from_file(cls, path: str | Path) -> CollectionSchema:
        """Read a schema from YAML or JSON (JSON is YAML, so one reader serves both)."""
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"collection schema not found: {file}")
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            raise ConfigError(f"collection schema {file} is not valid YAML or JSON") from None
        if not isinstance(data, dict):
            raise ConfigError(f"collection schema {file} must hold a mapping with name and datasets")
        return cls.from_dict(data, source=str(file))

    from_json = from_file
    from_yaml = from_file


@dataclass(frozen=True)
class FlatDataset:
    """A leaf of a schema, placed: ``path`` names the groups from the root down (e.g. Qwen3, English)."""

    info: DatasetInfo
    path: tuple[str, ...]
    weight: float

    @property
    def key(self) -> str:
        """Unique within the schema: the path and the benchmark name, joined with '/'."""
        return "/".join((*self.path, self.info.name))


def _flatten(node: CollectionSchema, parents: tuple[str, ...], share: float) -> Any:
    path = (*parents, node.name)
    total = sum(child.weight for child in node.datasets)
    for child in node.datasets:
        child_share = share * child.weight / total
        if isinstance(child, CollectionSchema):
            yield from _flatten(child, path, child_share)
        else:
            yield FlatDataset(info=child, path=path, weight=child_share)


def _write(path: str | Path, text: str) -> None:
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
