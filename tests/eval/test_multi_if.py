"""multi_if: the fixture's rows (hub schema, both kwargs encodings), the conversation the runner assembles turn by
turn, per-turn grading and the paper's average, and gold/wrong answers end to end with the simulator replaying
one answer per turn."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from assay.errors import DatasetError
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.types import Completion, Message, Sample

from .conftest import FIXTURES, check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(60)

FIXTURE = FIXTURES / "multi_if"
ARGS = {"dataset_id": str(FIXTURE)}

# Per conversation, one answer per turn following every instruction of that turn (cumulative), and one
# following none of them (loose variants included).
GOLD = {
    "1001:1:en": ["The sea is wide and Blue\nIt sings to me all night",
                  "the sea is wide and blue\nit sings to me all night",
                  "the sea is wide and blue\nit sings to me all night\nthat is all."],
    "1002:1:fr": ["Paris est une belle ville. La tour Eiffel est très haute.",
                  "<<Paris>>\nParis est une belle ville. La tour Eiffel est très haute.",
                  "<<Paris>>\nParis est une belle ville de France. La tour Eiffel est très haute et elle "
                  "brille chaque soir."],
    "1003:1:en": ["* apple\n* banana\n* cherry", "\"\n* apple\n* banana\n* cherry\n\""],
    # Counted as Multi-IF counts Chinese: each ideograph a word, sentences split after 。 (IFEval's English
    # counts would find 1 word-run and 1 sentence here).
    "1004:1:zh": ["我每天早上都喜欢喝一杯热茶，因为它让我感到平静和快乐。",
                  "我每天早上都喜欢喝一杯热茶。它让我感到平静和快乐。",
                  "我每天早上都喜欢喝一杯热茶。它让我感到平静和快乐。"],
}
BAD = {
    "1001:1:en": ["The sea, the sea, the sea", "THE SEA, THE SEA", "THE SEA, SO BLUE, GOODBYE"],
    "1002:1:fr": ["Paris is a city.", "Paris is a city.", "Paris is a big city in Europe with many people."],
    "1003:1:en": ["apple, banana", "apple, banana"],
    "1004:1:zh": ["茶。", "茶,好。", "茶,好"],
}


def _benchmark(**args: object):
    return get_benchmark("multi_if")(DatasetArgs(**{**ARGS, **args}))  # type: ignore[arg-type]


def _samples(**args: object) -> list[Sample]:
    return load_samples("multi_if", **{**ARGS, **args})


def test_golden_prompt():
    check_golden("multi_if")


def test_rows_parse_into_turns_with_languages_as_subsets():
    samples = {s.id: s for s in _samples()}
    assert set(samples) == set(GOLD)
    english, french, two = samples["1001:1:en"], samples["1002:1:fr"], samples["1003:1:en"]
    assert english.subset == "English" and french.subset == "French"
    assert len(english.metadata["turns"]) == 3 and len(two.metadata["turns"]) == 2  # empty turn_3_prompt: 2 turns
    # Double-encoded kwargs (the hub CSV) and decoded ones read alike; the instruction lists accumulate.
    assert english.metadata["turns"][2]["kwargs"] == [{}, {}, {"end_phrase": "that is all."}]
    assert two.metadata["turns"][0]["kwargs"] == [{"num_bullets": 3}]
    assert french.metadata["turns"][1]["instruction_id_list"] == ["keywords:existence", "detectable_format:title"]
    assert [m.model_dump() for m in english.messages or []] == \
        [Message.user("Write a short poem about the sea. Do not use any commas.").model_dump()]


def test_max_turns_cuts_the_conversation():
    samples = _samples(extra_params={"max_turns": 1})
    assert all(len(s.metadata["turns"]) == 1 for s in samples)


def test_a_bad_row_fails_at_load():
    benchmark = _benchmark()
    row = {"key": "k", "language": "English", "turn_1_prompt": '{"role": "user", "content": "Hi"}',
           "turn_1_instruction_id_list": '["punctuation:no_comma", "keywords:existence"]', "turn_1_kwargs": '["{}"]'}
    with pytest.raises(DatasetError, match="one kwargs per instruction"):
        benchmark.sample(row, "English", 0)
    with pytest.raises(DatasetError, match="unknown IFEval instruction"):
        benchmark.sample({**row, "turn_1_instruction_id_list": '["no:such"]'}, "English", 0)


def test_next_turn_sends_the_earlier_prompts_and_the_models_own_answers():
    benchmark = _benchmark()
    sample = next(s for s in _samples() if s.id == "1001:1:en")
    prompts = [t["prompt"] for t in sample.metadata["turns"]]
    history = [*(sample.messages or []), Message.assistant("first answer")]
    second = benchmark.next_turn(sample, history)
    assert [(m.role, m.text()) for m in second or []] == \
        [("user", prompts[0]), ("assistant", "first answer"), ("user", prompts[1])]
    third = benchmark.next_turn(sample, [*(second or []), Message.assistant("second answer")])
    assert [(m.role, m.text()) for m in third or []][-2:] == [("assistant", "second answer"), ("user", prompts[2])]
    assert benchmark.next_turn(sample, [*(third or []), Message.assistant("third")]) is None


class _Recorder:
    """A model that answers "answer <n>" and records every conversation it was sent."""

    def __init__(self) -> None:
        self.sent: list[list[tuple[str, str]]] = []

    async def generate(self, messages, generation):
        self.sent.append([(m.role, m.text()) for m in messages])
        return Completion(text=f"answer {len(self.sent)}")


def test_the_runner_drives_every_turn_and_keeps_each_answer(tmp_path):
    from assay.client.failures import FailureTally
    from assay.data import DatasetLoader
    from assay.eval.runner import _Pool

    benchmark = _benchmark(system_prompt="Be brief.")
    sample = next(s for s in benchmark.load(DatasetLoader(hub="local")) if s.id == "1001:1:en")
    model = _Recorder()
    pool = _Pool(TaskConfig(model="m", eval_type="sim"), model, None, None, FailureTally())  # type: ignore[arg-type]
    completion, score = asyncio.run(pool.answer(benchmark, sample, 0))
    prompts = [t["prompt"] for t in sample.metadata["turns"]]
    assert model.sent == [
        [("system", "Be brief."), ("user", prompts[0])],
        [("system", "Be brief."), ("user", prompts[0]), ("assistant", "answer 1"), ("user", prompts[1])],
        [("system", "Be brief."), ("user", prompts[0]), ("assistant", "answer 1"), ("user", prompts[1]),
         ("assistant", "answer 2"), ("user", prompts[2])],
    ]
    assert completion.text == "answer 3" and [t.text for t in completion.turns] == ["answer 1", "answer 2"]
    assert pool.failures.requests == 3
    assert score.values["turn_1_prompt_level_strict_acc"] == 1.0  # "answer 1" has no comma
    assert score.values["turn_3_instructions"] == 3.0
    assert score.values["turn_3_prompt_level_strict_acc"] == 0.0  # no "that is all."


def test_a_failed_turn_ends_the_conversation_ungraded(tmp_path):
    from assay.client.failures import FailureTally
    from assay.data import DatasetLoader
    from assay.eval.runner import _Pool
    from assay.types.completion import ErrorInfo

    class FailsSecond(_Recorder):
        async def generate(self, messages, generation):
            completion = await super().generate(messages, generation)
            if len(self.sent) == 2:
                return Completion(error=ErrorInfo(kind="http_status", status=500, message="boom"))
            return completion

    benchmark = _benchmark()
    sample = next(s for s in benchmark.load(DatasetLoader(hub="local")) if s.id == "1001:1:en")
    model = FailsSecond()
    pool = _Pool(TaskConfig(model="m", eval_type="sim"), model, None, None, FailureTally())  # type: ignore[arg-type]
    completion, score = asyncio.run(pool.answer(benchmark, sample, 0))
    assert len(model.sent) == 2 and completion.error is not None and [t.text for t in completion.turns] == ["answer 1"]
    assert not score.graded and pool.failures.total == 1  # asked again on resume, as any failed request


def test_each_turn_is_graded_against_its_own_instructions():
    benchmark = _benchmark()
    sample = next(s for s in _samples() if s.id == "1001:1:en")
    score = benchmark.score_turns(sample, ["calm sea\nno commas here", "Calm Sea", "calm sea\nthat is all."])
    assert score.values["turn_1_prompt_level_strict_acc"] == 1.0
    assert score.values["turn_2_prompt_level_strict_acc"] == 0.0  # capitals
    assert score.values["turn_2_inst_level_strict_acc"] == 0.5
    assert score.values["turn_3_inst_level_strict_acc"] == 1.0
    assert score.metadata["weights"]["turn_3_inst_level_loose_acc"] == 3
    partial = benchmark.score_turns(sample, ["calm sea"])  # a conversation cut short: later turns ungraded
    assert partial.values["turn_2_prompt_level_strict_acc"] is None


def test_the_average_pools_instructions_and_averages_turns():
    from assay.eval.benchmarks.multi_if import derived_metrics

    # Two conversations: turn 1 all followed by one (1 instruction) and not the other (3 instructions).
    values = {f"turn_{t}_{m}": [None, None] for t in (1, 2, 3) for m in
              ("prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc")}
    values.update({f"turn_{t}_instructions": [None, None] for t in (1, 2, 3)})
    values.update({"turn_1_prompt_level_strict_acc": [1.0, 0.0], "turn_1_prompt_level_loose_acc": [1.0, 0.0],
                   "turn_1_inst_level_strict_acc": [1.0, 0.0], "turn_1_inst_level_loose_acc": [1.0, 1 / 3],
                   "turn_1_instructions": [1.0, 3.0]})
    values.update({"turn_2_prompt_level_strict_acc": [1.0, None], "turn_2_prompt_level_loose_acc": [1.0, None],
                   "turn_2_inst_level_strict_acc": [1.0, None], "turn_2_inst_level_loose_acc": [1.0, None],
                   "turn_2_instructions": [2.0, None]})
    out = derived_metrics(values)
    turn_1 = (0.5 + 0.5 + 1 / 4 + 2 / 4) / 4
    assert out["turn_1_avg_acc"].score == pytest.approx(turn_1)
    assert out["turn_2_avg_acc"].score == 1.0 and out["turn_3_avg_acc"].score is None
    assert out["avg_acc"].score == pytest.approx((turn_1 + 1.0) / 2)


def test_word_and_sentence_counts_follow_the_answers_language():
    from assay.eval.scoring.ifeval import build_instruction, count_sentences, count_words
    from assay.eval.scoring.ifeval_multilingual import (
        build_multilingual,
        count_sentences_multilingual,
        count_words_multilingual,
    )

    chinese = "我每天早上都喜欢喝一杯热茶。它让我感到平静和快乐。"
    assert (count_words(chinese), count_sentences(chinese)) == (2, 1)  # IFEval's English counts
    assert (count_words_multilingual(chinese), count_sentences_multilingual(chinese)) == (23, 2)
    # Ideographs and kana are words one by one, other runs by whitespace, punctuation of both scripts dropped.
    mixed = "こんにちは、ジェイソンさん、Jason? Nice to meet you"
    assert count_words_multilingual("これは日本語の文章です。" + mixed) == 11 + 17
    assert count_sentences_multilingual("मैं चाय पीता हूँ। क्या आप भी पीते हैं? बहुत अच्छा!") == 3
    english = "I like tea. It is calm."
    assert (count_words_multilingual(english), count_sentences_multilingual(english)) == (6, 2)
    at_least_20 = {"relation": "at least", "num_words": 20}
    assert build_multilingual("length_constraints:number_words", at_least_20).check(chinese)
    assert not build_instruction("length_constraints:number_words", at_least_20).check(chinese)
    with pytest.raises(DatasetError, match="relation"):
        build_multilingual("length_constraints:number_sentences", {"relation": "about", "num_sentences": 2})


def test_a_stored_conversation_is_regraded_from_every_turn():
    benchmark = _benchmark()
    sample = next(s for s in _samples() if s.id == "1001:1:en")
    answers = GOLD["1001:1:en"]
    completion = Completion(text=answers[2], turns=[Completion(text=answers[0]), Completion(text=answers[1])])
    score = asyncio.run(benchmark.ascore_completion(sample, completion, answers[2], None))
    assert score.values == benchmark.score_turns(sample, answers).values
    assert all(score.values[f"turn_{t}_prompt_level_strict_acc"] == 1.0 for t in (1, 2, 3))


def _replay(tmp_path, answers: dict[str, list[str]]):
    """One replay entry per turn, keyed by that turn's prompt (the last user message the simulator sees)."""
    path = tmp_path / "replay.jsonl"
    with path.open("wb") as handle:
        for sample in _samples():
            for turn, answer in zip(sample.metadata["turns"], answers[sample.id]):
                handle.write(orjson.dumps({"prompt": turn["prompt"], "response": answer}) + b"\n")
    return path


