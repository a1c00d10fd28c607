"""--repeats: each plan run N times in a row, the repeat stored with each record, and each metric's mean and
95% interval over the repeats in the summary; one run (the default) writes the summary it always did."""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pytest

from assay.perf import PerfConfig, run_perf
from assay.perf.finish import PlanSettings, finish_plan, start_plan
from assay.perf.metrics import RequestMetrics
from assay.perf.plans import LoadPlan
from assay.perf.records import (
    SCHEMA_VERSION,
    RecordWriter,
    RequestRecord,
    iter_rows,
    merge_records,
    read_columns,
    read_meta,
    read_repeats,
    write_meta,
)
from assay.perf.summary import REPEAT_METRICS, laid_end_to_end, mean_ci95
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(120)

# records.sqlite as assay wrote it before --repeats (schema 2): no repeat column.
_SCHEMA_2 = """
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    worker INTEGER, request_index INTEGER, prompt_index INTEGER, turn INTEGER,
    scheduled_s REAL, start_s REAL, done_s REAL, send_lag_s REAL,
    ok INTEGER, error_kind TEXT, error_status INTEGER, error_message TEXT,
    ttft_s REAL, first_content_s REAL, latency_s REAL, tpot_s REAL,
    input_tokens INTEGER, input_token_source TEXT, output_tokens INTEGER, output_token_source TEXT,
    reasoning_tokens INTEGER, chunk_count INTEGER, finish_reason TEXT, itl_s BLOB,
    response_id TEXT, tool_calls INTEGER
);
CREATE TABLE health (worker INTEGER, t_s REAL, loop_lag_s REAL, cpu_fraction REAL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES ('schema_version', '2');
"""


def record(i: int, repeat: int = 0, ttft: float = 0.05, start: float | None = None) -> RequestRecord:
    itl = np.full(7, 0.01)
    metrics = RequestMetrics(ok=True, ttft_s=ttft, first_content_s=ttft, latency_s=ttft + itl.sum(), tpot_s=0.01,
                             input_tokens=10, input_token_source="server", output_tokens=8,
                             output_token_source="server", reasoning_tokens=None, itl_s=itl)
    start = i * 0.1 if start is None else start
    return RequestRecord(worker=0, request_index=i, prompt_index=i, turn=0, scheduled_s=start, start_s=start,
                         done_s=start + ttft + itl.sum(), metrics=metrics, repeat=repeat)


def old_records(path, rows: int = 4) -> None:
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA_2)
    for i in range(rows):
        values = record(i).row()[:-2]  # every column but repeat and endpoint
        db.execute(f"INSERT INTO requests VALUES (NULL, {', '.join('?' * len(values))})", values)
    db.commit()
    db.close()


# ---- statistics and records ------------------------------------------------------------------------------


def test_mean_ci95_uses_students_t_over_the_repeats():
    mean, low, high = mean_ci95([1.0, 2.0, 3.0])
    # sd 1, n 3: t(0.975, 2) = 4.303, so the half-width is 4.303 / sqrt(3) = 2.484.
    assert mean == 2.0 and math.isclose(high - mean, 2.484, abs_tol=1e-3) and math.isclose(mean - low, 2.484,
                                                                                           abs_tol=1e-3)
    assert mean_ci95([5.0]) == (5.0, None, None)
    assert mean_ci95([]) == (None, None, None)


def test_records_carry_the_repeat_and_read_back_per_repeat(tmp_path):
    path = tmp_path / "records.sqlite"
    for repeat in range(3):
        with RecordWriter(path) as writer:
            for i in range(4):
                writer.add(record(i, repeat, ttft=0.01 * (repeat + 1)))
    assert read_repeats(path) == [0, 1, 2]
    assert read_meta(path)["schema_version"] == str(SCHEMA_VERSION) == "4"
    assert [r["repeat"] for r in iter_rows(path)] == [0] * 4 + [1] * 4 + [2] * 4
    for repeat in range(3):
        columns, itl = read_columns(path, repeat=repeat)
        assert columns.total == 4 and np.allclose(columns.ttft_s, 0.01 * (repeat + 1)) and itl.count == 28
    assert read_columns(path)[0].total == 12


def test_worker_parts_keep_their_repeat_when_merged(tmp_path):
    target = tmp_path / "records.sqlite"
    for repeat in range(2):
        part = tmp_path / f"part{repeat}.sqlite"
        with RecordWriter(part) as writer:
            writer.add(record(0, repeat))
        merge_records(target, [part])
    assert read_repeats(target) == [0, 1]


def test_records_written_before_repeats_still_read_and_take_new_rows(tmp_path):
    path = tmp_path / "records.sqlite"
    old_records(path)
    assert read_repeats(path) == [0]
    assert read_columns(path, repeat=0)[0].total == 4 and read_columns(path, repeat=1)[0].total == 0
    assert read_columns(path)[0].total == 4
    # Writing to it (a rebuild merging worker parts, meta) brings it up to the new schema, keeping its rows.
    write_meta(path, {"interrupted": "false"})
    with RecordWriter(path) as writer:
        writer.add(record(9, repeat=1))
    assert read_repeats(path) == [0, 1] and read_meta(path)["schema_version"] == str(SCHEMA_VERSION)
    # An old worker part merges as repeat 0.
    part, target = tmp_path / "old_part.sqlite", tmp_path / "merged.sqlite"
    old_records(part, rows=2)
    merge_records(target, [part])
    assert [r["repeat"] for r in iter_rows(target)] == [0, 0]


