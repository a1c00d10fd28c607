"""MT-Bench: two turns (the second after the model's own first answer), each rated 1-10 by the judge, or compared
with a baseline's in both orders.

The model, the judge and a baseline model are simulators in replay mode: every answer and every verdict is
known, so every score is computed by hand below. A failed judge request and an unreadable rating are both
ungraded (never a low score) and asked again when the run is resumed, with nothing else asked twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pytest

from assay.errors import ConfigError, DatasetError
from assay.eval import TaskConfig
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.mt_bench import baseline_turns, conversation, rating_messages, turn_value
from assay.eval.config import DatasetArgs
from assay.eval.runner import arun_task
from assay.eval.scoring.judge import parse_rating
from assay.sim import SimConfig, SimServer
from assay.types import Sample

from .conftest import FIXTURES, GOLDEN_DIR, check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(60)

DATA = FIXTURES / "mt_bench"
ARGS = {"dataset_id": str(DATA)}

# Question id → (answer to turn 1, answer to turn 2, judge's rating of turn 1, of turn 2).
ANSWERS = {
    "11240001": ("Lighthouse towns are calm. Tip: go early.", "Lovely lanes lead to the lamp.", 8, 6),
    "11240003": ("Salt pork, hard tack and pea soup, sir.", "Captain, the flour is full of weevils.", 9, 7),
    "11240002": ("The area is 60 square cm.", "Doubled sides give four times the area: 216.", 3, 10),
    "11240004": ("def f(xs): return sorted(xs)[-2]", "def f(xs):\n    return max(x for x in xs if x < max(xs))", 5, 4),
}
# Hand-computed: turn 1 (8+9+3+5)/4, turn 2 (6+7+10+4)/4, score the mean of the questions' means (7, 8, 6.5, 4.5).
TURN1, TURN2, SCORE = 6.25, 6.75, 6.5


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def _sim(replay: Path, **extra: object) -> SimServer:
    return SimServer(SimConfig(port=0, replay_path=replay, latency_model="fixed", ttft_ms=0, itl_ms=0, seed=1,
                               **extra))


def _samples(**args: object) -> dict[str, Sample]:
    return {s.id: s for s in load_samples("mt_bench", **{**ARGS, **args})}


def _model_replay(path: Path, answers: dict[str, tuple] = ANSWERS) -> Path:
    """The model's answers, keyed by the question of each turn (the last user message of its request)."""
    samples = _samples()
    rows = []
    for sample_id, (first, second, *_) in answers.items():
        turns = samples[sample_id].metadata["turns"]
        rows += [{"prompt": turns[0], "response": first}, {"prompt": turns[1], "response": second}]
    return _jsonl(path, rows)


def _turn1_key(answer: str) -> str:
    return f"[The Start of the Assistant's Answer]\n{answer}\n"


def _turn2_key(answer: str) -> str:
    return f"### Assistant:\n{answer}\n\n<|The End of the Assistant's Conversation"


def _judge_rows(skip: set[tuple[str, int]] = frozenset(), unreadable: set[tuple[str, int]] = frozenset()) -> list:
    """Judge replies keyed by the answer each prompt grades; ``skip`` leaves (id, turn) out (a strict judge answers
    404), ``unreadable`` gives it a reply with no rating."""
    rows = []
    for sample_id, (first, second, r1, r2) in ANSWERS.items():
        for turn, key, rating in ((1, _turn1_key(first), r1), (2, _turn2_key(second), r2)):
            if (sample_id, turn) in skip:
                continue
            reply = ("A decent effort, I would say." if (sample_id, turn) in unreadable
                     else f"The answer is judged as follows. Rating: [[{rating}]]")
            rows.append({"prompt_contains": key, "response": reply})
    return rows


def _task(tmp_path: Path, model: SimServer | None, judge: SimServer, **extra: object) -> TaskConfig:
    """A run of the fixture; ``model`` None with ``eval_type="sim"`` and ``model_args`` for the in-process simulator."""
    dataset_extra = extra.pop("extra_params", {})
    return TaskConfig(model="m", api_url=model.base_url if model else None, datasets=["mt_bench"], max_retries=0,
                      dataset_args={"mt_bench": {**ARGS, "extra_params": dataset_extra}},
                      work_dir=str(tmp_path / "out"),
                      judge_model_args={"model_id": "judge-m", "api_url": judge.base_url, "max_retries": 0}, **extra)


