"""Bad input to `assay eval` and `assay perf` (a dataset in another schema, a malformed URL): one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.timeout(120)


def _assay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "assay", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=100)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(("benchmark", "row", "missing"), [
    ("gsm8k", {"q": "What is 1+1?", "answer": "#### 2"}, ["'question'"]),
    ("aime24", {"problem": "Find x."}, ["'answer'"]),
    ("gpqa_diamond", {"Question": "Which?"}, ["'Correct Answer'", "'Incorrect Answer 1'", "'Incorrect Answer 3'"]),
])
def test_a_local_file_lacking_a_column_is_one_line_naming_it(tmp_path: Path, benchmark: str, row: dict, missing):
    data = tmp_path / "copy.jsonl"
    data.write_bytes(orjson.dumps(row) + b"\n")
    result = _assay("eval", "--eval-type", "sim", "--model", "m", "--datasets", benchmark,
                    "--dataset-args", orjson.dumps({benchmark: {"dataset_id": str(data)}}).decode(),
                    "--work-dir", str(tmp_path / "out"), cwd=tmp_path)
    line = _one_line_error(result)
    assert benchmark in line and str(data) in line
    for column in missing:
        assert column in line
    assert "columns found: " + ", ".join(row) in line


BAD_URLS = [
    ("127.0.0.1:8000/v1", "expected http(s)://"),
    ("http://127.0.0.1:99999/v1", "port"),
    ("ftp://127.0.0.1/v1", "expected http(s)://"),
    ("http://127.0.0.1:0/v1", "port"),
]


@pytest.mark.parametrize(("url", "why"), BAD_URLS)
def test_a_bad_api_url_is_one_line_for_eval(tmp_path: Path, url: str, why: str):
    result = _assay("eval", "--model", "m", "--api-url", url, "--datasets", "gsm8k", "--work-dir",
                    str(tmp_path / "out"), cwd=tmp_path)
    line = _one_line_error(result)
    assert "--api-url" in line and why in line


@pytest.mark.parametrize(("url", "why"), BAD_URLS)
def test_a_bad_url_is_one_line_for_perf(tmp_path: Path, url: str, why: str):
    result = _assay("perf", "--model", "m", "--url", url, "-n", "1", "--outputs-dir", str(tmp_path / "out"),
                    cwd=tmp_path)
    line = _one_line_error(result)
    assert "--url" in line and why in line


def test_a_bad_judge_url_is_one_line_before_any_request(tmp_path: Path):
    result = _assay("eval", "--eval-type", "sim", "--model", "m", "--datasets", "gsm8k", "--judge-strategy", "llm",
                    "--judge-model-args", '{"model_id": "j", "api_url": "localhost:9"}', "--work-dir",
                    str(tmp_path / "out"), cwd=tmp_path)
    line = _one_line_error(result)
    assert "judge_model_args.api_url" in line and "expected http(s)://" in line
