"""The run manifest (``manifest.json``): the one typed record of an eval run that every tool reads.

The runner writes it at start, again when the run stops (finished, failed, interrupted), through
:class:`RunManifest`; the viewer and ``assay think`` read it with :meth:`RunManifest.load` and need nothing
else about the run (not the benchmark registry, not the folder's name) besides its prediction files.

Older manifests (before ``schema_version``) still load: ``started``/``finished``/``resumed`` become the
``*_at`` fields, the flat ``scores`` table moves into each benchmark's entry, and what they never recorded
(task type, tags, subsets) is left empty.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field, ValidationError

from assay.errors import ConfigError

MANIFEST_FILE = "manifest.json"  # in the run folder
SCHEMA_VERSION = 2  # 1: the untyped dicts written before this model
RunStatus = Literal["running", "finished", "interrupted", "failed"]


class BenchmarkEntry(BaseModel):
    """One benchmark of the run: what it is (version, kind, tags, subsets, size) and, once scored, its headline."""

    name: str
    version: str = "?"
    task_type: str | None = Field(default=None, description="The registry's kind of task: math, mcq, code...")
    tags: list[str] = Field(default_factory=list)
    subsets: list[str] = Field(default_factory=list)
    num_samples: int | None = Field(default=None, description="Samples selected (after limit).")
    repeats: int | None = None
    main_metric: str | None = None
    score: float | None = None
    stderr: float | None = None
    ci95: tuple[float, float] | None = None
    failed_samples: int = 0
    truncated_answers: int = 0


class RequestTally(BaseModel):
    """The requests the last attempt sent, how many failed, and one line per kind of failure."""

    sent: int = 0
    failed: int = 0
    errors: list[str] = Field(default_factory=list)


class RunFingerprint(BaseModel):
    """What the answers depend on; a resumed run must match it (``None``: not recorded by an old manifest)."""

    model: dict[str, Any] | None = None
    generation_config: dict[str, Any] | None = None
    repeats: int | dict[str, int] | None = None
    benchmarks: dict[str, dict[str, Any]] = Field(default_factory=dict)
    scoring: dict[str, Any] = Field(default_factory=dict)


class RunManifest(BaseModel):
    """An eval run: who ran what, when, how it ended, and each benchmark's main score."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    status: RunStatus
    started_at: dt.datetime | None = None
    resumed_at: dt.datetime | None = Field(default=None, description="When the last --use-cache attempt began.")
    finished_at: dt.datetime | None = None
    model: str = "?"
    eval_type: str | None = None
    api_url: str | list[str] | None = Field(
        default=None, description="Redacted: no credential in it (a list when requests were spread over several).")
    assay_version: str | None = None
    preset: dict[str, Any] | None = Field(default=None, description="name, sha256, builtin (and path of a user's).")
    benchmarks: dict[str, BenchmarkEntry] = Field(default_factory=dict)
    fingerprint: RunFingerprint = Field(default_factory=RunFingerprint)
    requests: RequestTally | None = None
    error: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> RunManifest:
        """The manifest at ``path``, of any shape assay has written; ``ConfigError`` (one line) if it is not one."""
        path = Path(path)
        try:
            data = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{path}: damaged, not JSON ({exc})") from None
        return cls.from_json_data(data, where=str(path), run_id=path.parent.name)

    @classmethod
    def from_json_data(cls, data: Any, *, where: str = "manifest", run_id: str = "?") -> RunManifest:
        """A manifest from its parsed JSON, upgrading older shapes first."""
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: not a run manifest (a JSON {type(data).__name__}, not an object)")
        try:
            return cls.model_validate(_upgrade(data, run_id))
        except ValidationError as exc:
            first = exc.errors()[0]
            at = ".".join(str(p) for p in first["loc"]) or "manifest"
            raise ConfigError(f"{where}: not a run manifest ({at}: {first['msg']})") from None

    def write(self, path: Path) -> None:
        """Replace the file at ``path`` in one step, so a reader never sees half a manifest."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(path)

    def entry(self, name: str) -> BenchmarkEntry:
        """The entry of benchmark ``name``, added (empty) if the run did not have it yet."""
        if name not in self.benchmarks:
            self.benchmarks[name] = BenchmarkEntry(name=name)
        return self.benchmarks[name]


def _upgrade(data: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Older manifests in today's shape; a current one passes through unchanged."""
    if data.get("schema_version", 1) >= SCHEMA_VERSION:
        return data
    out = {k: v for k, v in data.items() if k not in ("started", "finished", "resumed", "scores")}
    for old in ("started", "finished", "resumed"):
        if data.get(old) and f"{old}_at" not in out:
            out[f"{old}_at"] = data[old]
    out.setdefault("run_id", run_id)
    benchmarks: dict[str, dict[str, Any]] = {}
    for name, entry in (data.get("benchmarks") or {}).items():
        benchmarks[name] = {"name": name, **(entry if isinstance(entry, dict) else {})}
    for name, scored in (data.get("scores") or {}).items():
        if not isinstance(scored, dict):
            continue
        entry = benchmarks.setdefault(name, {"name": name})
        entry.update(main_metric=scored.get("metric"), score=scored.get("score"), stderr=scored.get("stderr"))
        if scored.get("num") is not None:
            entry.setdefault("num_samples", scored["num"])
    out["benchmarks"] = benchmarks
    if "status" not in out:  # never left out by assay; a hand-made manifest: what its other fields say
        out["status"] = ("failed" if data.get("error") else
                         "finished" if data.get("finished") or data.get("scores") else "interrupted")
    out["schema_version"] = SCHEMA_VERSION
    return out
