"""records.sqlite: rows written in batches as requests finish, read back column by column."""

from __future__ import annotations

import numpy as np
import pytest

from assay.perf.metrics import RequestMetrics
from assay.perf.records import RecordWriter, RequestRecord, iter_rows, merge_records, read_columns, read_health

pytestmark = pytest.mark.timeout(60)


def record(i: int, ok: bool = True, worker: int = 0) -> RequestRecord:
    metrics = RequestMetrics(
        ok=ok, ttft_s=0.05 if ok else None, first_content_s=0.05 if ok else None, latency_s=0.2,
        tpot_s=0.01 if ok else None, input_tokens=10, input_token_source="server",
        output_tokens=16 if ok else None, output_token_source="server" if ok else "none", reasoning_tokens=None,
        itl_s=np.full(15, 0.01) if ok else np.empty(0))
    return RequestRecord(worker=worker, request_index=i, prompt_index=i % 3, turn=0, scheduled_s=i * 0.1,
                         start_s=i * 0.1 + 0.001, done_s=i * 0.1 + 0.201, metrics=metrics,
                         error_kind=None if ok else "http_status", error_status=None if ok else 503,
                         error_message=None if ok else "HTTP 503")


def test_roundtrip_and_batches(tmp_path):
    path = tmp_path / "records.sqlite"
    with RecordWriter(path, batch_size=7) as writer:
        for i in range(50):
            writer.add(record(i, ok=i % 10 != 0))
        writer.add_health(0, 0.1, 0.002, 0.5)
    columns, itl = read_columns(path, chunk_rows=8)
    assert columns.total == 50 and int(columns.ok.sum()) == 45
    assert columns.error_kinds == {"http_status 503": 5}
    assert np.isnan(columns.ttft_s[0]) and columns.ttft_s[1] == pytest.approx(0.05)
    assert columns.send_lag_s == pytest.approx(np.full(50, 0.001))
    assert itl.count == 45 * 15 and itl.mean() == pytest.approx(0.01)
    assert columns.output_token_sources == {"server": 45}
    rows = list(iter_rows(path))
    assert rows[3]["prompt_index"] == 0 and len(rows[3]["itl_s"]) == 15
    assert read_health(path).tolist() == [[0.1, 0.002, 0.5]]


def test_pooled_itl_keeps_every_gap_of_every_request(tmp_path):
    # read_columns joins a chunk's blobs into one array: no gap may be lost, doubled or moved.
    path = tmp_path / "records.sqlite"
    gaps = []
    with RecordWriter(path, batch_size=4) as writer:
        for i in range(20):
            rec = record(i, ok=i % 7 != 3)
            if rec.metrics.ok:
                rec.metrics.itl_s = np.arange(1, i + 2) * 0.001 + i
                gaps.append(rec.metrics.itl_s.astype(np.float32))
            writer.add(rec)
    _, itl = read_columns(path, chunk_rows=6)
    expected = np.concatenate(gaps).astype(np.float64)
    assert itl.count == expected.size and itl.mean() == pytest.approx(expected.mean())
    assert itl.percentiles() == pytest.approx({f"p{p}": v for p, v in zip(
        (10, 25, 50, 66, 75, 80, 90, 95, 98, 99), np.percentile(expected, (10, 25, 50, 66, 75, 80, 90, 95, 98, 99)))})


def test_rows_reach_disk_before_close(tmp_path):
    path = tmp_path / "records.sqlite"
    writer = RecordWriter(path, batch_size=10)
    for i in range(25):
        writer.add(record(i))
    writer._pending.result(5)  # the writer thread finished its batches
    assert len(list(iter_rows(path))) == 20  # a crash now loses at most the unflushed tail
    writer.close()
    assert len(list(iter_rows(path))) == 25


def test_merge_worker_parts(tmp_path):
    parts = []
    for w in range(3):
        part = tmp_path / f"part{w}.sqlite"
        with RecordWriter(part) as writer:
            for i in range(w, 30, 3):
                writer.add(record(i, worker=w))
            writer.add_health(w, 0.1, 0.0, 0.1)
        parts.append(part)
    merge_records(tmp_path / "records.sqlite", parts)
    rows = list(iter_rows(tmp_path / "records.sqlite"))
    assert sorted(r["request_index"] for r in rows) == list(range(30))
    assert {r["worker"] for r in rows} == {0, 1, 2}
    assert read_health(tmp_path / "records.sqlite").shape == (3, 3)


def test_counting_a_file_whose_writer_has_not_made_its_table_yet_gives_0(tmp_path):
    """A viewer or a test polling a run that is still creating records.sqlite met "no such table"."""
    import sqlite3

    from assay.perf.records import count_requests

    path = tmp_path / "records.sqlite"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")  # what the writer does first, before its schema
    assert count_requests(path) == 0
    writer.close()
