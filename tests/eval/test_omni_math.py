"""Omni-MATH: the hub schema, the MATH-style prompt, the math checker's cases, gold 100% / wrong 0% end to end
against the simulator, and the LLM judge (as the paper grades) on answers the rule cannot read."""

from __future__ import annotations

import orjson
import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.runner import arun_task
from assay.sim import SimConfig, SimServer

from .conftest import FIXTURES, check_golden, gold_answer, load_samples, sim_args, wrong_answer, write_replay

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "omni_math")}


def test_golden_prompt():
    check_golden("omni_math")


def test_reads_the_hub_schema():
    samples = load_samples("omni_math", **ARGS)
    assert [(s.id, s.subset, s.target) for s in samples] == [("0", "default", "2"), ("1", "default", "2"),
                                                             ("2", "default", "\\frac{3-\\sqrt{5}}{2}")]
    assert samples[1].metadata["domain"] == ["Mathematics -> Algebra -> Intermediate Algebra -> Inequalities",
                                             "Mathematics -> Precalculus -> Trigonometric Functions"]
    assert samples[1].metadata["difficulty"] == 6.0 and samples[1].metadata["source"] == "synthetic_olympiad"
    assert (samples[0].messages or [])[-1].text() == (
        "Find the remainder when $2^{100}$ is divided by $7$.\n"
        "Please reason step by step, and put your final answer within \\boxed{}.")


@pytest.mark.parametrize("answer,acc", [
    ("$\\boxed{\\frac{3-\\sqrt{5}}{2}}$", 1.0),
    ("$\\boxed{\\dfrac{3 - \\sqrt 5}{2}}$", 1.0),
    ("$\\boxed{\\frac{3}{2}-\\frac{\\sqrt{5}}{2}}$", 1.0),
    ("$\\boxed{0.381966}$", 1.0),            # the decimal value, within the checker's tolerance
    ("$\\boxed{\\frac{3+\\sqrt{5}}{2}}$", 0.0),
    ("$\\boxed{\\sqrt{5}-2}$", 0.0),
    ("I could not finish.", 0.0),
])
def test_scorer_cases(answer, acc):
    bench = get_benchmark("omni_math")()
    sample = load_samples("omni_math", **ARGS)[2]
    assert bench.score(sample, answer).values["acc"] == acc


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    samples = load_samples("omni_math", **ARGS)
    responses = [(gold_answer if kind == "gold" else wrong_answer)(sample, "math") for sample in samples]
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["omni_math"], dataset_args={"omni_math": ARGS}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4)
    report = run_task(task, show=False).reports["omni_math"]
    assert report.score == expected and report.main_metric == "acc"
    assert report.failed_samples == 0 and report.num == len(samples)


async def test_the_llm_judge_grades_what_the_rule_cannot(tmp_path):
    # llm_recall: the judge is asked only where the rule did not find the answer right.
    samples = load_samples("omni_math", **ARGS)
    answers = ["So the remainder is $\\boxed{2}$.", "The largest value it takes is two.",
               "The radius is $\\boxed{\\sqrt{5}-2}$."]
    model_replay = write_replay(tmp_path / "model.jsonl", samples, answers)
    judge_replay = tmp_path / "judge.jsonl"
    judge_replay.write_bytes(b"".join(orjson.dumps({"prompt_contains": f"[Candidate answer]\n{answer}\n",
                                                    "response": reply}) + b"\n"
                                      for answer, reply in ((answers[1], "Two is 2.\nVERDICT: CORRECT"),
                                                            (answers[2], "Not equal.\nVERDICT: INCORRECT"))))
    sim = {"port": 0, "latency_model": "fixed", "ttft_ms": 0, "itl_ms": 0, "seed": 1}
    async with SimServer(SimConfig(replay_path=model_replay, **sim)) as model, \
            SimServer(SimConfig(replay_path=judge_replay, **sim)) as judge:
        task = TaskConfig(model="m", api_url=model.base_url, datasets=["omni_math"],
                          dataset_args={"omni_math": ARGS}, work_dir=str(tmp_path / "out"), max_retries=0,
                          judge_strategy="llm_recall",
                          judge_model_args={"model_id": "judge-m", "api_url": judge.base_url, "max_retries": 0})
        result = await arun_task(task, show=False)
        judge_requests = judge.stats()["requests_total"]
    report = result.reports["omni_math"]
    assert judge_requests == 2
    assert report.score == pytest.approx(2 / 3) and report.num == 3
    assert "LLM judge judge-m" in (report.protocol or "")
