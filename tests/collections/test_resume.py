"""A collection evaluation killed with -9 resumes where it stopped and reports what an uninterrupted run does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson
import pytest

from assay.collections import WeightedSampler, load_collection_report
from assay.eval import TaskConfig, run_task
from assay.utils.io import dump_jsonl_data

from .conftest import fixture_schema, sim_args, write_replay

pytestmark = pytest.mark.timeout(90)
sim = pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")


def _ids(predictions) -> list[str]:
    return [orjson.loads(line)["sample"]["id"] for line in predictions.read_bytes().splitlines() if line.strip()]


def test_kill_9_then_resume(tmp_path):
    items = WeightedSampler(fixture_schema(), dataset_hub="local").sample(10**8)
    collection = dump_jsonl_data(items, tmp_path / "set.jsonl")
    replay = write_replay(tmp_path / "replay.jsonl", items, lambda item: item.index % 3 != 0)
    args = {"data_collection": {"dataset_id": str(collection), "filters": {"remove_until": "</think>"}}}
    model_args = {**sim_args(replay), "ttft_ms": 300}  # slow, one at a time: the kill lands mid-run
    work = tmp_path / "out"
    command = [sys.executable, "-m", "assay", "eval", "--eval-type", "sim", "--model", "m",
               "--model-args", orjson.dumps(model_args).decode(), "--datasets", "data_collection",
               "--dataset-args", orjson.dumps(args).decode(), "--eval-batch-size", "1", "--work-dir", str(work)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    predictions = None
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline:
            found = list(work.glob("*/predictions/data_collection.jsonl"))
            if found and len(_ids(found[0])) >= 3:
                predictions = found[0]
                break
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert predictions is not None, "the run never wrote three samples"
    run_dir = predictions.parent.parent
    before = _ids(predictions)
    assert 3 <= len(before) < len(items)
    assert not (run_dir / "reports" / "collection.json").exists()
    with predictions.open("ab") as handle:  # killed in the middle of writing a line
        handle.write(b'{"sample": {"id": "torn')

    resumed = run_task(TaskConfig(eval_type="sim", model="m", model_args=model_args, datasets=["data_collection"],
                                  dataset_args=args, use_cache=str(run_dir)), show=False)
    after = _ids(predictions)
    assert after[: len(before)] == before
    assert sorted(set(after)) == sorted(str(item.index) for item in items)
    # A finished sample is never asked again: a later line for it (a re-grade) carries the same completions.
    first: dict[str, list] = {}
    for line in predictions.read_bytes().splitlines():
        record = orjson.loads(line)
        completions = first.setdefault(record["sample"]["id"], record["completions"])
        assert record["completions"] == completions, f"sample {record['sample']['id']} was asked twice"

    fresh = run_task(TaskConfig(eval_type="sim", model="m", model_args=model_args, datasets=["data_collection"],
                                dataset_args=args, work_dir=str(tmp_path / "fresh")), show=False)
    assert load_collection_report(resumed.run_dir) == load_collection_report(fresh.run_dir)
    assert load_collection_report(fresh.run_dir).average_score == pytest.approx(
        sum(1 for item in items if item.index % 3 != 0) / len(items))
