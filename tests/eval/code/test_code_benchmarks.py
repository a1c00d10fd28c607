"""humaneval and live_code_bench: extraction, test decoding, and end to end through the simulator in replay mode."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.scoring.code import extract_code, humaneval_program
from assay.eval.scoring.code_harness import stdout_matches, value_matches
from tests.helpers.shared_data import shared_data_dir

pytestmark = pytest.mark.timeout(60)

FIXTURES = Path(__file__).parent.parent / "fixtures"
HUMANEVAL_GZ = shared_data_dir() / "humaneval" / "HumanEval.jsonl.gz"
LIMIT = 24
LCB_GOLD = {
    "abc001_a": "a, b = map(int, input().split())\nprint(a + b)",
    "1": "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n"
         "        for i, x in enumerate(nums):\n            if target - x in seen:\n"
         "                return [seen[target - x], i]\n            seen[x] = i",
    "1850A": "d = open(0).read().split()\nm = max(map(int, d[1:]))\nprint(m, m * m)",
    "2": "class Solution:\n    def reverseWords(self, s: str) -> str:\n        return ' '.join(reversed(s.split()))",
}


def _load(name, **args):
    from tests.eval.conftest import load_samples

    return load_samples(name, **args)


def _run(tmp_path, make_replay, name, args, samples, responses, **extra):
    from tests.eval.conftest import sim_args

    task = TaskConfig(eval_type="sim", model="replay", model_args=sim_args(make_replay(samples, responses)),
                      datasets=[name], dataset_args={name: args}, work_dir=str(tmp_path / "out"), eval_batch_size=4,
                      **extra)
    return run_task(task, show=False).reports[name]


def test_extract_code_takes_the_last_python_block_or_the_one_defining_the_function():
    text = "intro\n```python\ndef f():\n    return 1\n```\nthen\n```\nprint(2)\n```\n```bash\nls\n```"
    assert extract_code(text) == "print(2)\n"
    assert extract_code(text, prefer="f") == "def f():\n    return 1\n"
    assert extract_code("```py\nx = 1\n") == "x = 1\n"  # cut off before the closing fence
    assert extract_code("no code here") is None


def test_humaneval_program_accepts_full_functions_bodies_and_completions():
    prompt = "from typing import List\n\n\ndef f(xs: List[int]) -> int:\n    \"\"\"Sum.\"\"\"\n"
    full, style = humaneval_program(prompt, "```python\ndef f(xs):\n    return sum(xs)\n```", "f")
    assert style == "chat" and "from typing import List" in full and full.count("def f(") == 1
    body, _ = humaneval_program(prompt, "```python\nreturn sum(xs)\n```", "f")
    assert body.endswith("    return sum(xs)\n")
    completion, style = humaneval_program(prompt, "    return sum(xs)\n\ndef other():\n    pass", "f")
    assert style == "completion" and "other" not in completion


def test_stdout_and_value_comparison():
    assert stdout_matches("1 2\n3\n\n", "1 2\n3")
    assert stdout_matches("1.0 2\n", "1 2.00")
    assert not stdout_matches("1 2\n", "1 3\n")
    assert value_matches((1, 2), [1, 2]) and not value_matches([2, 1], [1, 2])


def test_private_tests_decode_and_refuse_pickled_objects():
    from assay.errors import DatasetError
    from assay.eval.benchmarks.live_code_bench import decode_tests

    tests = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    encoded = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()
    assert decode_tests(encoded) == tests and decode_tests(json.dumps(tests)) == tests
    hostile = base64.b64encode(zlib.compress(pickle.dumps(Path("/etc")))).decode()
    with pytest.raises(DatasetError):
        decode_tests(hostile)


def test_lcb_releases_dates_and_difficulty_select_rows():
    root = str(FIXTURES / "live_code_bench")
    assert [s.id for s in _load("live_code_bench", dataset_id=root, subset_list=["release_v1"])] == ["abc001_a", "1"]
    assert [s.id for s in _load("live_code_bench", dataset_id=root, subset_list=["v2"])] == ["1850A", "2"]
    assert len(_load("live_code_bench", dataset_id=root, subset_list=["v1_v2"])) == 4
    window = _load("live_code_bench", dataset_id=root, subset_list=["release_latest"],
                   extra_params={"start_date": "2023-06-01", "end_date": "2024-02-28"})
    assert [s.id for s in window] == ["1", "1850A"]
    easy = _load("live_code_bench", dataset_id=root, subset_list=["v1_v2"], extra_params={"difficulty": "easy"})
    assert [s.id for s in easy] == ["abc001_a", "2"]


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("bad", 0.0)])
def test_lcb_end_to_end(tmp_path, make_replay, kind, expected):
    args = {"dataset_id": str(FIXTURES / "live_code_bench"), "subset_list": ["release_v2"]}
    samples = _load("live_code_bench", **args)
    if kind == "gold":
        responses = [f"My solution:\n```python\n{LCB_GOLD[s.id]}\n```\nDone." for s in samples]
    else:
        responses = ["```python\nprint(0)\n```", "```python\nwhile True: pass\n```",
                     "I cannot solve it.", "```python\nclass Solution:\n    def reverseWords(self, s): return s\n```"]
    report = _run(tmp_path, make_replay, "live_code_bench",
                  {**args, "extra_params": {"test_timeout_s": 1, "wall_s": 5, "cpu_s": 3}}, samples, responses)
    assert report.score == expected and report.num == 4 and report.failed_samples == 0


def test_lcb_sample_is_pure_and_its_tests_travel_with_the_sample_not_the_predictions():
    from assay.errors import DatasetError
    from assay.eval.benchmarks import get_benchmark
    from assay.eval.benchmarks.live_code_bench import LiveCodeBench
    from assay.eval.config import DatasetArgs
    from assay.types import SampleResult

    rows = [json.loads(line) for line in (FIXTURES / "live_code_bench" / "test.jsonl").read_text().splitlines()]
    bench = get_benchmark("live_code_bench")(DatasetArgs())
    before = dict(vars(bench))
    forward = [bench.sample(row, "release_v1", i) for i, row in enumerate(rows)]
    backward = [bench.sample(row, "release_v1", i) for i, row in reversed(list(enumerate(rows)))][::-1]
    assert forward == backward and vars(bench) == before  # nothing cached on the instance
    tests = LiveCodeBench.tests_of(forward[0])
    assert tests and all({"input", "output"} <= set(t) for t in tests)
    stored = SampleResult(sample=forward[0]).model_dump(mode="json")
    assert "scoring_data" not in stored["sample"] and "private_test_cases" not in json.dumps(stored)
    with pytest.raises(DatasetError, match="no test cases"):  # read back from predictions: not graded, not wrong
        LiveCodeBench.tests_of(SampleResult.model_validate(stored).sample)


def test_lcb_answers_regraded_on_resume_find_their_tests(tmp_path, make_replay):
    # Predictions keep no test cases: a re-grade (here for a new filter) scores the freshly loaded sample.
    args = {"dataset_id": str(FIXTURES / "live_code_bench"), "subset_list": ["release_v1"],
            "extra_params": {"test_timeout_s": 1, "wall_s": 5, "cpu_s": 3}}
    samples = _load("live_code_bench", **args)
    responses = [f"My solution:\n```python\n{LCB_GOLD[s.id]}\n```\nDone." for s in samples]
    first = _run(tmp_path, make_replay, "live_code_bench", args, samples, responses)
    assert first.score == 1.0
    run_dir = next((tmp_path / "out").iterdir())
    again = _run(tmp_path, make_replay, "live_code_bench", {**args, "filters": {"remove_until": "My solution:"}},
                 samples, responses, use_cache=str(run_dir))
    assert again.score == 1.0 and again.num == 2 and again.failed_samples == 0


def _humaneval_args():
    return {"dataset_id": str(HUMANEVAL_GZ if HUMANEVAL_GZ.exists() else FIXTURES / "humaneval" / "test.jsonl")}


@pytest.mark.parametrize("style", ["chat", "completion"])
def test_humaneval_canonical_solutions_pass_and_wrong_ones_fail(tmp_path, make_replay, style):
    args = {**_humaneval_args(), "extra_params": {"style": style}}
    samples = _load("humaneval", **args)[:LIMIT]  # all 164 take ~30 s on 2 cores: bench/code_sandbox.py runs them
    if style == "chat":  # alternate: a full function, then the body alone, both fenced
        gold = [f"```python\n{s.metadata['question']}{s.target}```" if i % 2 == 0 else f"```python\n{s.target}```"
                for i, s in enumerate(samples)]
    else:
        gold = [s.target for s in samples]
    report = _run(tmp_path / "gold", make_replay, "humaneval", args, samples, gold, limit=LIMIT)
    assert report.score == 1.0 and report.num == len(samples)
    bad = ["```python\nraise SystemExit(1)\n```" if i % 2 else "    return None\n" for i in range(len(samples))]
    report = _run(tmp_path / "bad", make_replay, "humaneval", args, samples, bad, limit=LIMIT)
    assert report.score == 0.0


def test_humaneval_repeats_give_unbiased_pass_at_k(tmp_path, make_replay):
    args = {"dataset_id": str(FIXTURES / "humaneval" / "test.jsonl")}
    samples = _load("humaneval", **args)
    report = _run(tmp_path, make_replay, "humaneval", args, samples, [s.target for s in samples],
                  generation_config={"n": 3, "temperature": 0.7})
    assert report.metrics["pass@3"].score == 1.0 and report.metrics["pass@1"].score == 1.0


def test_completion_style_humaneval_uses_the_completions_endpoint(tmp_path):
    """Against an OpenAI-compatible server, completion style goes to /completions and chat style to /chat."""
    import urllib.request

    from assay.sim import SimConfig, SimProcess
    from tests.eval.conftest import write_replay

    args = {"dataset_id": str(FIXTURES / "humaneval" / "test.jsonl")}
    samples = _load("humaneval", **args, extra_params={"style": "completion"})  # keyed by the raw prompt
    chat_samples = _load("humaneval", **args)  # keyed by the chat request
    replay = write_replay(tmp_path / "replay.jsonl", samples + chat_samples,
                          [s.target for s in samples] + [f"```python\n{s.target}```" for s in chat_samples])
    config = SimConfig(port=0, replay_path=replay, latency_model="fixed", ttft_ms=0, itl_ms=0)
    with SimProcess(config) as sim:
        for style in ("completion", "chat"):
            task = TaskConfig(eval_type="openai_api", model="assay-sim", api_url=sim.base_url + "/chat/completions",
                              datasets=["humaneval"], work_dir=str(tmp_path / style),
                              dataset_args={"humaneval": {**args, "extra_params": {"style": style}}})
            assert run_task(task, show=False).reports["humaneval"].score == 1.0
        with urllib.request.urlopen(sim.base_url.removesuffix("/v1") + "/sim/stats") as response:
            stats = json.loads(response.read())
    assert stats["requests_by_endpoint"] == {"completions": len(samples), "chat": len(samples)}
