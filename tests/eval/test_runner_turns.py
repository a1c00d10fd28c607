"""The runner's multi-turn hook: a benchmark with ``next_turn`` is asked turn by turn, each turn after the
model's own answers, and the earlier answers are stored with the last one (``Completion.turns``).

A recording model stands in for the server, so the exact messages of every request are checked.
"""

from __future__ import annotations

from typing import Any

import pytest

from assay.client.failures import FailureTally
from assay.eval import TaskConfig
from assay.eval.benchmarks.base import Benchmark
from assay.eval.runner import _Pool
from assay.eval.store import RunStore
from assay.types import Completion, GenerationConfig, Message, Sample, SampleResult, Score
from assay.types.completion import ErrorInfo

pytestmark = pytest.mark.timeout(30)


class Conversation(Benchmark):
    """Not registered: a benchmark whose samples are several user turns, scored by the answers it got."""

    name = "conversation_test"

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        return Sample(id=str(index), metadata={"turns": row["turns"]})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.system("Be brief."), Message.user(sample.metadata["turns"][0])]

    def next_turn(self, sample: Sample, history: list[Message]) -> list[Message] | None:
        turn = sum(message.role == "assistant" for message in history)
        turns = sample.metadata["turns"]
        return [*history, Message.user(turns[turn])] if turn < len(turns) else None

    async def ascore_completion(self, sample: Sample, completion: Completion, answer: str, judge: Any) -> Score:
        turns = [c.text for c in completion.turns] + [answer]
        return Score(values={"acc": float(len(turns) == len(sample.metadata["turns"]))}, extracted=turns)


class Recorder:
    """A model that answers ``answer <n>`` (or fails on the prompts in ``failing``) and keeps every request."""

    name = "recorder"

    def __init__(self, failing: set[str] = frozenset()) -> None:
        self.requests: list[list[tuple[str, str]]] = []
        self.failing = failing

    async def generate(self, messages: list[Message], generation: GenerationConfig) -> Completion:
        self.requests.append([(m.role, m.text()) for m in messages])
        if messages[-1].text() in self.failing:
            return Completion(error=ErrorInfo(kind="http_status", status=500, message="HTTP 500"))
        return Completion(text=f"answer {len(self.requests)}", reasoning="hidden thoughts", finish_reason="stop")


def _pool(tmp_path, model: Recorder) -> tuple[_Pool, FailureTally]:
    task = TaskConfig(model="m", api_url="http://127.0.0.1:9/v1", datasets=["gsm8k"], work_dir=str(tmp_path),
                      max_retries=0, ignore_errors=True)
    failures = FailureTally()
    return _Pool(task, model, RunStore.create(tmp_path, "m"), None, failures), failures  # type: ignore[arg-type]


def _sample(bench: Benchmark, turns: list[str]) -> Sample:
    sample = bench.sample({"turns": turns}, "default", 0)
    sample.messages = bench.render(sample, [])
    return sample


async def test_each_turn_follows_the_models_own_answers(tmp_path):
    bench, model = Conversation(), Recorder()
    pool, failures = _pool(tmp_path, model)
    completion, score = await pool.answer(bench, _sample(bench, ["one?", "two?", "three?"]), 0)
    assert model.requests == [
        [("system", "Be brief."), ("user", "one?")],
        [("system", "Be brief."), ("user", "one?"), ("assistant", "answer 1"), ("user", "two?")],
        [("system", "Be brief."), ("user", "one?"), ("assistant", "answer 1"), ("user", "two?"),
         ("assistant", "answer 2"), ("user", "three?")],
    ]  # the answer's text only: its reasoning is not sent back
    assert completion.text == "answer 3" and [c.text for c in completion.turns] == ["answer 1", "answer 2"]
    assert score.extracted == ["answer 1", "answer 2", "answer 3"] and score.values["acc"] == 1.0
    assert failures.requests == 3


async def test_a_failed_turn_ends_the_conversation_unscored(tmp_path):
    bench, model = Conversation(), Recorder(failing={"two?"})
    pool, failures = _pool(tmp_path, model)
    completion, score = await pool.answer(bench, _sample(bench, ["one?", "two?", "three?"]), 0)
    assert len(model.requests) == 2  # turn 3 is never asked
    assert completion.error is not None and [c.text for c in completion.turns] == ["answer 1"]
    assert score.values == {"acc": None} and "request failed" in (score.explanation or "")
    assert failures.requests == 2 and failures.total == 1


async def test_one_turn_samples_are_asked_and_stored_as_before(tmp_path):
    bench, model = Conversation(), Recorder()
    pool, _ = _pool(tmp_path, model)
    completion, _ = await pool.answer(bench, _sample(bench, ["only?"]), 0)
    assert len(model.requests) == 1 and completion.turns == []
    assert "turns" not in completion.model_dump(mode="json")  # one-turn predictions are unchanged


async def test_stored_turns_are_read_back_and_regraded_without_asking(tmp_path):
    bench, model = Conversation(), Recorder()
    pool, _ = _pool(tmp_path, model)
    sample = _sample(bench, ["one?", "two?"])
    result = await pool.evaluate(bench, sample)
    pool.store.append(bench.name, result)
    pool.store.close()
    stored = pool.store.load_results(bench.name)["0"]  # read back from the predictions file
    assert isinstance(stored, SampleResult) and stored.completions[0].turns[0].text == "answer 1"
    regraded = await pool.regrade(bench, stored)
    assert regraded.scores[0].extracted == ["answer 1", "answer 2"] and len(model.requests) == 2


def test_a_benchmark_without_next_turn_asks_one_turn():
    class OneTurn(Conversation):
        next_turn = Benchmark.next_turn

    bench = OneTurn()
    assert bench.next_turn(_sample(bench, ["a", "b"]), [Message.user("a"), Message.assistant("x")]) is None
