"""mbpp_plus: the evalplus/mbppplus schema, EvalPlus's prompt, base and plus grades in the sandbox, and gold
100% / wrong 0% end to end against the simulator."""

from __future__ import annotations

import json

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark

from .conftest import FIXTURES, check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "mbpp_plus")}
# Passes the three base asserts (the first and last "l" of "hello" are its only two) but not the plus inputs.
REPLACE_ALL = "def remove_Occ(s, ch):\n    return s.replace(ch, '')"


def fenced(code: str) -> str:
    return f"Below is a Python script:\n```python\n{code}\n```"


@pytest.fixture(scope="module")
def bench():
    return get_benchmark("mbpp_plus")()


@pytest.fixture(scope="module")
def samples():
    return load_samples("mbpp_plus", **ARGS)


def test_golden_prompt():
    check_golden("mbpp_plus")


def test_rows_become_samples(samples):
    assert [(s.id, s.metadata["entry_point"]) for s in samples] == [
        ("2", "similar_elements"), ("11", "remove_Occ"), ("14", "find_Volume")]
    first = samples[0]
    assert first.metadata["question"] == ('"""\nWrite a function to find the shared elements from the given two '
                                          'lists.\nassert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == '
                                          'set((4, 5))\n"""\n')
    text = (first.messages or [])[0].text()
    assert text.startswith("Please provide a self-contained Python script that solves the following problem in a "
                           "markdown code block:\n```\n\"\"\"\n") and text.endswith('"""\n```')
    assert "assertion(similar_elements(*inp), exp, 0)" in first.metadata["program"]


def test_the_reference_passes_both(bench, samples):
    for sample in samples:
        score = bench.score(sample, fenced(sample.target))
        assert score.values == {"pass@1": 1.0, "acc": 1.0, "base_pass@1": 1.0}, (sample.id, score.explanation)


def test_passing_base_but_not_plus_is_right_on_base_and_wrong_on_plus(bench, samples):
    score = bench.score(samples[1], fenced(REPLACE_ALL))
    assert score.values == {"pass@1": 0.0, "acc": 0.0, "base_pass@1": 1.0}
    assert "test program" in score.explanation and "at input 3: ['hellolloll', 'l']" in score.explanation
    floor = bench.score(samples[2], fenced("def find_Volume(l, b, h):\n    return l * b * h // 2"))
    assert floor.values == {"pass@1": 0.0, "acc": 0.0, "base_pass@1": 1.0}  # 2.5 * 1.5 * 3.0 / 2 is no integer


def test_wrong_answers_fail_both(bench, samples):
    wrong = bench.score(samples[1], fenced("def remove_Occ(s, ch):\n    return s"))
    assert wrong.values == {"pass@1": 0.0, "acc": 0.0, "base_pass@1": 0.0}
    assert wrong.explanation.startswith("base tests: ")
    assert bench.score(samples[0], "I do not know.").values["base_pass@1"] == 0.0
    as_list = bench.score(samples[0], fenced("def similar_elements(a, b):\n    return list(set(a) & set(b))"))
    assert as_list.values == {"pass@1": 0.0, "acc": 0.0, "base_pass@1": 1.0}  # base compares sets; plus tuples


def test_float_outputs_compare_within_tolerance(bench, samples):
    close = "def find_Volume(l, b, h):\n    v = l * b * h / 2\n    return int(v) if v == int(v) else v + 1e-9"
    assert bench.score(samples[2], fenced(close)).values["pass@1"] == 1.0
    far = "def find_Volume(l, b, h):\n    v = l * b * h / 2\n    return int(v) if v == int(v) else v + 1e-3"
    assert bench.score(samples[2], fenced(far)).values == {"pass@1": 0.0, "acc": 0.0, "base_pass@1": 1.0}


def test_test_imports_reach_the_tests(bench, tmp_path):
    row = {"task_id": 139, "prompt": "Write a function to find the circumference of a circle.",
           "code": "def circle_circumference(r):\n  return 2*3.1415*r", "source_file": "x",
           "test_imports": ["import math"],
           "test_list": ["assert math.isclose(circle_circumference(10), 62.830000000000005, rel_tol=0.001)"],
           "test": "results = [62.83]\nfor r, exp in zip([10], results):\n"
                   "    assert math.isclose(circle_circumference(r), exp, rel_tol=0.001)\n"}
    (tmp_path / "test.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    sample = load_samples("mbpp_plus", dataset_id=str(tmp_path))[0]
    assert bench.score(sample, fenced(row["code"])).values["pass@1"] == 1.0
    assert bench.score(sample, fenced("def circle_circumference(r):\n  return 3*r")).values["base_pass@1"] == 0.0


def _run(tmp_path, make_replay, samples, responses, **extra):
    task = TaskConfig(eval_type="sim", model="replay", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["mbpp_plus"], dataset_args={"mbpp_plus": ARGS}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4, **extra)
    return run_task(task, show=False).reports["mbpp_plus"]


@pytest.mark.parametrize("kind,plus,base", [("gold", 1.0, 1.0), ("wrong", 0.0, 0.0), ("base_only", 0.0, 1.0)])
def test_end_to_end(tmp_path, make_replay, samples, kind, plus, base):
    if kind == "gold":
        responses = [fenced(s.target) for s in samples]
    elif kind == "wrong":
        responses = [fenced(f"def {s.metadata['entry_point']}(*args):\n    return None") for s in samples]
    else:
        responses = [fenced("def similar_elements(a, b):\n    return list(set(a) & set(b))"), fenced(REPLACE_ALL),
                     fenced("def find_Volume(l, b, h):\n    return l * b * h // 2")]
    report = _run(tmp_path, make_replay, samples, responses)
    assert report.score == plus and report.metrics["base_pass@1"].score == base
    assert report.num == 3 and report.failed_samples == 0


def test_repeats_give_pass_at_k(tmp_path, make_replay, samples):
    report = _run(tmp_path, make_replay, samples, [fenced(s.target) for s in samples],
                  generation_config={"n": 2, "temperature": 0.7})
    assert report.metrics["pass@2"].score == 1.0 and report.metrics["base_pass@1"].score == 1.0


def test_a_program_defining_check_has_it_run(bench, tmp_path):
    """A test program in EvalPlus's HumanEval+ form (``def check(candidate)``, not called) still grades."""
    program = ("def check(candidate):\n    inputs = [[1], [2], [30]]\n    results = [2, 4, 60]\n"
               "    for inp, exp in zip(inputs, results):\n        assert candidate(*inp) == exp\n")
    row = {"task_id": 900, "prompt": "Write a function to double a number.", "code": "def double(x):\n    return 2 * x",
           "source_file": "x", "test_imports": [], "test_list": ["assert double(1) == 2"], "test": program}
    (tmp_path / "test.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    sample = load_samples("mbpp_plus", dataset_id=str(tmp_path))[0]
    assert bench.score(sample, fenced(row["code"])).values["pass@1"] == 1.0
    small = bench.score(sample, fenced("def double(x):\n    return 2 * x if x < 10 else x"))
    assert small.values == {"pass@1": 0.0, "acc": 0.0, "base_pass@1": 1.0}
