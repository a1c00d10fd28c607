"""beyond_aime: the hub schema (problem, integer answer, no id column), the AIME prompt, integer grading, and gold
100% / wrong 0% end to end against the simulator."""

from __future__ import annotations

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark

from .conftest import FIXTURES, check_golden, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "beyond_aime")}


def test_golden_prompt():
    check_golden("beyond_aime")


def test_rows_become_integer_targets_numbered_by_row():
    samples = load_samples("beyond_aime", **ARGS)
    assert [(s.id, s.target, s.subset) for s in samples] == [("0", "579", "default"), ("1", "297", "default")]
    assert "n^2 + n + 1" in samples[0].metadata["question"]
    assert (samples[0].messages or [])[-1].text().endswith("put your final answer within \\boxed{}.")


@pytest.mark.parametrize("answer,acc", [
    ("so the count is $\\boxed{579}$", 1.0),
    ("$\\boxed{0579}$", 1.0),                   # a leading zero is the same integer
    ("$\\boxed{579.0}$", 1.0),
    ("$\\boxed{578}$", 0.0),
    ("$\\boxed{5790}$", 0.0),
    ("I could not finish.", 0.0),
])
def test_integer_answers(answer, acc):
    bench = get_benchmark("beyond_aime")()
    sample = load_samples("beyond_aime", **ARGS)[0]
    assert bench.score(sample, answer).values["acc"] == acc


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    samples = load_samples("beyond_aime", **ARGS)
    responses = [(gold_answer if kind == "gold" else wrong_answer)(s, "math") for s in samples]
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["beyond_aime"], dataset_args={"beyond_aime": ARGS}, work_dir=str(tmp_path / "out"))
    report = run_task(task, show=False).reports["beyond_aime"]
    assert report.score == expected and report.num == 2 and report.failed_samples == 0
