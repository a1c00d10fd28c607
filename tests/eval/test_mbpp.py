"""mbpp: the hub-schema fixture (full and sanitized configs), the paper's 3-shot prompt, reading the code of a
reply, grading in the sandbox, and gold 100% / wrong 0% end to end against the simulator."""

from __future__ import annotations

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.mbpp import answer_code, function_under_test
from assay.types import Sample

from .conftest import FIXTURES, check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "mbpp")}


def fenced(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}\n```\nIt passes the tests."


def test_golden_prompt():
    check_golden("mbpp")


def test_full_is_the_default_subset_and_sanitized_is_asked_for():
    samples = load_samples("mbpp", **ARGS)
    assert [(s.id, s.subset) for s in samples] == [("full/11", "full"), ("full/12", "full"), ("full/14", "full"),
                                                   ("full/17", "full")]
    assert [s.metadata["entry_point"] for s in samples] == ["remove_Occ", "sort_matrix", "find_Volume",
                                                            "square_perimeter"]
    assert samples[0].metadata["tests"][0] == 'assert remove_Occ("hello","l") == "heo"'
    assert "\r" not in samples[0].target
    both = load_samples("mbpp", **ARGS, subset_list=["full", "sanitized"])
    assert [s.subset for s in both] == ["full"] * 4 + ["sanitized"] * 3
    assert len({s.id for s in both}) == 7  # tasks 11 and 12 are in both configs: resume and compare key on ids
    sanitized = load_samples("mbpp", **ARGS, subset_list=["sanitized"])
    assert sanitized[2].id == "sanitized/139" and sanitized[2].metadata["setup"] == "import math"
    assert sanitized[2].metadata["question"] == "Write a function to find the circumference of a circle."


def test_the_shots_are_prompt_tasks_2_3_4_as_chat_turns():
    messages = load_samples("mbpp", **ARGS)[0].messages or []
    assert [m.role for m in messages] == ["user", "assistant"] * 3 + ["user"]
    assert "similar elements" in messages[0].text() and "min_cost" not in "".join(m.text() for m in messages)
    assert "is_not_prime" in messages[2].text() and "heap_queue_largest" in messages[4].text()
    assert messages[1].text().startswith("```python\ndef similar_elements(") and "\r" not in messages[1].text()
    last = messages[-1].text()
    assert last.startswith("You are an expert Python programmer, and here is your task: Write a python function "
                           "to remove first and last occurrence")
    assert last.endswith('Your code should pass these tests:\n\nassert remove_Occ("hello","l") == "heo"\n'
                         'assert remove_Occ("abcda","a") == "bcd"\nassert remove_Occ("PHP","P") == "H"')
    zero_shot = load_samples("mbpp", **ARGS, few_shot_num=0)[0].messages or []
    assert [m.role for m in zero_shot] == ["user"]
    sanitized = load_samples("mbpp", **ARGS, subset_list=["sanitized"])[0].messages or []
    assert "shared elements" in sanitized[0].text() and "set(similar_elements(" in sanitized[0].text()


@pytest.mark.parametrize("tests,reference,setup,expected", [
    (["assert set(similar_elements((3, 4), (4, 5))) == set((4,))"], "", "", "similar_elements"),
    (["assert math.isclose(circle_circumference(10), 62.83, rel_tol=0.001)"], "", "import math",
     "circle_circumference"),
    (["assert max_chain_length([Pair(5, 24), Pair(15, 25)], 2) == 1"],
     "class Pair(object):\n    pass\ndef max_chain_length(arr, n):\n    return 1", "", "max_chain_length"),
    (["assert make_tree(3) and max_height(make_tree(3)) == 3"], "", "def make_tree(n):\n    return [n]",
     "max_height"),  # a helper the setup defines is not the tested function
    (["assert sorted(f(3)) == [1]"], "", "", "f"),
    (["assert 1 == 1"], "", "", None),
])
def test_the_function_under_test_is_found_from_the_asserts(tests, reference, setup, expected):
    assert function_under_test(tests, reference, setup) == expected


@pytest.mark.parametrize("answer,expected", [
    (fenced("def f(x):\n    return x"), "def f(x):\n    return x\n"),
    ("```python\ndef g():\n    pass\n```\n```python\ndef f(x):\n    return x\n```\n```python\nprint(f(1))\n```",
     "def f(x):\n    return x\n"),  # the block defining the tested function
    ("def f(x):\n    return x\n", "def f(x):\n    return x\n"),  # no fence: the whole reply
    ("[BEGIN]\ndef f(x):\n    return x\n[DONE]\nthat was it", "def f(x):\n    return x\n"),  # the paper's markers
    (fenced("def f(x):\n    return x\n\nif __name__ == '__main__':\n    print(f(input()))"),
     "def f(x):\n    return x\n"),
])
def test_answer_code(answer, expected):
    assert answer_code(answer, "f") == expected


@pytest.fixture(scope="module")
def bench():
    return get_benchmark("mbpp")()


def test_right_and_wrong_solutions(bench):
    sample = load_samples("mbpp", **ARGS)[0]
    assert bench.score(sample, fenced(sample.target)).values == {"pass@1": 1.0, "acc": 1.0}
    other = "def remove_Occ(s, ch):\n    return s.replace(ch, '')"  # the three asserts do not tell them apart
    assert bench.score(sample, fenced(other)).values["acc"] == 1.0
    wrong = bench.score(sample, fenced("def remove_Occ(s, ch):\n    return s.replace(ch, '', 1)"))
    assert wrong.values["acc"] == 0.0 and 'assert remove_Occ("hello","l") == "heo"' in wrong.explanation
    renamed = bench.score(sample, fenced("def remove_occ(s, ch):\n    return s.replace(ch, '')"))
    assert renamed.values["acc"] == 0.0
    for hostile in ("raise SystemExit(0)", "import os\nos._exit(0)", "def remove_Occ(s, ch):\n    exit(0)"):
        assert bench.score(sample, fenced(hostile)).values["acc"] == 0.0


def test_setup_imports_reach_both_the_tests_and_the_code(bench):
    sample = load_samples("mbpp", **ARGS, subset_list=["sanitized"])[2]
    assert bench.score(sample, "def circle_circumference(r):\n    return 2 * math.pi * r").values["acc"] == 1.0
    assert bench.score(sample, "def circle_circumference(r):\n    return math.pi * r").values["acc"] == 0.0


def test_test_setup_code_defines_what_the_asserts_use(bench):
    row = {"task_id": 900, "text": "Write a function to find the height of a binary tree.",
           "code": "def max_height(node):\n    return 0 if node is None else 1 + max(max_height(node[1]), "
                   "max_height(node[2]))",
           "test_setup_code": "leaf = (3, None, None)\nroot = (1, (2, leaf, None), None)",
           "test_list": ["assert max_height(root) == 3", "assert max_height(leaf) == 1"], "challenge_test_list": []}
    sample = bench.sample(row, "full", 0)
    assert sample.metadata["entry_point"] == "max_height"
    assert bench.score(sample, fenced(sample.target)).values["acc"] == 1.0
    assert bench.score(sample, fenced("def max_height(node):\n    return 3")).values["acc"] == 0.0


def test_a_row_without_a_function_under_test_is_a_dataset_error(bench):
    from assay.errors import DatasetError

    with pytest.raises(DatasetError):
        bench.sample({"task_id": 1, "text": "x", "code": "", "test_list": ["assert True"]}, "full", 0)


def _run(tmp_path, make_replay, samples: list[Sample], responses: list[str], args: dict, **extra):
    task = TaskConfig(eval_type="sim", model="replay", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["mbpp"], dataset_args={"mbpp": args}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4, **extra)
    return run_task(task, show=False).reports["mbpp"]


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_end_to_end(tmp_path, make_replay, kind, expected):
    args = {**ARGS, "subset_list": ["full", "sanitized"]}
    samples = load_samples("mbpp", **args)
    if kind == "gold":
        responses = [fenced(s.target) if i % 2 else s.target for i, s in enumerate(samples)]
    else:
        responses = [fenced(f"def {s.metadata['entry_point']}(*args):\n    return None") for s in samples]
    report = _run(tmp_path, make_replay, samples, responses, args)
    assert report.score == expected and report.num == 7 and report.failed_samples == 0
    assert {subset.name for subset in report.subsets} == {"full", "sanitized"}


def test_repeats_give_pass_at_k(tmp_path, make_replay):
    samples = load_samples("mbpp", **ARGS)
    report = _run(tmp_path, make_replay, samples, [fenced(s.target) for s in samples], ARGS,
                  generation_config={"n": 3, "temperature": 0.7})
    assert report.metrics["pass@3"].score == 1.0 and report.metrics["pass@1"].score == 1.0


def test_an_answer_that_never_returns_fails_at_the_sandbox_limit():
    from assay.eval.config import DatasetArgs

    bench = get_benchmark("mbpp")(DatasetArgs(extra_params={"wall_s": 3, "cpu_s": 2}))
    sample = load_samples("mbpp", **ARGS)[0]
    score = bench.score(sample, fenced("def remove_Occ(s, ch):\n    while True:\n        pass"))
    assert score.values["acc"] == 0.0 and score.explanation
