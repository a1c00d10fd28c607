"""A damaged line in predictions/<benchmark>.jsonl (a bad disk, a hand edit, kill -9 mid-write) costs that one
sample: resume asks it again and keeps every other answer, and ``assay report compare`` reads the rest; both
say which file and line they skipped, in one line, and neither prints a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from assay.eval import TaskConfig, run_task

from .conftest import FIXTURES, gold_answer, load_samples, sim_args

pytestmark = pytest.mark.timeout(120)
pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")

ARGS = {"gsm8k": {"dataset_id": str(FIXTURES / "gsm8k")}}


def _assay(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assay", *args], capture_output=True, text=True, timeout=90,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "250"})


def _finished_run(tmp_path: Path, make_replay) -> tuple[Path, dict]:
    samples = load_samples("gsm8k", **ARGS["gsm8k"])
    replay = make_replay(samples, [gold_answer(s, "math") for s in samples])
    base = dict(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["gsm8k"], dataset_args=ARGS)
    run = run_task(TaskConfig(**base, work_dir=str(tmp_path / "out")), show=False)
    assert run.reports["gsm8k"].num == 4
    return run.run_dir, base


def _damage(path: Path) -> list[bytes]:
    """Line 2 garbled in place, and a torn last line; returns the lines as they were."""
    lines = path.read_bytes().splitlines()
    damaged = [lines[0], lines[1][: len(lines[1]) // 2] + b"\x00garbage", *lines[2:]]
    path.write_bytes(b"\n".join(damaged) + b"\n" + lines[3][:30])
    return lines


def _ids(path: Path) -> list[str]:
    ids = []
    for line in path.read_bytes().splitlines():
        try:
            ids.append(orjson.loads(line)["sample"]["id"])
        except orjson.JSONDecodeError:
            ids.append("<damaged>")
    return ids


def test_resume_skips_a_damaged_line_with_one_warning_and_asks_only_that_sample_again(tmp_path, make_replay):
    run_dir, base = _finished_run(tmp_path, make_replay)
    path = run_dir / "predictions" / "gsm8k.jsonl"
    original = _damage(path)
    lost = orjson.loads(original[1])["sample"]["id"]

    done = _assay("eval", "--eval-type", "sim", "--model", "m", "--model-args", orjson.dumps(base["model_args"]).decode(),
                  "--datasets", "gsm8k", "--dataset-args", orjson.dumps(ARGS).decode(), "--use-cache", str(run_dir))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "gsm8k.jsonl line 2" in line]
    assert len(warnings) == 1 and "skipped" in warnings[0], done.stderr

    after = path.read_bytes().splitlines()
    assert after[0] == original[0] and after[2:4] == original[2:4], "an undamaged answer was rewritten"
    assert _ids(path)[4:] == [lost], "only the damaged sample is asked again (the torn line is cut)"
    report = orjson.loads((run_dir / "reports" / "gsm8k.json").read_bytes())
    assert report["num"] == 4 and report["score"] == 1.0
    assert orjson.loads((run_dir / "manifest.json").read_bytes())["status"] == "finished"


def test_report_compare_reads_around_damaged_lines(tmp_path, make_replay):
    run_dir, _ = _finished_run(tmp_path, make_replay)
    _damage(run_dir / "predictions" / "gsm8k.jsonl")
    done = _assay("report", "compare", str(run_dir), str(run_dir))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert any("gsm8k.jsonl line 2" in line for line in done.stderr.splitlines()), done.stderr
    assert "gsm8k" in done.stdout and "within the noise" in done.stdout
    row = next(line for line in done.stdout.splitlines() if "gsm8k" in line)
    assert " 3 " in row, "the three readable samples are paired"


def test_a_damaged_manifest_is_one_line_and_exit_2(tmp_path, make_replay):
    run_dir, base = _finished_run(tmp_path, make_replay)
    (run_dir / "manifest.json").write_bytes(b'{"run_id": "x", "status')
    done = _assay("eval", "--eval-type", "sim", "--model", "m", "--model-args", orjson.dumps(base["model_args"]).decode(),
                  "--datasets", "gsm8k", "--dataset-args", orjson.dumps(ARGS).decode(), "--use-cache", str(run_dir))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error:") and "manifest.json: damaged" in done.stderr
