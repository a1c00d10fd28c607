"""``records.sqlite``: one row per request, written as requests finish, read back column by column.

Rows are buffered and inserted in batches by one background thread (WAL journal, ``synchronous=NORMAL``),
so the event loop never waits on the disk and memory stays flat however many requests a run makes. The
ITL gaps of each request are kept as a float32 blob (seconds) so pooled ITL percentiles can be recomputed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from assay.client.failures import FailureTally
from assay.perf.metrics import PooledDistribution, RequestColumns, RequestMetrics

# 2: response_id and tool_calls; 3: repeat (--repeats; absent: every row is repeat 0); 4: endpoint (several --url;
# absent or NULL: the run's one URL, which the reader is told).
SCHEMA_VERSION = 4

_COLUMNS = (
    "worker", "request_index", "prompt_index", "turn", "scheduled_s", "start_s", "done_s", "send_lag_s",
    "ok", "error_kind", "error_status", "error_message", "ttft_s", "first_content_s", "latency_s", "tpot_s",
    "input_tokens", "input_token_source", "output_tokens", "output_token_source", "reasoning_tokens",
    "chunk_count", "finish_reason", "itl_s", "response_id", "tool_calls", "repeat",
    "endpoint",
)

_CREATE = f"""
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    worker INTEGER, request_index INTEGER, prompt_index INTEGER, turn INTEGER,
    scheduled_s REAL, start_s REAL, done_s REAL, send_lag_s REAL,
    ok INTEGER, error_kind TEXT, error_status INTEGER, error_message TEXT,
    ttft_s REAL, first_content_s REAL, latency_s REAL, tpot_s REAL,
    input_tokens INTEGER, input_token_source TEXT, output_tokens INTEGER, output_token_source TEXT,
    reasoning_tokens INTEGER, chunk_count INTEGER, finish_reason TEXT, itl_s BLOB,
    response_id TEXT, tool_calls INTEGER, repeat INTEGER NOT NULL DEFAULT 0, endpoint TEXT
);
CREATE TABLE IF NOT EXISTS health (worker INTEGER, t_s REAL, loop_lag_s REAL, cpu_fraction REAL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS server_metrics (t_s REAL, quantity TEXT, value REAL);
INSERT OR REPLACE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
"""
_INSERT = f"INSERT INTO requests ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


@dataclass(slots=True)
class RequestRecord:
    """One request as stored: where it sat in the plan, when it went, and what it measured.

    Times are seconds from the plan's start (``time.perf_counter_ns`` based, so comparable across worker
    processes on one machine).
    """

    worker: int
    request_index: int
    prompt_index: int
    turn: int
    scheduled_s: float
    start_s: float
    done_s: float | None
    metrics: RequestMetrics
    error_kind: str | None = None
    error_status: int | None = None
    error_message: str | None = None
    chunk_count: int = 0
    finish_reason: str | None = None
    response_id: str | None = None  # the server's id of the response, to join the server's own traces
    tool_calls: int = 0
    repeat: int = 0  # which run of the plan (--repeats), counted from 0
    endpoint: str | None = None  # the endpoint's base URL, credentials redacted (several --url)

    @property
    def send_lag_s(self) -> float:
        """How late the request went out against its schedule (the load generator's own health)."""
        return self.start_s - self.scheduled_s

    def row(self) -> tuple[Any, ...]:
        m = self.metrics
        return (
            self.worker, self.request_index, self.prompt_index, self.turn, self.scheduled_s, self.start_s,
            self.done_s, self.send_lag_s, int(m.ok), self.error_kind, self.error_status, self.error_message,
            m.ttft_s, m.first_content_s, m.latency_s, m.tpot_s, m.input_tokens, m.input_token_source,
            m.output_tokens, m.output_token_source, m.reasoning_tokens, self.chunk_count, self.finish_reason,
            m.itl_s.astype(np.float32).tobytes() if m.itl_s.size else None, self.response_id, self.tool_calls,
            self.repeat, self.endpoint,
        )


def _has_column(db: sqlite3.Connection, name: str, schema: str = "main") -> bool:
    return any(row[1] == name for row in db.execute(f"PRAGMA {schema}.table_info(requests)"))


def _has_repeat(db: sqlite3.Connection, schema: str = "main") -> bool:
    """Whether ``requests`` has the ``repeat`` column (files older than schema 3 have not)."""
    return _has_column(db, "repeat", schema)


def _prepare(db: sqlite3.Connection) -> None:
    """Make the tables (a new file) or bring an older file's up to this schema, so rows can be written."""
    db.executescript(_CREATE)
    if not _has_repeat(db):
        db.execute("ALTER TABLE requests ADD COLUMN repeat INTEGER NOT NULL DEFAULT 0")
    if not _has_column(db, "endpoint"):
        db.execute("ALTER TABLE requests ADD COLUMN endpoint TEXT")
    db.commit()


def connect(path: str | Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class RecordWriter:
    """Appends records to ``records.sqlite`` in batches from a background thread.

    ``add`` only appends to a list (cheap enough for the event loop's hot path); a batch is handed to the
    writer thread every ``batch_size`` rows or ``flush_interval_s`` seconds, whichever comes first, and
    ``close`` writes the rest and waits.
    """

    def __init__(self, path: str | Path, *, batch_size: int = 256, flush_interval_s: float = 1.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(self.path)
        _prepare(self._db)
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._last_flush = time.monotonic()
        self._rows: list[tuple[Any, ...]] = []
        self._health: list[tuple[Any, ...]] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="assay-records")
        self._pending: Future | None = None
        self._lock = threading.Lock()
        self.written = 0

    def add(self, record: RequestRecord) -> None:
        self._rows.append(record.row())
        if len(self._rows) >= self._batch_size or time.monotonic() - self._last_flush >= self._flush_interval_s:
            self.flush()

    def add_health(self, worker: int, t_s: float, loop_lag_s: float, cpu_fraction: float) -> None:
        self._health.append((worker, t_s, loop_lag_s, cpu_fraction))

    def flush(self) -> None:
        """Hand the buffered rows to the writer thread (returns at once)."""
        if not self._rows and not self._health:
            return
        rows, health = self._rows, self._health
        self._rows, self._health = [], []
        self._last_flush = time.monotonic()
        self._pending = self._pool.submit(self._write, rows, health)

    def _write(self, rows: list[tuple[Any, ...]], health: list[tuple[Any, ...]]) -> None:
        with self._lock:
            if rows:
                self._db.executemany(_INSERT, rows)
            if health:
                self._db.executemany("INSERT INTO health VALUES (?, ?, ?, ?)", health)
            self._db.commit()
            self.written += len(rows)

    def close(self) -> None:
        """Write everything still buffered and close the database."""
        self.flush()
        self._pool.shutdown(wait=True)
        with self._lock:
            self._db.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def merge_records(target: str | Path, parts: list[Path]) -> None:
    """Copy the rows of the workers' ``parts`` into ``target`` (one database per plan)."""
    db = connect(target)
    _prepare(db)
    for i, part in enumerate(parts):
        db.execute(f"ATTACH DATABASE ? AS part{i}", (str(part),))
        # A part written before schema 3 (4) has no repeat (endpoint) column: its rows are repeat 0 (NULL).
        names = tuple(c for c in _COLUMNS if c not in ("repeat", "endpoint") or _has_column(db, c, f"part{i}"))
        cols = ", ".join(names)
        db.execute(f"INSERT INTO requests ({cols}) SELECT {cols} FROM part{i}.requests ORDER BY id")
        db.execute(f"INSERT INTO health SELECT * FROM part{i}.health")
        db.commit()
        db.execute(f"DETACH DATABASE part{i}")
    db.commit()
    db.close()


def write_meta(path: str | Path, items: dict[str, str]) -> None:
    """Set ``meta`` entries (e.g. the plan) of a records file that no writer has open (made when missing)."""
    db = connect(path)
    try:
        _prepare(db)
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(items.items()))
        db.commit()
    finally:
        db.close()


def write_server_metrics(path: str | Path, rows: list[tuple[float, str, float]], view_json: str) -> None:
    """The server's gauges over time (``server_metrics``) and its view of the plan (``meta.server_view``)."""
    db = connect(path)
    try:
        _prepare(db)
        db.executemany("INSERT INTO server_metrics VALUES (?, ?, ?)", rows)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('server_view', ?)", (view_json,))
        db.commit()
    finally:
        db.close()


def read_server_metrics(path: str | Path) -> list[tuple[float, str, float]]:
    """The server's gauges over time, ``(t_s, quantity, value)``; empty for runs without a scrape."""
    db = connect(path)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "server_metrics" not in tables:
            return []
        return [tuple(row) for row in db.execute("SELECT t_s, quantity, value FROM server_metrics ORDER BY rowid")]
    finally:
        db.close()


def read_meta(path: str | Path) -> dict[str, str]:
    db = connect(path)
    try:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())
    finally:
        db.close()


