"""Resume: a run killed with -9 continues where it stopped and ends with the report of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from assay.errors import ConfigError
from assay.eval import TaskConfig, run_task

from .conftest import FIXTURES, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(90)
sim = pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")
if not hasattr(sim, "SimServer"):
    pytest.skip("assay.sim has no SimServer yet", allow_module_level=True)

ARGS = {"gsm8k": {"dataset_id": str(FIXTURES / "gsm8k")}}


def _mixed_replay(make_replay):
    samples = load_samples("gsm8k", **ARGS["gsm8k"])
    return make_replay(samples, [(gold_answer if i % 2 == 0 else wrong_answer)(s, "math")
                                 for i, s in enumerate(samples)])


def _ids(run_dir: Path) -> list[str]:
    lines = (run_dir / "predictions" / "gsm8k.jsonl").read_bytes().splitlines()
    return [orjson.loads(line)["sample"]["id"] for line in lines]


def test_kill_9_then_resume_asks_only_what_is_missing(tmp_path, make_replay):
    replay = _mixed_replay(make_replay)
    work = tmp_path / "out"
    # Slow answers, one at a time, so the kill lands mid-run.
    model_args = {**sim_args(replay), "ttft_ms": 400}
    command = [sys.executable, "-m", "assay", "eval", "--eval-type", "sim", "--model", "m",
               "--model-args", orjson.dumps(model_args).decode(), "--datasets", "gsm8k",
               "--dataset-args", orjson.dumps(ARGS).decode(), "--eval-batch-size", "1", "--work-dir", str(work)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    deadline = time.monotonic() + 30
    predictions = None
    while time.monotonic() < deadline:
        found = list(work.glob("*/predictions/gsm8k.jsonl"))
        if found and len(found[0].read_bytes().splitlines()) >= 2:
            predictions = found[0]
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert predictions is not None, "the run never wrote two samples"
    run_dir = predictions.parent.parent
    before = _ids(run_dir)
    assert 2 <= len(before) < 4
    with predictions.open("ab") as handle:  # as if killed in the middle of writing a line
        handle.write(b'{"sample": {"id": "torn')

    resumed = run_task(TaskConfig(eval_type="sim", model="m", model_args=model_args, datasets=["gsm8k"],
                                  dataset_args=ARGS, use_cache=str(run_dir)), show=False)
    after = _ids(run_dir)
    assert after[: len(before)] == before and sorted(after) == sorted(set(after)), "a finished sample was re-asked"
    fresh = run_task(TaskConfig(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["gsm8k"],
                                dataset_args=ARGS, work_dir=str(tmp_path / "fresh")), show=False)
    assert resumed.reports["gsm8k"].model_dump(exclude={"model"}) == fresh.reports["gsm8k"].model_dump(
        exclude={"model"})


def test_a_larger_limit_asks_only_the_new_samples(tmp_path, make_replay):
    replay = _mixed_replay(make_replay)
    base = dict(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["gsm8k"], dataset_args=ARGS)
    first = run_task(TaskConfig(**base, limit=2, work_dir=str(tmp_path)), show=False)
    assert first.reports["gsm8k"].num == 2
    second = run_task(TaskConfig(**base, limit=4, use_cache=str(first.run_dir)), show=False)
    assert _ids(first.run_dir) == ["0", "1", "2", "3"]
    assert second.reports["gsm8k"].num == 4 and second.reports["gsm8k"].score == 0.5


def test_resume_refuses_a_changed_generation_config(tmp_path, make_replay):
    replay = _mixed_replay(make_replay)
    base = dict(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["gsm8k"], dataset_args=ARGS)
    first = run_task(TaskConfig(**base, limit=1, work_dir=str(tmp_path)), show=False)
    with pytest.raises(ConfigError, match="generation_config changed.*leave out --use-cache"):
        run_task(TaskConfig(**base, use_cache=str(first.run_dir), generation_config={"temperature": 0.5}),
                 show=False)
    changed_prompt = {"gsm8k": {**ARGS["gsm8k"], "system_prompt": "Be brief."}}
    with pytest.raises(ConfigError, match="gsm8k prompt/version changed"):
        run_task(TaskConfig(**{**base, "dataset_args": changed_prompt}, use_cache=str(first.run_dir)), show=False)
