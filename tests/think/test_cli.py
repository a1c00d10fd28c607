"""`python -m assay think`: the table on the console, the files, and one line with exit 2 on bad input."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from .test_e2e import EXPECTED, two_runs  # noqa: F401 - the module fixture with the two eval runs

pytestmark = pytest.mark.timeout(90)


def _assay(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assay", *args], capture_output=True, text=True, timeout=80)


def test_think_from_the_command_line(two_runs, tmp_path):  # noqa: F811
    fast, slow, tokenizer = two_runs
    out = tmp_path / "think"
    done = _assay("think", "--runs", str(fast), str(slow), "--dataset", "math_500", "--tokenizer-path",
                  str(tokenizer), "--markers", "but wait", "alternatively", "let me reconsider",
                  "--output-dir", str(out))
    assert done.returncode == 0, done.stderr
    assert "Thinking efficiency on math_500" in done.stdout and "slow-thinker" in done.stdout
    rows = orjson.loads((out / "think.json").read_bytes())["rows"]
    assert [round(r["reasoning_tokens"], 2) for r in rows] == [12, 12, 12, 12, 52, 52, 21, 44.25]
    assert (out / "think.png").is_file()


@pytest.mark.parametrize("args,message", [
    (["--runs", "/nonexistent/run", "--dataset", "math_500"], "not an assay eval run folder"),
    (["--dataset", "math_500"], "--runs"),
    (["--runs", "x", "--dataset", "math_500", "--split", "sentences"], "sentences"),
    (["--runs", "x", "--dataset", "math_500", "--judge", "{not json"], "bad JSON in --judge"),
    (["--runs", "x", "--dataset", "math_500", "--split", "llm"], "--judge: required with --split llm"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    done = _assay("think", *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], done.stderr


def test_a_run_without_the_dataset_names_what_it_has(two_runs):  # noqa: F811
    fast, _, _ = two_runs
    done = _assay("think", "--runs", str(fast), "--dataset", "gsm8k")
    assert done.returncode == 2 and "no predictions for gsm8k (this run has: math_500)" in done.stderr
