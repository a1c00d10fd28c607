"""SIGTERM (kill, docker stop, a scheduler's time limit) stops ``assay eval`` as Ctrl-C does: the finished samples
are kept, the manifest says interrupted, the exit code is 130, and --use-cache finishes the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from .conftest import counting_gsm8k, wait_for_predictions

pytestmark = pytest.mark.timeout(120)
sim = pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_keeps_finished_samples_and_marks_the_run_interrupted(tmp_path, signum):
    args = counting_gsm8k(tmp_path / "gsm8k")
    work = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with sim.SimProcess(sim.SimConfig(latency_model="fixed", ttft_ms=250, itl_ms=0, output_len="4")) as server:
        command = [sys.executable, "-m", "assay", "eval", "--api-url", server.base_url, "--model", "m",
                   "--datasets", "gsm8k", "--dataset-args", orjson.dumps(args).decode(), "--eval-batch-size", "1",
                   "--work-dir", str(work)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        predictions = wait_for_predictions(work, process, 2)
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
        assert predictions is not None, f"the run never wrote two samples: {err}"
        assert process.returncode == 130, err
        assert "Traceback" not in err and "interrupted" in err
        run_dir = predictions.parent.parent
        manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
        assert manifest["status"] == "interrupted"
        kept = _lines(predictions)  # every line whole: nothing torn by the stop
        assert 2 <= len(kept) < 12

        resumed = subprocess.run([*command[:-2], "--eval-batch-size", "4", "--use-cache", str(run_dir)],
                                 capture_output=True, text=True, env=env, timeout=90)
    assert resumed.returncode == 0, resumed.stderr
    after = _lines(predictions)
    assert after[: len(kept)] == kept and len({line["sample"]["id"] for line in after}) == len(after) == 12
    assert orjson.loads((run_dir / "manifest.json").read_bytes())["status"] == "finished"