def test_repeats_are_laid_end_to_end_for_the_pooled_summary(tmp_path):
    path = tmp_path / "records.sqlite"
    with RecordWriter(path) as writer:
        for repeat in range(3):
            for i in range(2):
                writer.add(record(i, repeat, start=5.0 + i))  # each repeat: 5.0 .. 6.12 on its own clock
    parts = [read_columns(path, repeat=r)[0] for r in range(3)]
    pooled = laid_end_to_end(parts)
    assert pooled.total == 6
    assert np.isclose(np.nanmax(pooled.done_s) - np.nanmin(pooled.start_s), 3 * 1.12)
    assert list(np.round(pooled.start_s, 6)) == [0.0, 1.0, 1.12, 2.12, 2.24, 3.24]


def test_a_plan_of_several_repeats_is_summarised_per_repeat_and_pooled(tmp_path):
    plan = LoadPlan(number=4, parallel=1)
    records = tmp_path / plan.name / "records.sqlite"
    settings = PlanSettings(plan)
    records.parent.mkdir()
    start_plan(records, settings)
    with RecordWriter(records) as writer:
        for repeat, ttft in enumerate((0.02, 0.04, 0.06)):
            for i in range(4):
                writer.add(record(i, repeat, ttft=ttft))
    summary = finish_plan(records, settings, interrupted=False, draw_charts=False)
    assert summary.repeats == 3 and summary.total_requests == 12
    stat = summary.repeat_stats["mean_ttft_s"]
    assert np.allclose(stat.values, [0.02, 0.04, 0.06]) and math.isclose(stat.mean, 0.04)
    assert stat.ci95_low < 0.04 < stat.ci95_high
    assert math.isclose(summary.mean_ttft_s, 0.04)  # the pooled field: every request of every repeat
    saved = json.loads((records.parent / "summary.json").read_text())
    assert saved["repeats"] == 3 and saved["repeat_stats"]["p99_ttft_s"]["values"][2] == pytest.approx(0.06)


# ---- end to end against the simulator ---------------------------------------------------------------------


def perf(sim, tmp_path, **kw):
    values = dict(url=sim.base_url + "/chat/completions", model="assay-sim", prompt="Tell me a story.",
                  outputs_dir=str(tmp_path), charts=False, max_tokens=8, parallel=[4], number=[12])
    values.update(kw)
    return run_perf(PerfConfig(**values))


def test_three_repeats_against_the_simulator(tmp_path):
    config = SimConfig(port=0, latency_model="fixed", ttft_ms=20, itl_ms=4, output_len="8", jitter=0.2)
    with SimProcess(config) as sim:
        result = perf(sim, tmp_path / "three", repeats=3, rate=[200.0], slo=["ttft_ms=5000"])
        single = perf(sim, tmp_path / "one")
    (summary,) = result.summaries
    assert summary.repeats == 3 and summary.total_requests == 36 and summary.succeeded_requests == 36
    plan_dir = result.run_dir / summary.plan
    saved = json.loads((plan_dir / "summary.json").read_text())
    assert saved["repeats"] == 3
    for metric in REPEAT_METRICS:
        stat = saved["repeat_stats"][metric.key]
        assert len(stat["values"]) == 3 and all(v is not None for v in stat["values"]), metric.key
        assert stat["ci95_low"] <= stat["mean"] <= stat["ci95_high"], metric.key
        assert math.isclose(stat["mean"], float(np.mean(stat["values"])), rel_tol=1e-9)
    assert 0.019 <= saved["repeat_stats"]["p50_ttft_s"]["mean"] < 0.5  # the simulator's 20 ms, or more on load
    rows = list(iter_rows(plan_dir / "records.sqlite"))
    assert sorted({r["repeat"] for r in rows}) == [0, 1, 2]
    assert all(sum(r["repeat"] == k for r in rows) == 12 for k in range(3))
    # One run (the default) writes the summary it always did: no repeat fields.
    one = json.loads((single.run_dir / single.summaries[0].plan / "summary.json").read_text())
    assert "repeats" not in one and "repeat_stats" not in one and one["total_requests"] == 12


def test_repeats_must_be_at_least_one():
    with pytest.raises(ValueError, match="repeats"):
        PerfConfig(sim=True, repeats=0)


def test_rebuild_keeps_the_repeats(tmp_path):
    from assay.perf.finish import rebuild_run

    plan = LoadPlan(number=3, parallel=1)
    records = tmp_path / "run" / plan.name / "records.sqlite"
    records.parent.mkdir(parents=True)
    start_plan(records, PlanSettings(plan))
    with RecordWriter(records) as writer:
        for repeat in range(2):
            for i in range(3):
                writer.add(record(i, repeat, ttft=0.01 + 0.01 * repeat))
    (summary,), cut_short = rebuild_run(tmp_path / "run")
    assert cut_short  # never marked finished
    assert summary.repeats == 2 and np.allclose(summary.repeat_stats["mean_ttft_s"].values, [0.01, 0.02])


def test_bad_repeats_on_the_command_line_is_one_line_exit_2(capsys):
    from assay.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["perf", "--sim", "--repeats", "0"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("error:") and "repeats" in err and len(err.strip().splitlines()) == 1
