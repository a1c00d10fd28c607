"""JSON Lines files: one record a line, UTF-8, written whole (or appended) and read back as dicts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

import orjson
from pydantic import BaseModel

from assay.errors import DatasetError

DumpMode = Literal["overwrite", "append"]


def _as_json(record: Any) -> bytes:
    if isinstance(record, BaseModel):
        record = record.model_dump(mode="json")
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


def dump_jsonl_data(data: Iterable[Any] | dict[str, Any] | BaseModel, path: str | Path,
                    dump_mode: DumpMode = "overwrite") -> Path:
    """Write ``data`` (dicts or pydantic models; a single one is one line) to ``path``, one record a line.

    ``overwrite`` writes a temporary file and renames it over ``path``, so readers never see half a file;
    ``append`` adds lines to the end. Parent folders are created.
    """
    records = [data] if isinstance(data, (dict, BaseModel)) else data
    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    if dump_mode == "append":
        with file.open("ab") as handle:
            for record in records:
                handle.write(_as_json(record) + b"\n")
        return file
    if dump_mode != "overwrite":
        raise ValueError(f"dump_mode must be 'overwrite' or 'append', not {dump_mode!r}")
    tmp = file.with_name(f".{file.name}.tmp")
    with tmp.open("wb") as handle:
        for record in records:
            handle.write(_as_json(record) + b"\n")
    os.replace(tmp, file)
    return file


def iter_jsonl_data(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a JSONL file, one at a time; blank lines skipped; a bad line is a ``DatasetError``."""
    file = Path(path).expanduser()
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise DatasetError(f"file not found: {file}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise DatasetError(f"{file}:{number}: not a JSON line ({exc})") from None


def load_jsonl_data(path: str | Path) -> list[dict[str, Any]]:
    """All records of a JSONL file."""
    return list(iter_jsonl_data(path))
