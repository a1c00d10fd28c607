"""Request traces recorded from real traffic, replayed by ``assay perf --trace FILE``.

Synthetic arrivals (Poisson, gamma) miss what production traffic does: bursts, lulls, long prompts
arriving together, and prompts sharing long prefixes (system prompts, multi-turn histories). Two public
trace formats carry those shapes:

- **Mooncake** (Qin et al., "Mooncake: A KVCache-centric Disaggregated Architecture for LLM Serving",
  FAST 2025; github.com/kvcache-ai/Mooncake): JSONL, one request a line, ``timestamp`` in milliseconds,
  ``input_length`` and ``output_length`` in tokens, and ``hash_ids``: one id per 512-token block of the
  prompt, equal ids in two requests meaning the same block (so a shared prefix shows as shared leading ids).
- **BurstGPT** (Wang et al., "BurstGPT: A Real-world Workload Dataset to Optimize LLM Serving Systems",
  KDD 2025; github.com/HPMLL/BurstGPT): CSV with ``Timestamp`` in seconds, ``Model``, ``Request tokens``,
  ``Response tokens``, ``Total tokens``, ``Log Type``; no prefix information. Rows with 0 response tokens
  are requests that failed in the original service; they are left out (there is no answer length to ask for).

Parsing is pure and eager (a day of BurstGPT is a few hundred thousand small rows); a bad file fails with
one line naming the file and the line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import orjson

from assay.errors import DatasetError

TraceFormat = Literal["mooncake", "burstgpt"]
# Mooncake's block size: each hash id stands for this many prompt tokens.
BLOCK_TOKENS = 512
BURSTGPT_COLUMNS = ("Timestamp", "Request tokens", "Response tokens")


@dataclass(frozen=True, slots=True)
class TraceRequest:
    """One recorded request: when it arrived (seconds, as the trace says), its lengths, its prefix blocks."""

    timestamp_s: float
    input_tokens: int
    output_tokens: int
    hash_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Trace:
    """The requests of a trace, in arrival order, from the first one kept (``start_s`` and ``limit`` applied)."""

    path: Path
    format: TraceFormat
    requests: tuple[TraceRequest, ...]

    def __len__(self) -> int:
        return len(self.requests)

    def arrival_offsets_s(self, speed: float = 1.0) -> np.ndarray:
        """When each request is due, in seconds from the plan's start: its timestamp minus the first one's,
        divided by ``speed`` (2.0 replays twice as fast)."""
        if not self.requests:
            return np.zeros(0)
        stamps = np.fromiter((r.timestamp_s for r in self.requests), dtype=np.float64, count=len(self.requests))
        return (stamps - stamps[0]) / speed


def detect_format(path: Path) -> TraceFormat:
    """``mooncake`` or ``burstgpt``, by extension (.jsonl/.json, .csv), else by the first non-blank line."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return "mooncake"
    if suffix == ".csv":
        return "burstgpt"
    first = _first_line(path)
    if first.startswith("{"):
        return "mooncake"
    if "Timestamp" in first and "Request tokens" in first:
        return "burstgpt"
    raise DatasetError(f"{path}: not a request trace (expected Mooncake JSONL or BurstGPT CSV)")


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as file:
            for line in file:
                if line.strip():
                    return line.strip()
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text (expected Mooncake JSONL or BurstGPT CSV)") from None
    return ""


def read_trace(path: str | Path, *, limit: int | None = None, start_s: float = 0.0) -> Trace:
    """Read a Mooncake or BurstGPT trace; keep the requests from ``start_s`` seconds after its first one,
    at most ``limit`` of them. Requests are sorted by timestamp (stable), as a replay sends them.

    The prompt set and the load plan both need the trace: the last read is kept (keyed by the file's size
    and modification time), so a long trace is parsed once per process."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetError(f"trace file not found: {path}")
    stat = path.stat()
    return _read_trace(path.resolve(), stat.st_size, stat.st_mtime_ns, limit, start_s)


@lru_cache(maxsize=1)
def _read_trace(path: Path, _size: int, _mtime_ns: int, limit: int | None, start_s: float) -> Trace:
    kind = detect_format(path)
    try:
        requests = _read_mooncake(path) if kind == "mooncake" else _read_burstgpt(path)
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text (expected a {kind} trace)") from None
    if not requests:
        raise DatasetError(f"{path}: the {kind} trace has no requests")
    requests.sort(key=lambda r: r.timestamp_s)
    first = requests[0].timestamp_s
    kept = [r for r in requests if r.timestamp_s - first >= start_s]
    if limit is not None:
        kept = kept[:limit]
    if not kept:
        raise DatasetError(f"{path}: no request {start_s:g} s or more after the trace's first (--trace-start)")
    return Trace(path, kind, tuple(kept))


def _read_mooncake(path: Path) -> list[TraceRequest]:
    out = []
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise DatasetError(f"{where}: not a JSON object (a Mooncake trace has one request a line)") from None
            if not isinstance(item, dict):
                raise DatasetError(f"{where}: expected a JSON object with timestamp, input_length, output_length")
            stamp_ms = _number(item.get("timestamp"), where, "timestamp")
            hash_ids = item.get("hash_ids", [])
            if not isinstance(hash_ids, list) or not all(isinstance(h, int) and not isinstance(h, bool)
                                                          for h in hash_ids):
                raise DatasetError(f"{where}: hash_ids must be a list of integers")
            out.append(TraceRequest(
                timestamp_s=stamp_ms / 1000.0,
                input_tokens=_count(item.get("input_length"), where, "input_length", low=1),
                output_tokens=_count(item.get("output_length"), where, "output_length", low=1),
                hash_ids=tuple(hash_ids)))
    return out


def _read_burstgpt(path: Path) -> list[TraceRequest]:
    out = []
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [c for c in BURSTGPT_COLUMNS if c not in header]
        if missing:
            raise DatasetError(f"{path}: a BurstGPT trace needs the columns {', '.join(BURSTGPT_COLUMNS)} "
                               f"(missing {', '.join(missing)})")
        reader.fieldnames = header
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                raise DatasetError(f"{where}: more fields than the header has")
            if not any((v or "").strip() for v in row.values()):
                continue
            output = _count(row["Response tokens"], where, "Response tokens", low=0)
            if output == 0:  # failed in the original service: nothing to ask for
                continue
            out.append(TraceRequest(
                timestamp_s=_number(row["Timestamp"], where, "Timestamp"),
                input_tokens=max(1, _count(row["Request tokens"], where, "Request tokens", low=0)),
                output_tokens=output))
    return out


def _number(value: object, where: str, name: str) -> float:
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: {name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        raise DatasetError(f"{where}: {name} must be a number >= 0, got {value!r}")
    return number


def _count(value: object, where: str, name: str, *, low: int) -> int:
    number = _number(value, where, name)
    if not number.is_integer() or number < low:
        raise DatasetError(f"{where}: {name} must be a whole number >= {low}, got {value!r}")
    return int(number)