def _predictions(run_dir: Path) -> dict[str, dict]:
    lines = (run_dir / "predictions" / "mt_bench.jsonl").read_bytes().splitlines()
    rows = [orjson.loads(line) for line in lines]
    return {row["sample"]["id"]: row for row in rows}  # a later line wins, as the store reads it


# ---- data and prompts ------------------------------------------------------------------------------------

def test_golden_prompt():
    check_golden("mt_bench")


def test_golden_judge_prompts():
    """The four judge prompts (general and reference, turn 1 and turn 2) of the fixture's writing and math rows."""
    samples = _samples()
    rendered = {}
    for sample_id in ("11240001", "11240002"):
        sample = samples[sample_id]
        first, second, *_ = ANSWERS[sample_id]
        for turn in (0, 1):
            messages = rating_messages(sample.metadata["turns"], [first, second], sample.target, turn)
            rendered[f"{sample.metadata['category']}_turn{turn + 1}"] = [m.model_dump() for m in messages]
    path = GOLDEN_DIR / "mt_bench_judge.json"
    if os.environ.get("ASSAY_UPDATE_GOLDEN") or not path.exists():
        path.write_text(json.dumps(rendered, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert rendered == json.loads(path.read_text(encoding="utf-8")), \
        "mt_bench: a judge prompt changed; bump the version and rerun with ASSAY_UPDATE_GOLDEN=1"


def test_samples_read_the_hub_schema():
    samples = _samples()
    assert list(samples) == ["11240001", "11240003", "11240002", "11240004"]  # in the order of the categories
    math = samples["11240002"]
    assert math.subset == "math" and len(math.metadata["turns"]) == 2
    assert math.target[0].startswith("The other side is 30/2 - 6 = 9")  # the reference answers, one per turn
    assert samples["11240001"].target is None  # writing has no reference
    assert [m.role for m in math.messages or []] == ["user"]
    assert (math.messages or [])[0].text() == math.metadata["turns"][0]


def test_fastchat_question_file_reads_the_same(tmp_path):
    rows = [orjson.loads(line) for line in (DATA / "train.jsonl").read_bytes().splitlines()]
    folder = tmp_path / "fastchat"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", [{"question_id": 81 + i, "category": r["category"], "turns": r["prompt"],
                                     **({"reference": r["reference"]} if r["reference"] else {})}
                                    for i, r in enumerate(rows)])
    samples = _samples(dataset_id=str(folder))
    assert sorted(samples) == ["81", "82", "83", "84"]
    assert samples["82"].target == rows[1]["reference"] and samples["81"].target is None


