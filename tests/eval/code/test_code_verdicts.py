"""Verdicts the model's code cannot forge: answers that try (exit early, lie about equality, patch the checker,
print a verdict, dodge the time limit) fail, honest answers keep their scores. Real sandboxed runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.data import DatasetLoader
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.eval.scoring.code_harness import RESULT_MARK, pack, parse_verdict, unpack

pytestmark = pytest.mark.timeout(120)

FIXTURES = Path(__file__).parent.parent / "fixtures"
FRAC = {"task_id": "Forge/0", "entry_point": "frac",
        "prompt": "def frac(x: float) -> float:\n    \"\"\"The fractional part of x.\"\"\"\n",
        "canonical_solution": "    return x - int(x)\n",
        "test": "def check(candidate):\n    assert abs(candidate(3.5) - 0.5) < 1e-6\n"
                "    assert candidate(2.0) == 0.0\n    assert candidate(7.25) == 0.25\n"}
FAKE_VERDICT = '{"passed": true, "tests_passed": 9, "tests": 9, "failure": null}'

HUMANEVAL_FORGERIES = {
    "os._exit(0) before the asserts": "import os\n\ndef frac(x):\n    return 0\n\nos._exit(0)",
    "os._exit(0) inside the call": "import os\n\ndef frac(x):\n    os._exit(0)",
    "SystemExit(0) at import": "def frac(x):\n    return 0\n\nraise SystemExit(0)",
    "SystemExit(0) inside the call": "def frac(x):\n    raise SystemExit(0)",
    "os._exit(0) from a thread": "import os, threading, time\n\ndef frac(x):\n    return 9\n\n"
                                 "threading.Thread(target=lambda: (time.sleep(0.2), os._exit(0))).start()",
    "__eq__ always true": "class Anything:\n    def __eq__(self, other):\n        return True\n\n    def __sub__(self, other):\n"
                          "        return 0\n\ndef frac(x):\n    return Anything()",
    "float subclass with a lying __eq__": "class Float(float):\n    def __eq__(self, other):\n        return True\n\n"
                                          "    __hash__ = float.__hash__\n\n    def __sub__(self, other):\n"
                                          "        return 0.0\n\ndef frac(x):\n    return Float(9.0)",
    "patched builtins.abs": "import builtins\nbuiltins.abs = lambda value: 0\n\ndef frac(x):\n"
                            "    return 9 if x == 3.5 else x - int(x)",
    "atexit hook exits 0": "import atexit, os\natexit.register(lambda: os._exit(0))\n\ndef frac(x):\n    return 9",
    "excepthook and exit patched": "import sys, os\nsys.excepthook = lambda *a: os._exit(0)\n\ndef frac(x):\n"
                                   "    return 9",
    "fake verdict on stdout": f"import os\nos.write(1, b'\\n{RESULT_MARK}{FAKE_VERDICT}\\n')\n\ndef frac(x):\n"
                              "    os._exit(0)",
}

LCB_FORGERIES = {  # (sample id, code)
    "fake verdict then os._exit(0)": ("abc001_a", f"import os\nos.write(1, b'\\n{RESULT_MARK}{FAKE_VERDICT}\\n')\n"
                                                  "os._exit(0)"),
    "patched builtins of the comparison": ("abc001_a", "import builtins\nbuiltins.zip = lambda *a: iter(())\n"
                                                       "print(0)"),
    "patched value comparison": ("2", "import sys\nsys.modules['__main__'].value_matches = lambda *a: True\n\n"
                                      "class Solution:\n    def reverseWords(self, s):\n        return 0"),
    "SystemExit(0) in a functional call": ("2", "class Solution:\n    def reverseWords(self, s):\n"
                                                "        raise SystemExit(0)"),
    "str subclass with a lying __eq__": ("2", "class S(str):\n    def __eq__(self, other):\n        return True\n\n"
                                              "class Solution:\n    def reverseWords(self, s):\n"
                                              "        return S('no')"),
    "time limit alarm switched off": ("abc001_a", "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                                  "signal.setitimer = lambda *a: 0\ntime.sleep(1.5)\n"
                                                  "a, b = map(int, input().split())\nprint(a + b)"),
    "an empty verdict": ("abc001_a", f"import os\nos.write(1, b'\\n{RESULT_MARK}[]\\n')\nos._exit(0)"),
}


def _benchmark(name, dataset_id, **extra):
    benchmark = get_benchmark(name)(DatasetArgs(dataset_id=str(dataset_id), extra_params=extra), 42)
    samples = benchmark.load(DatasetLoader(hub="local"), None)
    return benchmark, {sample.id: sample for sample in samples}


def _fenced(code):
    return f"Here is my solution.\n```python\n{code}\n```"


@pytest.fixture(scope="module")
def frac(tmp_path_factory):
    path = tmp_path_factory.mktemp("forge") / "forge.jsonl"
    path.write_text(json.dumps(FRAC) + "\n", encoding="utf-8")
    benchmark, samples = _benchmark("humaneval", path)
    return benchmark, samples["Forge/0"]


@pytest.fixture(scope="module")
def lcb():
    return _benchmark("live_code_bench", FIXTURES / "live_code_bench", test_timeout_s=1, wall_s=8, cpu_s=5)


@pytest.mark.parametrize("name", sorted(HUMANEVAL_FORGERIES))
def test_humaneval_forgeries_fail(frac, name):
    benchmark, sample = frac
    score = benchmark.score(sample, _fenced(HUMANEVAL_FORGERIES[name]))
    assert score.values["pass@1"] == 0.0, score.explanation


@pytest.mark.parametrize("answer", [
    _fenced("def frac(x):\n    return x - int(x)"),
    _fenced("def frac(x):\n    print('working')\n    return x % 1"),
    _fenced("class Float(float):\n    pass\n\ndef frac(x):\n    return Float(x - int(x))"),  # an honest subclass
    "    return x - int(x)\n",  # a completion
])
def test_humaneval_honest_right_answers_pass(frac, answer):
    benchmark, sample = frac
    score = benchmark.score(sample, answer)
    assert score.values["pass@1"] == 1.0, score.explanation


@pytest.mark.parametrize("answer", ["```python\ndef frac(x):\n    return x\n```", "    return round(x)\n",
                                    "```python\ndef frac(x):\n    raise ValueError(x)\n```"])
def test_humaneval_honest_wrong_answers_fail(frac, answer):
    benchmark, sample = frac
    score = benchmark.score(sample, answer)
    assert score.values["pass@1"] == 0.0 and score.explanation


@pytest.mark.parametrize("name", sorted(LCB_FORGERIES))
def test_live_code_bench_forgeries_fail(lcb, name):
    benchmark, samples = lcb
    sample_id, code = LCB_FORGERIES[name]
    score = benchmark.score(samples[sample_id], _fenced(code))
    assert score.values["pass@1"] == 0.0, score.explanation


@pytest.mark.parametrize("sample_id,code", [
    ("abc001_a", "import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\nsys.exit(0)"),
    ("abc001_a", "a, b = map(int, input().split())\nprint(a + b)\nexit()"),
    ("2", "class Solution:\n    def reverseWords(self, s):\n        print('debug')\n"
          "        return ' '.join(s.split()[::-1])"),
    ("1", "class Solution:\n    def twoSum(self, nums, target):\n        for i in range(len(nums)):\n"
          "            for j in range(i + 1, len(nums)):\n                if nums[i] + nums[j] == target:\n"
          "                    return (i, j)"),  # a tuple is a list, as in LiveCodeBench
])
def test_live_code_bench_honest_answers_pass(lcb, sample_id, code):
    benchmark, samples = lcb
    score = benchmark.score(samples[sample_id], _fenced(code))
    assert score.values["pass@1"] == 1.0, score.explanation


def test_a_problem_without_test_cases_fails(tmp_path):
    row = json.loads((FIXTURES / "live_code_bench" / "test.jsonl").read_text().splitlines()[0])
    (tmp_path / "none.jsonl").write_text(json.dumps({**row, "public_test_cases": "[]", "private_test_cases": ""}))
    benchmark, samples = _benchmark("live_code_bench", tmp_path / "none.jsonl")
    score = benchmark.score(samples["abc001_a"], _fenced("print(3)"))
    assert score.values["pass@1"] == 0.0 and score.explanation == "no test cases"


def test_an_empty_verdict_counts_as_a_failure_in_pass_at_1(tmp_path, make_replay):
    """The harness writing ``[]`` (or nothing a verdict can be read from) fails the sample; it stays in pass@1."""
    from tests.eval.code.test_code_benchmarks import LCB_GOLD, _load, _run

    assert parse_verdict(f"{RESULT_MARK}[]\n".encode()) is None
    assert parse_verdict(f'{RESULT_MARK}{{"passed": "yes"}}\n'.encode()) is None
    args = {"dataset_id": str(FIXTURES / "live_code_bench"), "subset_list": ["release_v2"]}
    samples = _load("live_code_bench", **args)
    responses = [_fenced(LCB_FORGERIES["an empty verdict"][1] if s.id == "abc001_a" else LCB_GOLD[s.id])
                 for s in samples]
    report = _run(tmp_path, make_replay, "live_code_bench", args, samples, responses)
    assert report.num == 4 and report.failed_samples == 0 and report.score == 0.75


def test_values_cross_by_their_base_type():
    class Lying(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    value = {"a": (1, Lying(2)), 3: [{4, 5}, b"x", 1.5, None, True, frozenset({6}), 2j]}
    assert unpack(json.loads(json.dumps(pack(value)))) == {"a": (1, 2), 3: [{4, 5}, b"x", 1.5, None, True,
                                                                                frozenset({6}), 2j]}
    assert type(unpack(pack(Lying(2)))) is int
    with pytest.raises(TypeError):
        pack(object())
    with pytest.raises(ValueError):
        unpack({"eval": "1"})
