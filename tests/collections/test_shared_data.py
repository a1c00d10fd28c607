"""On the real benchmark files in the shared data folder (skipped where absent): a weighted mix of seven benchmarks
splits as its weights say, and gold answers score 1 on every dataset, task type and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.collections import CollectionSchema, DatasetInfo, WeightedSampler, load_collection_report
from assay.eval import TaskConfig, run_task
from assay.utils.io import dump_jsonl_data

from tests.helpers.shared_data import shared_path

from .conftest import sim_args, write_replay

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]
SHARED = shared_path()  # skips the module where the folder is absent


def _schema(tmp: Path) -> CollectionSchema:
    pro = tmp / "mmlu_pro"
    pro.mkdir()
    (pro / "test.jsonl").symlink_to(SHARED / "mmlu_pro" / "test.jsonl")  # linked, never copied

    def leaf(name: str, task_type: str, path: Path, weight: float = 1, **args: object) -> DatasetInfo:
        return DatasetInfo(name=name, weight=weight, task_type=task_type, tags=["zh" if name == "ceval" else "en"],
                           args={"dataset_id": str(path), "few_shot_num": 0, **args})

    return CollectionSchema(name="Real", datasets=[
        CollectionSchema(name="Knowledge", weight=2, datasets=[
            leaf("mmlu_pro", "exam", pro, weight=3),
            leaf("ceval", "exam", SHARED / "ceval", subset_list=["law", "logic"]),
        ]),
        CollectionSchema(name="Math&Science", weight=2, datasets=[
            DatasetInfo(name="gsm8k", weight=2, task_type="math", args={"dataset_id": str(SHARED / "gsm8k")}),
            leaf("math_500", "math", SHARED / "math500" / "test.jsonl"),
            leaf("aime24", "math", SHARED / "aime24" / "test.jsonl"),
            leaf("aime25", "math", SHARED / "aime25" / "test.jsonl"),
            leaf("gpqa_diamond", "knowledge", SHARED / "gpqa_diamond" / "gpqa_diamond.csv"),
        ]),
    ])


def test_real_mix_splits_by_weight_and_gold_scores_one(tmp_path):
    schema = _schema(tmp_path)
    count = 300
    items = WeightedSampler(schema, seed=3, dataset_hub="local").sample(count)
    assert len(items) == count
    counts: dict[str, int] = {}
    for item in items:
        counts[item.dataset_key] = counts.get(item.dataset_key, 0) + 1
    for leaf in schema.flatten():
        assert abs(counts[leaf.key] - count * leaf.weight) < 1, leaf.key
    again = WeightedSampler(schema, seed=3, dataset_hub="local").sample(count)
    assert [i.model_dump() for i in again] == [i.model_dump() for i in items]

    collection = dump_jsonl_data(items, tmp_path / "real.jsonl")
    replay = write_replay(tmp_path / "replay.jsonl", items, lambda item: True)
    task = TaskConfig(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["data_collection"],
                      dataset_args={"data_collection": {"dataset_id": str(collection)}}, eval_batch_size=32,
                      work_dir=str(tmp_path / "out"))
    report = load_collection_report(run_task(task, show=False).run_dir)
    assert {r.dataset_name for r in report.datasets} == {"mmlu_pro", "ceval", "gsm8k", "math_500", "aime24",
                                                         "aime25", "gpqa_diamond"}
    assert all(r.average_score == 1.0 for r in report.datasets + report.task_types + report.paths), report
    assert report.weighted_score == 1.0 and report.count == count