def test_the_hubs_parquet_layout_reads_the_same(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    rows = [orjson.loads(line) for line in (DATA / "train.jsonl").read_bytes().splitlines()]
    (tmp_path / "hub" / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "hub" / "data" / "train-00000-of-00001.parquet")
    samples = _samples(dataset_id=str(tmp_path / "hub"))
    assert {k: (s.metadata["turns"], s.target) for k, s in samples.items()} == \
        {k: (s.metadata["turns"], s.target) for k, s in _samples().items()}


def test_a_baseline_file_must_answer_every_question(tmp_path):
    answers = _jsonl(tmp_path / "base.jsonl", [{"question_id": 11240001, "choices": [{"turns": ["a", "b"]}]}])
    with pytest.raises(DatasetError, match="question 11240003: the baseline_answers file has no answers"):
        _samples(extra_params={"mode": "pairwise", "baseline_answers": str(answers)})
    bad = _jsonl(tmp_path / "bad.jsonl", [{"question_id": 1, "choices": [{"turns": ["only one"]}]}])
    with pytest.raises(ConfigError, match="record 1 has no question id and two answers"):
        _samples(extra_params={"mode": "pairwise", "baseline_answers": str(bad)})


def test_a_row_with_one_turn_is_refused(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", [{"prompt": ["only one"], "prompt_id": 1, "category": "writing", "reference": []}])
    with pytest.raises(DatasetError, match="expected 2 turns"):
        _samples(dataset_id=str(folder))


def test_the_second_turn_follows_the_models_first_answer():
    bench = get_benchmark("mt_bench")(DatasetArgs(**ARGS))
    sample = _samples()["11240001"]
    history = [*(sample.messages or []), _assistant("My first answer.")]
    messages = bench.next_turn(sample, history)
    assert [(m.role, m.text()) for m in messages] == [
        ("user", sample.metadata["turns"][0]), ("assistant", "My first answer."), ("user", sample.metadata["turns"][1])]


def _assistant(text: str):
    from assay.types import Message

    return Message.assistant(text)


def test_judge_prompts_show_the_reference_and_the_whole_conversation():
    samples = _samples()
    math, writing = samples["11240002"], samples["11240001"]
    turn1 = rating_messages(math.metadata["turns"], ["A1", "A2"], math.target, 0)[-1].text()
    assert "[The Start of the Reference Answer]\n" + math.target[0] in turn1 and "A2" not in turn1
    turn2 = rating_messages(math.metadata["turns"], ["A1", "A2"], math.target, 1)
    text = turn2[-1].text()
    assert conversation(math.metadata["turns"], ["A1", "A2"]) in text
    assert text.index("### Reference answer:\n" + math.target[1]) < text.index("### Assistant:\nA1")
    assert "second user question" in turn2[0].text()
    plain = rating_messages(writing.metadata["turns"], ["{x}", "B2"], None, 0)[-1].text()
    assert "Reference" not in plain and "{x}" in plain  # braces in answers are kept as they are
    assert "[[" in turn2[0].text() and "Rating: [[" in turn2[0].text()


def test_a_baseline_model_answer_file_in_fastchats_shape():
    assert baseline_turns({"question_id": 81, "choices": [{"index": 0, "turns": ["a", "b"]}]}) == ["a", "b"]
    assert baseline_turns({"question_id": 81, "turns": [{"content": "a"}, {"content": "b"}]}) == ["a", "b"]
    assert baseline_turns({"question_id": 81, "answer": "a"}) is None


# ---- ratings and means -----------------------------------------------------------------------------------

@pytest.mark.parametrize("reply,rating", [
    ("Good answer. Rating: [[7]]", 7.0),
    ("Rating: [[10]]", 10.0),
    ("Mostly right. Rating: [[6.5]]", 6.5),
    ("The format is \"Rating: [[5]]\"... My rating: [[8]]", 8.0),  # the last rating wins over a quoted example
    ("Rating: [[ 3 ]]", 3.0),
    ("<think>maybe [[2]]</think>Final. Rating: [[9]]", 9.0),
    ("Rating: 4/10", 4.0),  # no brackets: the plain "Rating: N" fallback
    ("Rating: [[0]]", None),  # out of the 1-10 scale
    ("Rating: [[11]]", None),
    ("A fine answer overall.", None),
    ("", None),
    (None, None),
])
def test_rating_parser(reply, rating):
    assert parse_rating(reply) == rating


def test_a_question_score_is_the_mean_of_both_turns_or_ungraded():
    assert turn_value([8.0, 6.0]) == 7.0
    assert turn_value([3.0, 10.0]) == 6.5
    assert turn_value([8.0, None]) is None
    assert turn_value([None, None]) is None


def test_baselines_belong_to_pairwise_mode():
    with pytest.raises(ConfigError, match="mode pairwise needs baseline_answers or baseline_model_args"):
        get_benchmark("mt_bench")(DatasetArgs(**ARGS, extra_params={"mode": "pairwise"}))
    with pytest.raises(ConfigError, match="baseline answers are for mode pairwise"):
        get_benchmark("mt_bench")(DatasetArgs(**ARGS, extra_params={"baseline_answers": "x.jsonl"}))
    with pytest.raises(ConfigError, match="mode"):
        get_benchmark("mt_bench")(DatasetArgs(**ARGS, extra_params={"mode": "both"}))


# ---- end to end ------------------------------------------------------------------------------------------

async def test_single_grading_end_to_end_equals_the_hand_computed_means(tmp_path):
    judge_replay = _jsonl(tmp_path / "judge.jsonl", _judge_rows())
    async with _sim(_model_replay(tmp_path / "model.jsonl")) as model, _sim(judge_replay) as judge:
        result = await arun_task(_task(tmp_path, model, judge), show=False)
        assert model.stats()["requests_total"] == 8 and judge.stats()["requests_total"] == 8  # 4 questions x 2
    report = result.reports["mt_bench"]
    assert report.main_metric == "score" and report.score == pytest.approx(SCORE)
    assert report.metrics["score_turn1"].score == pytest.approx(TURN1)
    assert report.metrics["score_turn2"].score == pytest.approx(TURN2)
    by_category = {s.name: s for s in report.subsets}
    assert by_category["math"].metrics["score"].score == pytest.approx(6.5)
    assert by_category["coding"].metrics["score_turn2"].score == pytest.approx(4.0)
    assert by_category["writing"].metrics["score_turn1"].score == pytest.approx(8.0)
    rows = _predictions(result.run_dir)
    completion = rows["11240002"]["completions"][0]
    assert completion["text"] == ANSWERS["11240002"][1]
    assert [t["text"] for t in completion["turns"]] == [ANSWERS["11240002"][0]]  # stored for resume
    calls = rows["11240002"]["scores"][0]["metadata"]["judge_turns"]
    assert [c["rating"] for c in calls] == [3.0, 10.0]
    assert "[The Start of the Reference Answer]" in calls[0]["prompt"]
    assert f"### Assistant:\n{ANSWERS['11240002'][0]}" in calls[1]["prompt"]  # turn 2 sees the first answer


async def test_resume_after_a_judge_failure_asks_only_the_failed_turns_again(tmp_path):
    # Run 1: the judge fails on writing's turn 2 (no replay entry: HTTP 404) and gives math's turn 1 no rating.
    broken = _jsonl(tmp_path / "broken.jsonl", _judge_rows(skip={("11240001", 2)}, unreadable={("11240002", 1)}))
    fixed = _jsonl(tmp_path / "fixed.jsonl", _judge_rows())
    async with _sim(_model_replay(tmp_path / "model.jsonl")) as model:
        async with _sim(broken, replay_strict=True) as judge:
            first = await arun_task(_task(tmp_path, model, judge), show=False)
        report = first.reports["mt_bench"]
        assert report.metrics["score_turn1"].score == pytest.approx((8 + 9 + 5) / 3)
        assert report.metrics["score_turn1"].ungraded == 1
        assert report.metrics["score_turn2"].score == pytest.approx((7 + 10 + 4) / 3)
        assert report.metrics["score"].score == pytest.approx((8 + 4.5) / 2)
        assert report.metrics["score"].ungraded == 2  # ungraded, not scored low
        rows = _predictions(first.run_dir)
        writing, math = rows["11240001"]["scores"][0], rows["11240002"]["scores"][0]
        assert writing["values"] == {"score": None, "score_turn1": 8.0, "score_turn2": None}
        assert math["values"]["score_turn1"] is None and "no readable rating" in math["explanation"]
        assert writing["metadata"]["judge_errors"] == 1 and math["metadata"]["judge"]["error"]

        async with _sim(fixed) as judge:
            again = await arun_task(_task(tmp_path, model, judge, use_cache=str(first.run_dir)), show=False)
            # The unreadable rating is asked again though it is cached; the failed request is asked again;
            # nothing else: the other six ratings come from the cache.
            assert judge.stats()["requests_total"] == 2
        assert model.stats()["requests_total"] == 8  # no model request on resume
    report = again.reports["mt_bench"]
    assert report.score == pytest.approx(SCORE) and report.metrics["score"].ungraded == 0
    assert report.metrics["score_turn1"].score == pytest.approx(TURN1)


async def test_a_failed_second_turn_leaves_the_question_unanswered_and_resume_asks_it(tmp_path):
    roleplay = _samples()["11240003"].metadata["turns"]
    replay = _model_replay(tmp_path / "model.jsonl")
    full = replay.read_bytes()
    # The model (the simulator in process, strict replay) has no answer to roleplay's second turn: HTTP 404.
    replay.write_bytes(b"".join(line + b"\n" for line in full.splitlines()
                                if orjson.loads(line)["prompt"] != roleplay[1]))
    judge_replay = _jsonl(tmp_path / "judge.jsonl", _judge_rows())
    async with _sim(judge_replay) as judge:
        task = _task(tmp_path, None, judge, eval_type="sim", ignore_errors=True,
                     model_args=sim_args(replay, replay_strict=True))
        first = await arun_task(task, show=False)
        failed = _predictions(first.run_dir)["11240003"]
        assert failed["completions"][0]["error"]["status"] == 404
        assert [t["text"] for t in failed["completions"][0]["turns"]] == [ANSWERS["11240003"][0]]
        assert failed["scores"][0]["values"]["score"] is None
        replay.write_bytes(full)
        again = await arun_task(task.model_copy(update={"use_cache": str(first.run_dir)}), show=False)
        assert judge.stats()["requests_total"] == 8  # the other questions' ratings are not asked again
    assert again.reports["mt_bench"].score == pytest.approx(SCORE)
    assert again.failures.requests == 2  # the failed question's two turns, nothing else


# ---- pairwise --------------------------------------------------------------------------------------------

# Baseline answers to both turns, and the judge's verdicts per turn: (baseline as A, model as A).
BASELINE = {
    "11240001": (("Towns by the sea are nice.", "Lighthouses loom large."), ("A", "A"), ("B", "A")),
    "11240003": (("Beans, sir.", "Eat it or starve."), ("B", "A"), ("C", "A")),
    "11240002": (("It is 54 square cm.", "216 square cm."), ("A", "B"), ("A", "B")),
    "11240004": (("def g(xs): ...", "def g(xs): pass"), ("B", "A"), ("A", "A")),
}
# Model's result per turn, by the consistency rule (1 both orders prefer it, 0 both prefer the baseline, else 0.5):
# writing turn 1: baseline-first says A (the baseline), model-first says A (the model): inconsistent, 0.5; turn 2:
# B then A, the model both times, 1. roleplay: 1, then a tie and a win, 0.5. math: 0, 0. coding: 1, then 0.5.
PAIR_TURN1, PAIR_TURN2 = (0.5 + 1 + 0 + 1) / 4, (1 + 0.5 + 0 + 0.5) / 4
PAIR_SCORE = ((0.5 + 1) / 2 + (1 + 0.5) / 2 + 0 + (1 + 0.5) / 2) / 4
TIES = (1 / 2 + 1 / 2 + 0 + 1 / 2) / 4


def _pair_judge_rows() -> list[dict]:
    rows = []
    for sample_id, ((b1, b2), turn1, turn2) in BASELINE.items():
        a1, a2, *_ = ANSWERS[sample_id]
        rows.append({"prompt_contains": f"[The Start of Assistant A's Answer]\n{b1}\n", "response": f"[[{turn1[0]}]]"})
        rows.append({"prompt_contains": f"[The Start of Assistant A's Answer]\n{a1}\n", "response": f"[[{turn1[1]}]]"})
        rows.append({"prompt_contains": f"### Assistant:\n{b2}\n\n<|The End of Assistant A's",
                     "response": f"So: [[{turn2[0]}]]"})
        rows.append({"prompt_contains": f"### Assistant:\n{a2}\n\n<|The End of Assistant A's",
                     "response": f"So: [[{turn2[1]}]]"})
    return rows


def _check_pairwise(report) -> None:
    assert report.main_metric == "win_rate" and report.score == pytest.approx(PAIR_SCORE)
    assert report.metrics["win_rate_turn1"].score == pytest.approx(PAIR_TURN1)
    assert report.metrics["win_rate_turn2"].score == pytest.approx(PAIR_TURN2)
    assert report.metrics["tie_rate"].score == pytest.approx(TIES)
    assert {s.name: s.metrics["win_rate"].score for s in report.subsets}["math"] == 0.0


async def test_pairwise_against_a_baseline_file(tmp_path):
    answers = _jsonl(tmp_path / "gpt-4.jsonl", [
        {"question_id": int(k), "model_id": "gpt-4", "choices": [{"index": 0, "turns": list(b)}]}
        for k, (b, *_) in BASELINE.items()])
    judge_replay = _jsonl(tmp_path / "judge.jsonl", _pair_judge_rows())
    async with _sim(_model_replay(tmp_path / "model.jsonl")) as model, _sim(judge_replay) as judge:
        task = _task(tmp_path, model, judge, extra_params={"mode": "pairwise", "baseline_answers": str(answers)})
        result = await arun_task(task, show=False)
        assert judge.stats()["requests_total"] == 16  # 4 questions x 2 turns x 2 orders
    _check_pairwise(result.reports["mt_bench"])
    games = _predictions(result.run_dir)["11240001"]["scores"][0]["metadata"]["pairwise"]
    assert [[g["candidate_is_a"] for g in turn] for turn in games] == [[False, True], [False, True]]
    assert "### Assistant:\n" + ANSWERS["11240001"][0] in games[1][1]["prompt"]  # turn 2 shows the conversation


async def test_pairwise_against_a_second_model_that_answers_both_turns(tmp_path):
    samples = _samples()
    baseline_rows = []
    for sample_id, ((b1, b2), *_) in BASELINE.items():
        turns = samples[sample_id].metadata["turns"]
        baseline_rows += [{"prompt": turns[0], "response": b1}, {"prompt": turns[1], "response": b2}]
    baseline_replay = _jsonl(tmp_path / "baseline.jsonl", baseline_rows)
    judge_replay = _jsonl(tmp_path / "judge.jsonl", _pair_judge_rows())
    async with _sim(_model_replay(tmp_path / "model.jsonl")) as model, _sim(judge_replay) as judge, \
            _sim(baseline_replay) as baseline:
        task = _task(tmp_path, model, judge, extra_params={"mode": "pairwise", "baseline_model_args": {
            "model_id": "base-m", "api_url": baseline.base_url, "max_retries": 0}})
        result = await arun_task(task, show=False)
        assert baseline.stats()["requests_total"] == 8
        again = await arun_task(task.model_copy(update={"use_cache": str(result.run_dir)}), show=False)
        assert baseline.stats()["requests_total"] == 8 and judge.stats()["requests_total"] == 16  # all cached
    _check_pairwise(result.reports["mt_bench"])
    assert again.reports["mt_bench"].score == pytest.approx(PAIR_SCORE)
    assert "baseline model base-m" in result.reports["mt_bench"].protocol
    stored = _predictions(result.run_dir)["11240002"]["scores"][0]["metadata"]["baseline"]
    assert stored == list(BASELINE["11240002"][0])


async def test_a_single_run_resumed_in_pairwise_mode_grades_its_stored_answers_again(tmp_path):
    answers = _jsonl(tmp_path / "gpt-4.jsonl", [{"question_id": k, "turns": list(b)} for k, (b, *_) in BASELINE.items()])
    judge_replay = _jsonl(tmp_path / "judge.jsonl", _judge_rows() + _pair_judge_rows())
    async with _sim(_model_replay(tmp_path / "model.jsonl")) as model, _sim(judge_replay) as judge:
        single = await arun_task(_task(tmp_path, model, judge), show=False)
        assert single.reports["mt_bench"].score == pytest.approx(SCORE)
        task = _task(tmp_path, model, judge, use_cache=str(single.run_dir),
                     extra_params={"mode": "pairwise", "baseline_answers": str(answers)})
        pairwise = await arun_task(task, show=False)
        assert model.stats()["requests_total"] == 8 and judge.stats()["requests_total"] == 8 + 16
    _check_pairwise(pairwise.reports["mt_bench"])