@pytest.mark.parametrize("answers,expected", [(GOLD, 1.0), (BAD, 0.0)], ids=["gold", "wrong"])
def test_end_to_end_with_the_simulator(tmp_path, answers, expected):
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(_replay(tmp_path, answers)),
                      datasets=["multi_if"], dataset_args={"multi_if": ARGS}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=2)
    report = run_task(task, show=False).reports["multi_if"]
    assert report.num == 4 and report.failed_samples == 0
    assert report.main_metric == "avg_acc" and report.score == expected
    for turn in (1, 2, 3):
        for metric in ("prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc",
                       "inst_level_loose_acc", "avg_acc"):
            stat = report.metrics[f"turn_{turn}_{metric}"]
            assert stat.score == expected, (turn, metric)
            assert stat.ungraded == 0
    assert report.metrics["turn_3_prompt_level_strict_acc"].num == 3  # the two-turn conversation has no turn 3
    assert {s.name for s in report.subsets} == {"English", "French", "Chinese"}
    # Every turn's answer is stored, so a resumed run can re-grade whole conversations.
    line = orjson.loads(next((tmp_path / "out").glob("*/predictions/multi_if.jsonl")).read_bytes().splitlines()[0])
    assert len(line["completions"][0]["turns"]) == len(answers[line["sample"]["id"]]) - 1