def count_requests(path: str | Path) -> int:
    """How many requests a records file holds (0 for one whose writer has not made its table yet).

    It only reads: opened read-only, without ``connect``'s journal-mode pragma, which takes a write lock and
    failed ("database is locked") when it met the writer of a run still creating the file.
    """
    db = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    try:
        return int(db.execute("SELECT count(*) FROM requests").fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise
    finally:
        db.close()


def read_repeats(path: str | Path) -> list[int]:
    """The repeat indices a records file holds, in order (``[0]`` for one run, an empty or an older file)."""
    db = connect(path)
    try:
        if not _has_repeat(db):
            return [0]
        found = [int(row[0]) for row in db.execute("SELECT DISTINCT repeat FROM requests ORDER BY repeat")]
    finally:
        db.close()
    return found or [0]


def read_endpoints(path: str | Path, default: str | None = None) -> list[str]:
    """The endpoints a records file's requests went to, in order of first use; rows with none recorded (one
    endpoint, or a file older than schema 4) count as ``default`` (the run's URL) when it is given."""
    db = connect(path)
    try:
        if not _has_column(db, "endpoint"):
            return [default] if default is not None and count_requests(path) else []
        found = [row[0] for row in db.execute(
            "SELECT endpoint FROM requests GROUP BY endpoint ORDER BY MIN(id)")]
    finally:
        db.close()
    named = [e if e is not None else default for e in found]
    return list(dict.fromkeys(e for e in named if e is not None))


def read_columns(path: str | Path, *, repeat: int | None = None, endpoint: str | None = None,
                 default_endpoint: str | None = None,
                 chunk_rows: int = 20_000) -> tuple[RequestColumns, PooledDistribution]:
    """The per-request columns and the pooled ITL samples of one plan (of one ``repeat`` of it, else of all;
    of one ``endpoint``, else of all: rows with no endpoint recorded belong to ``default_endpoint``), read in
    chunks (flat memory)."""
    db = connect(path)
    numeric = ("ok", "start_s", "done_s", "send_lag_s", "ttft_s", "latency_s", "tpot_s", "input_tokens",
               "output_tokens")
    parts: dict[str, list[np.ndarray]] = {name: [] for name in numeric}
    errors: Counter[str] = Counter()
    in_sources: Counter[str] = Counter()
    out_sources: Counter[str] = Counter()
    itl = PooledDistribution()
    try:
        conditions: list[str] = []
        args: tuple[Any, ...] = ()
        if repeat is not None:
            # Before schema 3 every row is repeat 0.
            conditions.append("repeat = ?" if _has_repeat(db) else "? = 0")
            args += (repeat,)
        if endpoint is not None:
            column = "endpoint" if _has_column(db, "endpoint") else "NULL"
            conditions.append(f"COALESCE({column}, ?) = ?")
            args += (default_endpoint, endpoint)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        cursor = db.execute(
            f"SELECT {', '.join(numeric)}, error_kind, error_status, input_token_source, output_token_source, "
            f"itl_s FROM requests {where} ORDER BY id", args)
        kind_at, itl_at = len(numeric), len(numeric) + 4
        while True:
            rows = cursor.fetchmany(chunk_rows)
            if not rows:
                break
            block = np.array([r[:kind_at] for r in rows], dtype=np.float64)  # None → nan
            for j, name in enumerate(numeric):
                parts[name].append(block[:, j])
            # The chunk's ITL blobs as one array: adding them row by row cost more than all the summary's maths.
            blobs = [r[itl_at] for r in rows if r[itl_at] is not None]
            if blobs:
                itl.add(np.frombuffer(b"".join(blobs), dtype=np.float32).astype(np.float64))
            for r in rows:
                kind, status = r[kind_at], r[kind_at + 1]
                if kind is not None:
                    errors[f"{kind} {status}" if status is not None else kind] += 1
                if r[0]:
                    in_sources[r[kind_at + 2]] += 1
                    out_sources[r[kind_at + 3]] += 1
    finally:
        db.close()
    arrays = {name: (np.concatenate(p) if p else np.empty(0)) for name, p in parts.items()}
    columns = RequestColumns(
        ok=arrays["ok"], start_s=arrays["start_s"], done_s=arrays["done_s"], send_lag_s=arrays["send_lag_s"],
        ttft_s=arrays["ttft_s"], latency_s=arrays["latency_s"], tpot_s=arrays["tpot_s"],
        input_tokens=arrays["input_tokens"], output_tokens=arrays["output_tokens"], error_kinds=dict(errors),
        input_token_sources=dict(in_sources), output_token_sources=dict(out_sources),
    )
    return columns, itl


def read_itl_gaps(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Every successful request's ITL gaps (seconds) end to end, and how many each request has: what a
    bootstrap that resamples whole requests needs (the gaps of one request are not independent)."""
    db = connect(path)
    parts: list[bytes] = []
    counts: list[int] = []
    try:
        for (blob,) in db.execute("SELECT itl_s FROM requests WHERE ok = 1 AND itl_s IS NOT NULL ORDER BY id"):
            parts.append(blob)
            counts.append(len(blob) // 4)
    finally:
        db.close()
    gaps = np.frombuffer(b"".join(parts), dtype=np.float32).astype(np.float64) if parts else np.empty(0)
    return gaps, np.array(counts, dtype=np.int64)


def read_failures(path: str | Path) -> FailureTally:
    """The plan's requests, and its failures by kind with the first message of each (for the console)."""
    db = connect(path)
    tally = FailureTally()
    try:
        tally.requests = db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        # SQLite takes the bare columns of a MIN() aggregate from the row holding the minimum: the first failure.
        for kind, status, message, count, _ in db.execute(
                "SELECT error_kind, error_status, error_message, COUNT(*), MIN(id) FROM requests "
                "WHERE error_kind IS NOT NULL GROUP BY error_kind, error_status ORDER BY MIN(id)"):
            tally.add(kind, status, message or "", count)
    finally:
        db.close()
    return tally


def read_health(path: str | Path) -> np.ndarray:
    """(t_s, loop_lag_s, cpu_fraction) samples of the load generator, one row each."""
    db = connect(path)
    try:
        rows = db.execute("SELECT t_s, loop_lag_s, cpu_fraction FROM health").fetchall()
    finally:
        db.close()
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def iter_rows(path: str | Path, *, default_endpoint: str | None = None) -> Iterator[dict[str, Any]]:
    """Every stored request as a dict (for tools and tests; the blob decoded to a list of seconds; ``endpoint``
    is ``default_endpoint`` where none is recorded)."""
    db = connect(path)
    db.row_factory = sqlite3.Row
    try:
        for row in db.execute("SELECT * FROM requests ORDER BY id"):
            item = dict(row)
            if item.get("endpoint") is None:
                item["endpoint"] = default_endpoint
            blob = item.pop("itl_s")
            item["itl_s"] = np.frombuffer(blob, dtype=np.float32).tolist() if blob else []
            yield item
    finally:
        db.close()


_NOTABLE = ("request_index", "repeat", "worker", "prompt_index", "turn", "start_s", "ok", "error_kind",
            "error_status", "error_message", "ttft_s", "tpot_s", "latency_s", "input_tokens", "output_tokens",
            "finish_reason", "response_id")


def read_notable_requests(path: str | Path, limit: int = 200, message_chars: int = 500) -> list[dict[str, Any]]:
    """The requests worth a look in a report: the first failed ones (up to half of ``limit``), then the slowest
    successful ones, at most ``limit`` rows and ``message_chars`` of each error message, so a report stays small
    however many requests a plan made."""
    db = connect(path)
    db.row_factory = sqlite3.Row
    try:
        names = [c if c != "repeat" or _has_repeat(db) else "0 AS repeat" for c in _NOTABLE]
        names = [f"substr(error_message, 1, {int(message_chars)}) AS error_message" if c == "error_message" else c
                 for c in names]
        select = f"SELECT {', '.join(names)} FROM requests"
        failed = [dict(r) for r in db.execute(f"{select} WHERE ok = 0 ORDER BY id LIMIT ?", (limit // 2,))]
        slowest = [dict(r) for r in db.execute(f"{select} WHERE ok = 1 ORDER BY latency_s DESC, id LIMIT ?",
                                               (limit - len(failed),))]
    finally:
        db.close()
    return failed + slowest


def read_times(path: str | Path) -> dict[str, np.ndarray]:
    """``ok``, ``ttft_s``, ``tpot_s``, ``latency_s`` and ``done_s`` of every request (no ITL blobs: cheap to
    read for charts)."""
    db = connect(path)
    try:
        rows = db.execute("SELECT ok, ttft_s, tpot_s, latency_s, done_s FROM requests ORDER BY id").fetchall()
    finally:
        db.close()
    block = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return {name: block[:, j] for j, name in enumerate(("ok", "ttft_s", "tpot_s", "latency_s", "done_s"))}
