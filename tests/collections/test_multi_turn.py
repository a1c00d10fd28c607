"""A collection holding multi-turn rows (multi_if): the collection hands the runner's multi-turn hook to each row's
own benchmark, so every turn of a conversation is asked and graded, as when multi_if runs alone."""

from __future__ import annotations

import orjson
import pytest

from assay.collections import CollectionSchema, DatasetInfo, WeightedSampler, load_collection_report
from assay.data import DatasetLoader
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.types import Message
from assay.utils.io import dump_jsonl_data
from tests.eval.test_multi_if import BAD, GOLD

from .conftest import FIXTURES, sim_args

pytestmark = pytest.mark.timeout(60)


def _items():
    schema = CollectionSchema(name="IF", datasets=[
        DatasetInfo(name="multi_if", task_type="instruction", tags=["multilingual"],
                    args={"dataset_id": str(FIXTURES / "multi_if")}),
        DatasetInfo(name="gsm8k", tags=["en"], args={"dataset_id": str(FIXTURES / "gsm8k")})])
    return WeightedSampler(schema, dataset_hub="local").sample(10**8)


def _replay(path, items, answers):
    """Per multi_if row one entry per turn, keyed by that turn's prompt; gsm8k rows answered right."""
    with path.open("wb") as handle:
        for item in items:
            if item.benchmark == "multi_if":
                for turn, answer in zip(item.sample.metadata["turns"], answers[item.sample.id]):
                    handle.write(orjson.dumps({"prompt": turn["prompt"], "response": answer}) + b"\n")
            else:
                prompt = [m for m in item.sample.messages or [] if m.role == "user"][-1].text()
                handle.write(orjson.dumps({"prompt": prompt, "response": f"#### {item.sample.target}"}) + b"\n")
    return path


def test_next_turn_is_the_rows_own_benchmarks(tmp_path):
    items = _items()
    path = dump_jsonl_data(items, tmp_path / "c.jsonl")
    collection = get_benchmark("data_collection")(DatasetArgs(dataset_id=str(path)))
    samples = {s.metadata["collection"]["benchmark"]: s for s in collection.load(DatasetLoader(hub="local"))}
    conversation = samples["multi_if"]
    prompts = [t["prompt"] for t in conversation.metadata["turns"]]
    second = collection.next_turn(conversation, [*(conversation.messages or []), Message.assistant("first")])
    assert second is not None and [m.text() for m in second] == [prompts[0], "first", prompts[1]]
    assert collection.next_turn(samples["gsm8k"], [Message.user("q"), Message.assistant("a")]) is None


@pytest.mark.parametrize("answers,expected", [(GOLD, 1.0), (BAD, 0.0)], ids=["gold", "wrong"])
def test_every_turn_of_a_multi_if_row_is_asked_and_graded(tmp_path, answers, expected):
    items = _items()
    collection = dump_jsonl_data(items, tmp_path / "set.jsonl")
    replay = _replay(tmp_path / "replay.jsonl", items, answers)
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=["data_collection"],
                      dataset_args={"data_collection": {"dataset_id": str(collection)}},
                      work_dir=str(tmp_path / "out"), eval_batch_size=2)
    result = run_task(task, show=False)
    lines = [orjson.loads(line) for line in
             (result.run_dir / "predictions" / "data_collection.jsonl").read_bytes().splitlines()]
    conversations = [line for line in lines if line["sample"]["metadata"]["collection"]["benchmark"] == "multi_if"]
    assert len(conversations) == len(GOLD)
    for line in conversations:
        turns = answers[line["sample"]["metadata"]["collection"]["sample_id"]]
        completion, score = line["completions"][0], line["scores"][0]
        assert [t["text"] for t in completion["turns"]] + [completion["text"]] == turns
        for turn in range(1, len(turns) + 1):
            assert score["values"][f"turn_{turn}_prompt_level_strict_acc"] == expected, (turn, line["sample"]["id"])
    report = load_collection_report(result.run_dir)
    rows = {r.metric: r for r in report.datasets if r.dataset_name == "multi_if"}
    assert rows["turn_3_prompt_level_strict_acc"].average_score == expected
    assert rows["turn_2_inst_level_loose_acc"].average_score == expected
    assert {r.average_score for r in report.datasets if r.dataset_name == "gsm8k"} == {1.0}
    # The two-turn conversation has no third turn: left out of turn 3's count, not counted as ungraded.
    turn_3 = result.reports["data_collection"].metrics["turn_3_prompt_level_strict_acc"]
    assert (turn_3.num, turn_3.ungraded) == (3, 0)

