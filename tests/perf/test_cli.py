"""`python -m assay perf` as users run it: exit codes, one-line errors, YAML config, sweeps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import Script

pytestmark = pytest.mark.timeout(90)


def assay(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENAI_API_KEY": "", "ASSAY_API_KEY": "", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "assay", "perf", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_sweep_from_flags_prints_tables_and_writes_files(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=4))
    proc = assay("--url", server.base_url + "/chat/completions", "--model", "m", "--parallel", "1", "2",
                 "--number", "4", "8", "--dataset", "line_by_line", "--dataset-path", str(prompts_file),
                 "--max-tokens", "16", "--slo", "ttft_ms=500", "tpot_ms=50", "--no-charts", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for text in ("Benchmarking summary", "Percentile results", "Sweep comparison", "Goodput"):
        assert text in proc.stdout
    (run_dir,) = (tmp_path / "outputs" / "perf").iterdir()
    assert {p.name for p in run_dir.iterdir()} >= {"parallel_1_number_4", "parallel_2_number_8", "sweep.json",
                                                   "config.yaml"}


def test_yaml_config_with_flag_override(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=2))
    cfg = tmp_path / "perf.yaml"
    cfg.write_text(f"url: {server.base_url}\nmodel: m\nparallel: 2\nnumber: 6\ndataset: line_by_line\n"
                   f"dataset-path: {prompts_file}\ncharts: false\nname: from-yaml\n")
    proc = assay("--config", str(cfg), "--number", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (tmp_path / "outputs" / "perf").iterdir()
    assert run_dir.name.endswith("_from-yaml")
    summary = json.loads((run_dir / "parallel_2_number_3" / "summary.json").read_text())
    assert summary["total_requests"] == 3


@pytest.mark.parametrize("args, message", [
    (["--url", "http://127.0.0.1:1/v1", "--model", "m", "--prompt", "hi"], "cannot reach"),
    (["--url", "localhost:8000", "--model", "m"], "bad URL"),
    (["--url", "http://127.0.0.1:1/v1", "--model", "m", "--parallel", "0"], "--parallel"),
    (["--url", "http://127.0.0.1:1/v1", "--model", "m", "--parallel", "1", "2", "--number", "1", "2", "3"],
     "same length"),
    (["--url", "http://127.0.0.1:1/v1", "--model", "m", "--slo", "ttft=fast"], "--slo"),
    (["--url", "http://127.0.0.1:1/v1"], "--model"),
    (["--url", "http://127.0.0.1:1/v1", "--model", "m", "--dataset", "line_by_line", "--dataset-path", "/nope"],
     "not found"),
    (["--url", "http://127.0.0.1:1/v1", "--model", "m", "--dataset", "random"], "--tokenizer-path"),
    (["--config", "/nope.yaml"], "config file not found"),
    (["--parallel", "2"], "--url and --model are required (or --sim"),
    (["--sim", "--url", "http://127.0.0.1:1/v1"], "--sim starts its own server"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    proc = assay(*args, "--connect-timeout", "2", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_sim_runs_the_whole_job_with_no_server_and_no_data(tmp_path):
    """`assay perf --sim`: the built-in simulator and prompts, one command, nothing else needed."""
    proc = assay("--sim", "--parallel", "1", "4", "--number", "4", "8", "--max-tokens", "16", "--no-charts",
                 cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "simulated server (assay sim)" in proc.stdout and "Sweep comparison" in proc.stdout
    (run_dir,) = (tmp_path / "outputs" / "perf").iterdir()
    assert run_dir.name.endswith("_assay-sim")
    summary = json.loads((run_dir / "parallel_4_number_8" / "summary.json").read_text())
    assert summary["succeeded_requests"] == 8 and summary["failed_requests"] == 0


def test_empty_dataset_file(tmp_path, scripted):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    proc = assay("--url", scripted().base_url, "--model", "m", "--dataset", "line_by_line", "--dataset-path",
                 str(empty), cwd=tmp_path)
    assert proc.returncode == 2 and "no prompts in" in proc.stderr


def test_ctrl_c_exits_130_after_writing_the_summary(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=2, ttft_s=0.01))
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay", "perf", "--url", server.base_url, "--model", "m", "--parallel", "2",
         "--number", "100000", "--dataset", "line_by_line", "--dataset-path", str(prompts_file), "--no-charts"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 30
    while server.count < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Benchmarking summary" in out
    (summary_file,) = (tmp_path / "outputs" / "perf").glob("*/*/summary.json")
    summary = json.loads(summary_file.read_text())
    assert summary["interrupted"] and summary["total_requests"] > 0


def test_sigterm_stops_like_ctrl_c_against_assay_sim(tmp_path, prompts_file):
    """``kill PID`` (SIGTERM) as a scheduler or ``docker stop`` sends it: the summary of what ran, exit 130."""
    from assay.sim import SimConfig, SimProcess

    with SimProcess(SimConfig(latency_model="fixed", ttft_ms=5, itl_ms=1, output_len="4")) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assay", "perf", "--url", server.base_url, "--model", "m", "--parallel", "2",
             "--number", "100000", "--max-tokens", "4", "--dataset", "line_by_line", "--dataset-path",
             str(prompts_file), "--no-charts"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "COLUMNS": "200"})
        deadline = time.monotonic() + 60
        records = None
        while records is None and time.monotonic() < deadline and proc.poll() is None:
            records = next(iter((tmp_path / "outputs" / "perf").glob("*/*/records.sqlite")), None)
            time.sleep(0.1)
        time.sleep(1.5)  # a batch of records written
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert records is not None, err
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err and "Benchmarking summary" in out
    summary = json.loads((records.parent / "summary.json").read_text())
    assert summary["interrupted"] and 0 < summary["total_requests"] < 100000
    assert summary["succeeded_requests"] == summary["total_requests"]
