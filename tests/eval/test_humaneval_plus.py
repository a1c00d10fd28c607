"""humaneval_plus: the hub schema, the golden prompt, EvalPlus's check program in the sandbox (base + plus inputs,
float closeness), and gold 100% / wrong 0% end to end against the simulator."""

from __future__ import annotations

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs

from .conftest import FIXTURES, check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "humaneval_plus")}
# Right on every input of the original HumanEval-style test below, wrong on the plus input 0 (and a crash on -7).
BASE_ONLY_PRIME = ("```python\ndef is_prime(n):\n    if n == 1:\n        return False\n"
                   "    return all(n % k for k in range(2, int(n ** 0.5) + 1))\n```")
ORIGINAL_TEST = "def check(candidate):\n" + "".join(
    f"    assert candidate({n}) is {n in (101, 11, 13441)}\n" for n in (6, 101, 11, 13441, 4, 1, 85))


def _samples(**args):
    return load_samples("humaneval_plus", **{**ARGS, **args})


def _full(sample):
    return f"```python\n{sample.metadata['question']}{sample.target}```"


def test_golden_prompt():
    check_golden("humaneval_plus")


def test_rows_read_the_evalplus_schema():
    samples = _samples()
    assert [s.id for s in samples] == ["Fixture/0", "Fixture/1", "Fixture/2"]
    assert [s.metadata["entry_point"] for s in samples] == ["is_prime", "mean_absolute_deviation", "min_max"]
    assert all("def check(candidate)" in s.metadata["test"] and "import numpy" in s.metadata["test"] for s in samples)
    completion = _samples(extra_params={"style": "completion"})
    assert completion[0].prompt == samples[0].metadata["question"]


def test_canonical_solutions_pass_every_base_and_plus_input():
    bench = get_benchmark("humaneval_plus")()
    for sample in _samples():
        score = bench.score(sample, _full(sample))
        assert score.values == {"pass@1": 1.0, "acc": 1.0}, (sample.id, score.explanation)


def test_a_solution_right_on_the_original_tests_fails_a_plus_input():
    sample = _samples()[0]
    original = sample.model_copy(update={"metadata": {**sample.metadata, "test": ORIGINAL_TEST}})
    assert get_benchmark("humaneval")().score(original, BASE_ONLY_PRIME).values["pass@1"] == 1.0
    score = get_benchmark("humaneval_plus")().score(sample, BASE_ONLY_PRIME)
    assert score.values["pass@1"] == 0.0 and "AssertionError" in (score.explanation or "")


@pytest.mark.parametrize("answer,passed", [
    ("```python\nreturn sum(abs(x - sum(numbers) / len(numbers)) for x in numbers) / len(numbers) + 1e-9\n```", 1.0),
    ("```python\nreturn round(sum(abs(x - sum(numbers) / len(numbers)) for x in numbers) / len(numbers), 2)\n```", 0.0),
])
def test_float_outputs_are_compared_with_evalplus_tolerance(answer, passed):
    sample = _samples()[1]
    assert get_benchmark("humaneval_plus")().score(sample, answer).values["pass@1"] == passed


def test_numpy_in_the_check_runs_under_a_small_process_limit():
    """The check imports numpy in the judge; OpenBLAS would start a thread per core there and, on a machine with
    more cores than the process limit, fail every sample. The sandbox asks for one thread."""
    bench = get_benchmark("humaneval_plus")(DatasetArgs(extra_params={"processes": 2}))
    if not bench.sandbox().isolation.separate_user:
        pytest.skip("the process limit counts only the run's processes under a uid of its own (root)")
    sample = _samples()[1]
    assert bench.score(sample, _full(sample)).values["pass@1"] == 1.0


@pytest.mark.parametrize("style", ["chat", "completion"])
@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, style, kind, expected):
    args = {**ARGS, "extra_params": {"style": style}}
    samples = _samples(extra_params={"style": style})
    if kind == "gold":
        responses = [_full(s) if style == "chat" else s.target for s in samples]
    else:  # right on the original tests only; a body that returns nothing; no code at all
        responses = [BASE_ONLY_PRIME, "    return None\n", "I cannot write this function."]
    task = TaskConfig(eval_type="sim", model="replay", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["humaneval_plus"], dataset_args={"humaneval_plus": args},
                      work_dir=str(tmp_path / "out"), eval_batch_size=3)
    report = run_task(task, show=False).reports["humaneval_plus"]
    assert report.score == expected and report.num == 3 and report.failed_samples == 0
