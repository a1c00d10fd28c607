"""The ifeval benchmark: the real 541 prompts load, the fixture's rows (hub schema), and end to end with the
simulator replaying compliant and non-compliant answers."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from assay.data import DatasetLoader
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.eval.scoring.ifeval import INSTRUCTIONS, build_instruction, grade_response
from assay.types import Sample

pytestmark = pytest.mark.timeout(40)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ifeval"
METRICS = ("prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc")

# Fixture key → an answer following every instruction of the prompt, and one following none of them (the bad
# ones also fail every loose variant).
GOLD = {
    "1": "Green tea comes from the leaf of the tea plant. It tastes calm and fresh.",
    "2": "<<The Moon>>\nThe moon circles the Earth every month. It shines with borrowed light. "
         "Is there anything else I can help with?",
    "3": "पानी एक पारदर्शी तरल है जो जीवन के लिए बहुत ज़रूरी है। हम इसे रोज़ पीते हैं।",
    "4": "\"\n* cats sleep for most of the day and night\n* cats purr when they are happy and calm\n"
         "* cats like to climb trees and tall shelves\n\"",
    "5": "```json\n{\"greeting\": \"Happy birthday, [name]!\", \"from\": \"[sender]\"}\n```",
    "6": "Soft rain on the roof\nwhispers to the sleeping town\npuddles hold the sky\n******\n"
         "Grey clouds drift away\nthe garden drinks every drop\nworms dance in the mud\nP.S. I love rainy days.",
    "7": "A lazy zebra dozed in the sun by the river.\n\nSuddenly a *buzzing bee* woke the zebra up.",
    "8": "WRITE A LIMERICK ABOUT A CAT.\nTHERE ONCE WAS A CAT FROM THE HILL\nWHO SAT ON THE WARM WINDOW SILL\n"
         "THE CAT WATCHED THE BIRDS\nWITHOUT ANY WORDS\nAND IS PROBABLY SITTING THERE STILL.",
    "9": "SECTION 1\nTrees give us shade and clean air.\n***\nSECTION 2\nMaple leaves turn red in autumn.",
    "10": "My answer is yes.",
}
BAD = {
    "1": "Tea is warm, brown and sweet.",
    "2": "The moon.",
    "3": "Water is a clear liquid that every living thing needs to survive.",
    "4": "Cats: - Soft. - Loud.",
    "5": "Dear friend, happy birthday.",
    "6": "Rain falls all day.",
    "7": "A short story without that letter.",
    "8": "here is a poem for you.",
    "9": "Oak and pine are GREAT AND TALL AND OLD trees " + "and they grow " * 20,
    "10": "Yes, it is.",
}


def _benchmark(**args: object):
    return get_benchmark("ifeval")(DatasetArgs(**args))  # type: ignore[arg-type]


def _fixture_samples() -> list[Sample]:
    return _benchmark(dataset_id=str(FIXTURE)).load(DatasetLoader(hub="local"))


@pytest.fixture
def ifeval_data(shared_data: Path) -> Path:
    path = shared_data / "ifeval" / "input_data.jsonl"
    if not path.is_file():
        pytest.skip(f"the real IFEval prompts ({path}) are not on this machine")
    return path


def test_every_instruction_of_the_541_real_prompts_builds_from_its_kwargs(ifeval_data):
    rows = [orjson.loads(line) for line in ifeval_data.read_bytes().splitlines() if line.strip()]
    assert len(rows) == 541
    seen: set[str] = set()
    for row in rows:
        for instruction_id, kwargs in zip(row["instruction_id_list"], row["kwargs"], strict=True):
            build_instruction(instruction_id, kwargs)
            seen.add(instruction_id)
    assert seen == set(INSTRUCTIONS)


def test_the_541_real_prompts_load_as_samples_and_grade(ifeval_data):
    samples = _benchmark(dataset_id=str(ifeval_data)).load(DatasetLoader(hub="local"))
    assert len(samples) == 541 and len({s.id for s in samples}) == 541
    assert sum(len(s.metadata["instruction_id_list"]) for s in samples) == 834
    for sample in samples[:60]:  # grading runs every checker on real kwargs; a slice keeps this fast
        grade_response("A plain answer.", sample.metadata["instruction_id_list"], sample.metadata["kwargs"])


def test_fixture_rows_in_the_hub_schema_become_samples():
    samples = _fixture_samples()
    assert [s.id for s in samples] == [str(k) for k in range(1, 11)]
    covered = {i for s in samples for i in s.metadata["instruction_id_list"]}
    assert covered == set(INSTRUCTIONS)  # the fixture exercises all 25 types end to end
    first = samples[0]
    assert first.metadata["kwargs"] == [{}, {"keywords": ["green", "leaf"]}]  # hub None values dropped
    [message] = first.messages or []
    assert message.role == "user" and message.text() == first.metadata["question"]


@pytest.mark.parametrize("answers,expected", [(GOLD, 1.0), (BAD, 0.0)], ids=["gold", "bad"])
def test_fixture_answers_score_exactly(answers, expected):
    benchmark = _benchmark()
    for sample in _fixture_samples():
        score = benchmark.score(sample, answers[sample.id])
        assert score.values == dict.fromkeys(METRICS, expected), (sample.id, score.explanation)
        assert score.metadata["weights"]["inst_level_strict_acc"] == len(sample.metadata["instruction_id_list"])


sim = pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")


def _run(tmp_path: Path, make_replay, answers: dict[str, str]):
    from assay.eval import TaskConfig, run_task

    samples = _fixture_samples()
    replay = make_replay(samples, [answers[s.id] for s in samples])
    task = TaskConfig(eval_type="sim", model="replay-model", datasets=["ifeval"],
                      model_args={"replay_path": str(replay), "latency_model": "fixed", "ttft_ms": 0, "itl_ms": 0,
                                  "seed": 1},
                      dataset_args={"ifeval": {"dataset_id": str(FIXTURE)}}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4)
    return run_task(task, show=False).reports["ifeval"]


@pytest.mark.parametrize("answers,expected", [(GOLD, 1.0), (BAD, 0.0)], ids=["gold", "bad"])
def test_end_to_end_with_the_simulator(tmp_path, make_replay, answers, expected):
    report = _run(tmp_path, make_replay, answers)
    assert report.num == 10 and report.failed_samples == 0
    assert report.main_metric == "prompt_level_strict_acc" and report.score == expected
    assert {m: report.metrics[m].score for m in METRICS} == dict.fromkeys(METRICS, expected)


def test_instruction_level_accuracy_pools_instructions_over_prompts(tmp_path, make_replay):
    # Prompt 9 (5 of the fixture's 25 instructions) fails, the other nine prompts pass: pooled 20/25
    # instructions, where a mean of per-prompt fractions would give 9/10.
    answers = {**GOLD, "9": BAD["9"]}
    report = _run(tmp_path, make_replay, answers)
    assert report.metrics["prompt_level_strict_acc"].score == pytest.approx(9 / 10)
    assert report.metrics["inst_level_strict_acc"].score == pytest.approx(20 / 25)


def test_rules_come_from_extra_params_and_enter_the_scoring_fingerprint():
    from assay.errors import ConfigError

    official, assay = _benchmark(), _benchmark(extra_params={"ifeval_rules": "assay"})
    assert official.rules == "official" and assay.rules == "assay" and official.version == "2"
    assert official.scoring_fingerprint()["ifeval_rules"] == "official"
    assert assay.scoring_fingerprint()["ifeval_rules"] == "assay"
    sample = Sample(id="p", metadata={"question": "q", "instruction_id_list": ["startend:quotation"], "kwargs": [{}]})
    curly = "“The whole answer.”"  # official: straight quotes only; assay: curly ones too
    assert official.score(sample, curly).values["prompt_level_strict_acc"] == 0.0
    assert assay.score(sample, curly).values["prompt_level_strict_acc"] == 1.0
    with pytest.raises(ConfigError, match="ifeval_rules"):
        _benchmark(extra_params={"ifeval_rules": "lenient"})
