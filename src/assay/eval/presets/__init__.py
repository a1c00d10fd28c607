"""Named evaluation presets: the sampling settings and repeats a model card reports its scores under.

A preset is data, not code: a YAML (or JSON) file shipped here (``qwen3-thinking.yaml``...) or a path to the
user's own file. It fills a ``TaskConfig`` *under* what the user gave, so an explicit flag or config key always
wins; the run records the preset's name and a hash of its bytes, so a report says exactly which settings it used.

A file holds ``generation_config`` (``TaskConfig.generation_config``'s fields), ``repeats`` (answers per sample
for a benchmark the file does not name) and ``benchmarks`` (per benchmark: ``repeats``), plus a ``description``
and ``source`` saying where the numbers come from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.errors import ConfigError
from assay.types.generation import GenerationConfig

_SUFFIXES = (".yaml", ".yml", ".json")


class BenchmarkPreset(BaseModel):
    """A benchmark's own settings within a preset."""

    model_config = ConfigDict(extra="forbid")

    repeats: int = Field(ge=1, description="Answers per sample (mean@n, maj@n, pass@n, pass^n).")


class Preset(BaseModel):
    """The contents of a preset file."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    source: str = Field(default="", description="Where the numbers come from (a model card, a paper).")
    generation_config: GenerationConfig = Field(default_factory=GenerationConfig)
    repeats: int | None = Field(default=None, ge=1, description="Repeats of a benchmark not named in benchmarks.")
    benchmarks: dict[str, BenchmarkPreset] = Field(default_factory=dict)


@dataclass(frozen=True)
class LoadedPreset:
    """A preset as read: its name (the file's stem), where it was read, its bytes' sha256 and its contents."""

    name: str
    path: Path
    sha256: str
    preset: Preset
    builtin: bool

    def record(self) -> dict[str, Any]:
        """What the manifest keeps of it: enough to tell which settings a run used, and whether they changed."""
        return {"name": self.name, "sha256": self.sha256, "builtin": self.builtin,
                **({} if self.builtin else {"path": str(self.path)})}

    @property
    def label(self) -> str:
        """``name (sha256 0123abcd4567)``: the preset as a report names it."""
        return f"{self.name} (sha256 {self.sha256[:12]})"


def builtin_presets() -> dict[str, Path]:
    """The presets shipped with assay, by name."""
    folder = resources.files(__name__)
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(_SUFFIXES) and entry.is_file():
            found[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return dict(sorted(found.items()))


def load_preset(name_or_path: str) -> LoadedPreset:
    """A shipped preset by name, else a preset file by path; anything else is a one-line ``ConfigError``."""
    shipped = builtin_presets()
    path = shipped.get(name_or_path)
    if path is None:
        candidate = Path(name_or_path).expanduser()
        if not (candidate.suffix in _SUFFIXES and candidate.is_file()):
            raise ConfigError(f"unknown preset {name_or_path!r} (known: {', '.join(shipped)}; or a path to a "
                              ".yaml/.json preset file)")
        path = candidate
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        raise ConfigError(f"preset file {path} is not valid YAML or JSON") from None
    if not isinstance(data, dict):
        raise ConfigError(f"preset file {path} must hold a mapping (generation_config, repeats, benchmarks)")
    try:
        preset = Preset(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"preset file {path}: bad value for {where}: {message}") from None
    return LoadedPreset(name=path.name.rsplit(".", 1)[0], path=path, sha256=hashlib.sha256(raw).hexdigest(),
                        preset=preset, builtin=name_or_path in shipped)


def apply_preset(values: dict[str, Any], loaded: LoadedPreset) -> dict[str, Any]:
    """``values`` (a ``TaskConfig``'s fields as given) with the preset filled in under them: the user's keys win.

    ``generation_config`` is merged key by key (``extra_body`` and its ``chat_template_kwargs`` too, so a user's
    own ``extra_body`` key keeps the preset's ``enable_thinking``). The preset's repeats apply only when the user
    set none (neither ``repeats`` nor ``generation_config.n``): a benchmark named in the preset gets its own
    (``dataset_args.<name>.repeats``, unless the user set that), the others the preset's ``repeats``.
    """
    out = dict(values)
    preset = loaded.preset
    given = _as_dict(out.get("generation_config"))
    out["generation_config"] = _merge(preset.generation_config.model_dump(exclude_unset=True), given)
    if "repeats" in values or int(given.get("n", 1) or 1) > 1:
        return out
    if preset.repeats is not None:
        out["repeats"] = preset.repeats
    datasets = values.get("datasets") or []
    datasets = [datasets] if isinstance(datasets, str) else list(datasets)
    dataset_args = {name: _as_dict(args) for name, args in (values.get("dataset_args") or {}).items()}
    for name in datasets:
        own = preset.benchmarks.get(name)
        if own is not None and "repeats" not in dataset_args.get(name, {}):
            dataset_args[name] = {**dataset_args.get(name, {}), "repeats": own.repeats}
    if dataset_args:
        out["dataset_args"] = dataset_args
    return out


def _as_dict(value: Any) -> dict[str, Any]:
    """A config model or mapping as the keys that were given (a model's unset defaults are not "given")."""
    if value is None:
        return {}
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return dict(value)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``, nested mappings merged rather than replaced."""
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return merged
