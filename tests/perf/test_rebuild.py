"""``assay perf rebuild RUN_DIR``: a perf run's summaries written again from its records.sqlite, the same files a
finished run writes; a run killed with -9 (inline, or with worker processes) gets its summaries this way, and the
viewer lists it, marked incomplete, until then."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay.app.perf_think import list_perf_runs, perf_run_label, read_perf_run
from assay.app.readers import Outputs
from assay.perf.records import count_requests
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(150)

RESULT_FILES = ("summary.json", "percentiles.json")


def _perf(*args: str, cwd: Path, **popen: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "assay", "perf", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"}, **popen)


def _rebuild(run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assay", "perf", "rebuild", str(run_dir)], capture_output=True,
                          text=True, timeout=90, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture
def sim_url():
    with SimProcess(SimConfig(latency_model="fixed", ttft_ms=5, itl_ms=1, output_len="4")) as server:
        yield server.base_url


def test_rebuilt_files_equal_the_ones_a_finished_run_wrote(tmp_path, sim_url, prompts_file):
    proc = _perf("--url", sim_url, "--model", "m", "--parallel", "1", "2", "--number", "6", "8", "--max-tokens", "4",
                 "--dataset", "line_by_line", "--dataset-path", str(prompts_file), "--slo", "ttft_ms=500", cwd=tmp_path)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    (run_dir,) = (tmp_path / "outputs" / "perf").iterdir()
    written = {p.relative_to(run_dir): p.read_bytes() for p in run_dir.rglob("*.json")}
    assert {p.name for p in written} == {"sweep.json", *RESULT_FILES}
    charts = sorted(p.relative_to(run_dir) for p in run_dir.rglob("*.png"))
    # per plan a latency distribution and the server's metrics (the sim serves /metrics), and the sweep's
    names = ["latency_distribution.png"] * 2 + ["server_metrics.png"] * 2 + ["sweep.png"]
    assert sorted(p.name for p in charts) == names
    for path in [*written, *charts]:
        (run_dir / path).unlink()

    done = _rebuild(run_dir)
    assert done.returncode == 0, done.stderr
    assert "Sweep comparison" in done.stdout and "every plan had finished" in done.stderr
    assert {p.relative_to(run_dir): p.read_bytes() for p in run_dir.rglob("*.json")} == written
    assert sorted(p.relative_to(run_dir) for p in run_dir.rglob("*.png")) == charts
    assert not json.loads((run_dir / "sweep.json").read_text())[0]["interrupted"]


@pytest.mark.parametrize("workers", [1, 2], ids=["inline", "worker-processes"])
def test_a_run_killed_with_9_is_listed_incomplete_then_rebuilt(tmp_path, sim_url, prompts_file, workers):
    proc = _perf("--url", sim_url, "--model", "m", "--parallel", "2", "--number", "100000", "--max-tokens", "4",
                 "--dataset", "line_by_line", "--dataset-path", str(prompts_file), "--num-workers", str(workers),
                 cwd=tmp_path, start_new_session=True)
    records = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        records = [p for p in (tmp_path / "outputs" / "perf").glob("*/*/records*.sqlite") if count_requests(p) >= 20]
        if records:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group, as an OOM killer or a lost machine would
    proc.communicate(timeout=30)
    assert records, "the run never recorded 20 requests"
    plan_dir = records[0].parent
    run_dir = plan_dir.parent
    assert not (plan_dir / "summary.json").exists()

    outputs = Outputs(tmp_path / "outputs")
    run_id = run_dir.relative_to(outputs.root).as_posix()
    assert list_perf_runs(outputs) == [run_id]
    listed = read_perf_run(outputs, run_id)
    assert listed.incomplete and listed.unsummarised == (plan_dir.name,) and listed.plans == []
    assert "incomplete" in perf_run_label(outputs, run_id)

    done = _rebuild(run_dir)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "cut short" in done.stderr and "Benchmarking summary" in done.stdout
    summary = json.loads((plan_dir / "summary.json").read_text())
    assert summary["interrupted"] and summary["workers"] == workers and summary["parallel"] == 2
    assert summary["total_requests"] == count_requests(plan_dir / "records.sqlite") >= 20
    assert (plan_dir / "percentiles.json").is_file() and (plan_dir / "latency_distribution.png").is_file()
    rebuilt = read_perf_run(outputs, run_id)
    assert not rebuilt.incomplete and [p.plan for p in rebuilt.plans] == [plan_dir.name]
    assert perf_run_label(outputs, run_id) == run_id


def test_rebuild_of_a_folder_without_records_is_one_line_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    done = _rebuild(tmp_path / "empty")
    assert done.returncode == 2 and done.stderr.startswith("error:") and len(done.stderr.strip().splitlines()) == 1


def _alive_in_group(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_stop_when_only_their_parent_is_killed_with_9(tmp_path, sim_url, prompts_file):
    proc = _perf("--url", sim_url, "--model", "m", "--parallel", "2", "--number", "100000", "--max-tokens", "4",
                 "--dataset", "line_by_line", "--dataset-path", str(prompts_file), "--num-workers", "2",
                 cwd=tmp_path, start_new_session=True)
    parts = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        found = (tmp_path / "outputs" / "perf").glob("*/*/records.worker*.sqlite")
        parts = [p for p in found if count_requests(p) >= 10]
        if len(parts) == 2:
            break
        time.sleep(0.2)
    assert len(parts) == 2, "the workers never recorded 10 requests each"
    os.kill(proc.pid, signal.SIGKILL)  # the parent alone: its workers are left without anyone to stop them
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _alive_in_group(proc.pid):
        time.sleep(0.2)
    stopped = not _alive_in_group(proc.pid)
    if not stopped:
        os.killpg(proc.pid, signal.SIGKILL)
    assert stopped, "load-generator workers kept running after their parent was killed"
    counts = [count_requests(p) for p in parts]
    time.sleep(1)
    assert [count_requests(p) for p in parts] == counts  # nothing sent (nor recorded) any more
    done = _rebuild(parts[0].parent.parent)
    assert done.returncode == 0, done.stderr
    summary = json.loads((parts[0].parent / "summary.json").read_text())
    assert summary["interrupted"] and summary["total_requests"] == sum(counts)
