"""Read rows (dicts) from local files: jsonl, jsonl.gz, json, csv, tsv, parquet."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Any

import orjson

from assay.errors import DatasetError

SUFFIXES = (".jsonl.gz", ".jsonl", ".json", ".csv", ".tsv", ".parquet")


def is_data_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(SUFFIXES)


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """All rows of one data file; a file that cannot be parsed is a one-line ``DatasetError``."""
    file = Path(path)
    name = file.name.lower()
    try:
        if name.endswith((".jsonl", ".jsonl.gz")):
            return _read_jsonl(file)
        if name.endswith(".json"):
            return _read_json(file)
        if name.endswith(".csv"):
            return _read_csv(file)
        if name.endswith(".tsv"):  # FRAMES ships its test split as test.tsv
            return _read_csv(file, delimiter="\t")
        if name.endswith(".parquet"):
            return _read_parquet(file)
    except (orjson.JSONDecodeError, UnicodeDecodeError, csv.Error, gzip.BadGzipFile) as exc:
        raise DatasetError(f"cannot read {file}: {exc}") from None
    except FileNotFoundError:
        raise DatasetError(f"dataset file not found: {file}") from None
    raise DatasetError(f"unsupported dataset file {file} (use {', '.join(SUFFIXES)})")


def _read_jsonl(file: Path) -> list[dict[str, Any]]:
    opener = gzip.open if file.name.lower().endswith(".gz") else open
    rows = []
    with opener(file, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise DatasetError(f"cannot read {file}: line {number} is not JSON ({exc})") from None
    return rows


def _read_json(file: Path) -> list[dict[str, Any]]:
    data = orjson.loads(file.read_bytes())
    if isinstance(data, dict):
        # {"data": [...]} or {split: [...]} wrappers, as some hubs ship them.
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            data = lists[0]
    if not isinstance(data, list):
        raise DatasetError(f"cannot read {file}: expected a list of records")
    return data


def _read_csv(file: Path, delimiter: str = ",") -> list[dict[str, Any]]:
    text = file.read_bytes().decode("utf-8-sig")
    return [dict(row) for row in csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _read_parquet(file: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError(f"reading {file} needs pyarrow: pip install pyarrow") from None
    return pq.read_table(file).to_pylist()
