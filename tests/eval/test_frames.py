"""FRAMES: the hub's TSV schema, the naive (question-only) prompt, the fallback rule's cases, acc per reasoning
type, and gold 100% / wrong 0% end to end, graded by the rule and by a simulated LLM judge.

The fixture's questions and answers are from the public test set (Apache-2.0); its reasoning labels and links
are written for the fixture in the hub's columns."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.frames import reasoning_types, rule_correct, type_metric, wiki_links
from assay.eval.runner import arun_task
from assay.sim import SimConfig, SimServer

from .conftest import FIXTURES, check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "frames")}
GOLD_REPLIES = ["Working through the clues, her name would be Jane Ballou.",
                "Phil's first prediction was in 1887 in Pennsylvania, so 87 years earlier.",
                "Chelsea won in 2021... the holders then were France."]
WRONG_REPLIES = ["Her name would be Mary Todd.", "About 120 years.", "Spain."]


def test_golden_prompt():
    check_golden("frames")


def test_samples_read_the_hub_tsv():
    samples = load_samples("frames", **ARGS)
    assert [s.id for s in samples] == ["0", "1", "2"]
    assert [s.target for s in samples] == ["Jane Ballou", "87", "France"]
    assert samples[1].metadata["reasoning_types"] == ["Numerical reasoning", "Temporal reasoning"]
    assert samples[2].metadata["wiki_links"][0] == "https://en.wikipedia.org/wiki/FIFA_World_Cup"
    messages = samples[0].messages or []
    assert len(messages) == 1 and messages[0].text() == samples[0].metadata["question"]  # the question alone


def test_field_parsing():
    assert reasoning_types("Numerical reasoning | Tabular reasoning") == ["Numerical reasoning", "Tabular reasoning"]
    assert reasoning_types(["Post processing"]) == ["Post processing"]
    assert reasoning_types("") == []
    assert wiki_links("['https://en.wikipedia.org/wiki/A', 'https://en.wikipedia.org/wiki/B']") == \
        ["https://en.wikipedia.org/wiki/A", "https://en.wikipedia.org/wiki/B"]
    assert wiki_links("https://en.wikipedia.org/wiki/A, https://en.wikipedia.org/wiki/B") == \
        ["https://en.wikipedia.org/wiki/A", "https://en.wikipedia.org/wiki/B"]
    assert type_metric("Multiple constraints") == "acc_multiple_constraints"


@pytest.mark.parametrize("reply,gold,correct", [
    ("Her name would be Jane Ballou.", "Jane Ballou", True),      # contained, as whole words
    ("Final answer: jane ballou", "Jane Ballou", True),
    ("**Answer:** The France national team", "France", True),
    ("Jane", "Jane Ballou", False),
    ("It is 87 years.", "87", True),
    ("The answer: 870", "87", False),                            # not a whole-word match
    ("<think>Maybe France?</think>\nSpain.", "France", False),   # the reasoning block is not the reply
    ("Spain", "France", False),
    ("anything", "", False),
])
def test_rule(reply, gold, correct):
    assert rule_correct(reply, gold)[0] is correct


def test_score_keeps_the_final_answer():
    bench = get_benchmark("frames")()
    sample = load_samples("frames", **ARGS)[2]
    score = bench.score(sample, "Reasoning...\nFinal answer: France")
    assert score.values == {"acc": 1.0} and score.extracted == "France"


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_by_the_rule(tmp_path, make_replay, kind, expected):
    samples = load_samples("frames", **ARGS)
    replies = GOLD_REPLIES if kind == "gold" else WRONG_REPLIES
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, replies)),
                      datasets=["frames"], dataset_args={"frames": ARGS}, work_dir=str(tmp_path / "out"))
    report = run_task(task, show=False).reports["frames"]
    assert report.score == expected and report.num == 3 and report.failed_samples == 0
    for label in ("acc_multiple_constraints", "acc_numerical_reasoning", "acc_temporal_reasoning"):
        assert report.metrics[label].score == expected, label
    assert report.metrics["acc_temporal_reasoning"].num == 2  # a question counts in each of its types


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def _sim(replay: Path) -> SimServer:
    return SimServer(SimConfig(port=0, replay_path=replay, latency_model="fixed", ttft_ms=0, itl_ms=0, seed=1))


async def _judged(tmp_path: Path, replies: list[str], verdicts: list[str]):
    samples = load_samples("frames", **ARGS)
    model_replay = _write_jsonl(tmp_path / "model.jsonl", [
        {"prompt": (s.messages or [])[-1].text(), "response": reply} for s, reply in zip(samples, replies)])
    judge_replay = _write_jsonl(tmp_path / "judge.jsonl", [
        {"prompt_contains": f"[Candidate answer]\n{reply}\n", "response": verdict}
        for reply, verdict in zip(replies, verdicts)])
    async with _sim(model_replay) as model, _sim(judge_replay) as judge:
        task = TaskConfig(model="m", api_url=model.base_url, datasets=["frames"], dataset_args={"frames": ARGS},
                          work_dir=str(tmp_path / "out"), max_retries=0, judge_strategy="llm",
                          judge_model_args={"model_id": "judge-m", "api_url": judge.base_url, "max_retries": 0})
        result = await arun_task(task, show=False)
        return result.reports["frames"], judge.stats()["requests_total"]


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
async def test_gold_scores_100_and_wrong_0_by_a_simulated_judge(tmp_path, kind, expected):
    replies = GOLD_REPLIES if kind == "gold" else WRONG_REPLIES
    verdict = "Same answer.\nVERDICT: CORRECT" if kind == "gold" else "Different.\nVERDICT: INCORRECT"
    report, judge_requests = await _judged(tmp_path, replies, [verdict] * 3)
    assert judge_requests == 3
    assert report.score == expected and report.metrics["acc"].num == 3
    assert "LLM judge judge-m" in (report.protocol or "")


async def test_the_judge_overrides_the_rule(tmp_path):
    # A paraphrase the rule misses, judged correct; a reply naming the gold among others, judged wrong.
    replies = ["Her name would be Jane B., née Ballou's daughter-in-law... i.e. Jane Ballou? Unclear.",
               "Somewhere between 87 and 120 years, I cannot say.", "Les Bleus, i.e. the French team."]
    verdicts = ["It hedges.\nVERDICT: INCORRECT", "It hedges.\nVERDICT: INCORRECT", "France.\nVERDICT: CORRECT"]
    report, _ = await _judged(tmp_path, replies, verdicts)
    assert report.score == pytest.approx(1 / 3)
    assert report.metrics["acc_temporal_reasoning"].score == 0.5
    assert report.metrics["acc_multiple_constraints"].score == 0.0
