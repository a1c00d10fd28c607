"""Pairwise judging end to end: the model, the judge (and a baseline model) are simulators in replay mode.

Every judge verdict is known, so every metric is computed by hand below: a position-swap inconsistency is a
tie, a reply with no label is a judge error (ungraded, not a loss), decisive verdicts weigh three battles in
the Arena-Hard score, and AlpacaEval's length-controlled win rate follows from its GLM.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pytest

from assay.errors import ConfigError
from assay.eval import TaskConfig
from assay.eval.runner import arun_task
from assay.eval.scoring.pairwise import length_controlled_winrate, length_glm
from assay.sim import SimConfig, SimServer

pytestmark = pytest.mark.timeout(60)

A_START = "<|The Start of Assistant A's Answer|>\n"


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def _sim(replay: Path) -> SimServer:
    return SimServer(SimConfig(port=0, replay_path=replay, latency_model="fixed", ttft_ms=0, itl_ms=0, seed=1))


# (question, baseline answer, candidate answer, judge label with the baseline as A, with the candidate as A)
ARENA = [
    ("Write a haiku about rain.", "Rain falls on the roof.", "Soft rain on tin roofs / a hush.", "B>>A", "A>B"),
    ("Explain TCP slow start.", "It grows the window.", "Exponential cwnd growth until ssthresh.", "A>B", "A>B"),
    ("Sort [3,1,2] in Python.", "sorted([3,1,2])", "Use a loop, maybe.", "A=B", "B>>A"),
    ("Name a prime above 100.", "101 is prime.", "103 is prime.", None, "A>B"),
    ("What is 17*23?", "391", "17*23 is 400.", "A>>B", "B>A"),
]


def _reply(label: str | None) -> str:
    return "I compared both carefully. My verdict has no label." if label is None else \
        f"My own answer first... Final verdict: [[{label}]]"


def _arena_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    data = _jsonl(tmp_path / "arena.jsonl", [{"question": q, "prediction": b, "capability": "hard"}
                                              for q, b, *_ in ARENA])
    model = _jsonl(tmp_path / "model.jsonl", [{"prompt": q, "response": c} for q, _, c, *_ in ARENA])
    judge_rows = []
    for _, baseline, candidate, baseline_first, candidate_first in ARENA:
        judge_rows.append({"prompt_contains": f"{A_START}{baseline}\n", "response": _reply(baseline_first)})
        judge_rows.append({"prompt_contains": f"{A_START}{candidate}\n", "response": _reply(candidate_first)})
    judge = _jsonl(tmp_path / "judge.jsonl", judge_rows)
    return data, model, judge


def _task(tmp_path: Path, model: SimServer, judge: SimServer, dataset: str, data: Path, **extra) -> TaskConfig:
    dataset_args = {dataset: {"dataset_id": str(data), **extra.pop("dataset_extra", {})}}
    return TaskConfig(model="m", api_url=model.base_url, datasets=[dataset], dataset_args=dataset_args,
                      work_dir=str(tmp_path / "out"), max_retries=0,
                      judge_model_args={"model_id": "judge-m", "api_url": judge.base_url, "max_retries": 0}, **extra)


def _predictions(run_dir: Path, benchmark: str) -> list[dict]:
    return [orjson.loads(line) for line in (run_dir / "predictions" / f"{benchmark}.jsonl").read_bytes().splitlines()]


async def test_arena_hard_scores_equal_the_hand_computed_ones(tmp_path):
    data, model_replay, judge_replay = _arena_files(tmp_path)
    async with _sim(model_replay) as model, _sim(judge_replay) as judge:
        result = await arun_task(_task(tmp_path, model, judge, "arena_hard", data), show=False)
    report = result.reports["arena_hard"]
    # Pairs: win (both orders prefer the candidate), tie (the orders disagree), tie (a tie and a loss),
    # ungraded (no label), loss.
    pair = report.metrics["pair_winrate"]
    assert pair.score == pytest.approx((1 + 0.5 + 0.5 + 0) / 4)
    assert (pair.num, pair.ungraded) == (4, 1)
    # Arena-Hard battles, candidate's result x weight: (1x3, 1x1), (0x1, 1x1), (0.5x1, 0x3), (0x3, 0x1).
    winrate = report.metrics["winrate"]
    assert winrate.score == pytest.approx(5.5 / 14)
    assert report.main_metric == "winrate" and report.score == pytest.approx(5.5 / 14)
    assert winrate.ci95 is not None and winrate.ci95[0] <= winrate.score <= winrate.ci95[1]
    rows = {row["sample"]["metadata"]["question"]: row["scores"][0] for row in _predictions(result.run_dir,
                                                                                             "arena_hard")}
    inconsistent = rows["Explain TCP slow start."]
    assert inconsistent["values"]["pair_winrate"] == 0.5 and inconsistent["metadata"]["consistent"] is False
    assert "disagree" in inconsistent["explanation"]
    games = rows["Write a haiku about rain."]["metadata"]["pairwise"]
    assert [(g["candidate_is_a"], g["label"], g["outcome"]) for g in games] == [(False, "B>>A", 2), (True, "A>B", 1)]
    assert rows["Name a prime above 100."]["metadata"]["judge_errors"] == 1
    assert rows["Name a prime above 100."]["values"] == {"winrate": None, "pair_winrate": None}
    report_file = orjson.loads((result.run_dir / "reports" / "arena_hard.json").read_bytes())
    assert report_file["metrics"]["winrate"]["score"] == pytest.approx(5.5 / 14)


async def test_both_orders_are_asked_once_and_a_resumed_run_asks_nothing(tmp_path):
    data, model_replay, judge_replay = _arena_files(tmp_path)
    async with _sim(model_replay) as model, _sim(judge_replay) as judge:
        first = await arun_task(_task(tmp_path, model, judge, "arena_hard", data), show=False)
        assert judge.stats()["requests_total"] == 10  # 5 pairs, 2 orders each
        again = await arun_task(_task(tmp_path, model, judge, "arena_hard", data, use_cache=str(first.run_dir)),
                                show=False)
        assert judge.stats()["requests_total"] == 10 and model.stats()["requests_total"] == 5
    assert again.reports["arena_hard"].score == first.reports["arena_hard"].score


async def test_a_second_model_answers_as_the_baseline(tmp_path):
    data, model_replay, judge_replay = _arena_files(tmp_path)
    # The baseline model gives the same baseline answers as the dataset's, so the scores are the same.
    baseline_replay = _jsonl(tmp_path / "baseline.jsonl", [{"prompt": q, "response": b} for q, b, *_ in ARENA])
    rows_without_baseline = _jsonl(tmp_path / "questions.jsonl", [{"question_id": f"q{i}", "turns": [{"content": q}]}
                                                                  for i, (q, *_) in enumerate(ARENA)])
    async with _sim(model_replay) as model, _sim(judge_replay) as judge, _sim(baseline_replay) as baseline:
        task = _task(tmp_path, model, judge, "arena_hard", rows_without_baseline, dataset_extra={"extra_params": {
            "baseline_model_args": {"model_id": "base-m", "api_url": baseline.base_url, "max_retries": 0}}})
        result = await arun_task(task, show=False)
    report = result.reports["arena_hard"]
    assert report.score == pytest.approx(5.5 / 14)
    assert "baseline model base-m" in report.protocol
    scored = _predictions(result.run_dir, "arena_hard")
    assert {row["sample"]["id"] for row in scored} == {f"q{i}" for i in range(5)}
    assert scored[0]["scores"][0]["metadata"]["baseline"] in {b for _, b, *_ in ARENA}


async def test_a_baseline_models_key_reaches_no_file_of_the_run(tmp_path):
    """Its api_key sat in clear in manifest.json's fingerprint and config.yaml (a benchmark's extra_params)."""
    data, model_replay, judge_replay = _arena_files(tmp_path)
    baseline_replay = _jsonl(tmp_path / "baseline.jsonl", [{"prompt": q, "response": b} for q, b, *_ in ARENA])
    rows = _jsonl(tmp_path / "questions.jsonl", [{"question_id": f"q{i}", "turns": [{"content": q}]}
                                                 for i, (q, *_) in enumerate(ARENA)])
    async with _sim(model_replay) as model, _sim(judge_replay) as judge, _sim(baseline_replay) as baseline:
        url = baseline.base_url.replace("http://", "http://user:pw-SECRET-2@") + "?key=SECRET-3"
        args = {"model_id": "base-m", "api_url": url, "api_key": "sk-SECRET-1", "max_retries": 0}
        task = _task(tmp_path, model, judge, "arena_hard", rows, dataset_extra={"extra_params": {
            "baseline_model_args": args}})
        first = await arun_task(task, show=False)
        again = await arun_task(_task(tmp_path, model, judge, "arena_hard", rows, use_cache=str(first.run_dir),
                                      dataset_extra={"extra_params": {"baseline_model_args": args}}), show=False)
    assert again.reports["arena_hard"].score == first.reports["arena_hard"].score  # resumes: keys compare scrubbed
    for path in first.run_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "SECRET" not in text, path.relative_to(first.run_dir)


async def test_baseline_answers_from_an_arena_hard_answer_file(tmp_path):
    data, model_replay, judge_replay = _arena_files(tmp_path)
    questions = _jsonl(tmp_path / "questions.jsonl", [{"question_id": f"q{i}", "turns": [{"content": q}]}
                                                      for i, (q, *_) in enumerate(ARENA)])
    answers = _jsonl(tmp_path / "gpt-4-0314.jsonl", [
        {"question_id": f"q{i}", "model_id": "gpt-4-0314", "choices": [{"index": 0, "turns": [{"content": b}]}]}
        for i, (_, b, *_) in enumerate(ARENA)])
    async with _sim(model_replay) as model, _sim(judge_replay) as judge:
        task = _task(tmp_path, model, judge, "arena_hard", questions,
                     dataset_extra={"extra_params": {"baseline_answers": str(answers)}})
        result = await arun_task(task, show=False)
    assert result.reports["arena_hard"].score == pytest.approx(5.5 / 14)


async def test_pairwise_benchmarks_refuse_to_run_without_a_judge(tmp_path):
    data, model_replay, _ = _arena_files(tmp_path)
    async with _sim(model_replay) as model:
        task = TaskConfig(model="m", api_url=model.base_url, datasets=["arena_hard"],
                          dataset_args={"arena_hard": {"dataset_id": str(data)}}, work_dir=str(tmp_path / "out"))
        with pytest.raises(ConfigError, match="arena_hard with judge_strategy auto needs judge_model_args"):
            await arun_task(task, show=False)
        ruled = task.model_copy(update={"judge_strategy": "rule"})
        with pytest.raises(ConfigError, match="graded only by a pairwise LLM judge"):
            await arun_task(ruled, show=False)


ALPACA = [  # instruction, baseline output, candidate output, verdict with the baseline as A, with the candidate as A
    ("Give me a synonym for happy.", "Joyful.", "Cheerful, glad, content, joyful and elated are all good.", "B", "A"),
    ("What is the boiling point of water?", "100 C at sea level.", "It is 100 degrees Celsius at sea level.", "B", "A"),
    ("Translate 'cat' to French.", "Chat.", "Le chat, a masculine noun.", "A", "A"),
    ("Suggest a name for a dog.", "Rex.", "Biscuit.", "A", "B"),
]


async def test_alpaca_eval_raw_and_length_controlled_win_rates(tmp_path):
    data = _jsonl(tmp_path / "alpaca.jsonl", [{"instruction": q, "output": b, "generator": "gpt4_turbo",
                                               "dataset": "helpful_base"} for q, b, *_ in ALPACA])
    model_replay = _jsonl(tmp_path / "model.jsonl", [{"prompt": q, "response": c} for q, _, c, *_ in ALPACA])
    judge_rows = []
    for _, baseline, candidate, baseline_first, candidate_first in ALPACA:
        judge_rows.append({"prompt_contains": f"## Output A\n\n{baseline}\n", "response": f"Fine. [[{baseline_first}]]"})
        judge_rows.append({"prompt_contains": f"## Output A\n\n{candidate}\n", "response": f"Ok. [[{candidate_first}]]"})
    judge_replay = _jsonl(tmp_path / "judge.jsonl", judge_rows)
    async with _sim(model_replay) as model, _sim(judge_replay) as judge:
        result = await arun_task(_task(tmp_path, model, judge, "alpaca_eval", data), show=False)
    report = result.reports["alpaca_eval"]
    # Pairs: win, win, tie (the orders disagree), loss.
    preferences = [1.0, 1.0, 0.5, 0.0]
    assert report.metrics["win_rate"].score == pytest.approx(sum(preferences) / 4)
    lengths = [(len(c), len(b)) for _, b, c, *_ in ALPACA]
    expected = length_controlled_winrate(preferences, [c for c, _ in lengths], [b for _, b in lengths])
    assert report.main_metric == "lc_win_rate" and report.score == pytest.approx(expected)
    # Longer answers won here, so controlling for length lowers the win rate.
    assert expected < report.metrics["win_rate"].score


def test_the_length_controlled_glm_by_hand():
    # No length difference: the GLM is a plain intercept, and its prediction is the raw win rate.
    assert length_controlled_winrate([1, 0, 1, 1], [10, 10, 10, 10], [10, 10, 10, 10]) == pytest.approx(0.75)
    # The preference follows length exactly: all the advantage is length, and at equal length it is ~50%.
    lc = length_controlled_winrate([1, 0, 1, 0, 0.5, 0.5], [200, 50, 220, 40, 100, 100], [100] * 6)
    assert lc == pytest.approx(0.5, abs=0.05)
    # The fit is the maximum-likelihood one: the score equations X'(p - y) = 0 hold, and with no other term
    # the controlled win rate is the logistic of the intercept.
    prefs, cand, base = [1, 1, 0, 1, 0, 1, 0.5, 0], [90, 130, 80, 150, 60, 110, 100, 70], [100] * 8
    features, weights = length_glm(prefs, cand, base)
    fitted = 1 / (1 + np.exp(-features @ weights))
    assert np.abs(features.T @ (fitted - np.array(prefs))).max() < 1e-4  # up to the 1e-6 ridge
    assert length_controlled_winrate(prefs, cand, base) == pytest.approx(1 / (1 + math.exp(-weights[0])))
    assert weights[1] > 0  # longer answers were preferred here
