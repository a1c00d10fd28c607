"""Evaluating a collection with the simulator in replay mode: every answer is known, so every score is exact."""

from __future__ import annotations

import shutil
from collections import defaultdict

import orjson
import pytest

from assay.collections import WeightedSampler, load_collection_report
from assay.eval import TaskConfig, run_task
from assay.utils.io import dump_jsonl_data

from .conftest import FIXTURES, fixture_schema, sim_args, write_replay

pytestmark = pytest.mark.timeout(60)
sim = pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")


def _every_other(items):
    """Right for the 1st, 3rd, ... row of each dataset, wrong for the others."""
    seen: dict[str, int] = defaultdict(int)
    correct = {}
    for item in items:
        correct[item.index] = seen[item.benchmark] % 2 == 0
        seen[item.benchmark] += 1
    return lambda item: correct[item.index]


def _evaluate(tmp_path, collection, replay, **extra):
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=["data_collection"],
                      dataset_args={"data_collection": {"dataset_id": str(collection),
                                                        "filters": {"remove_until": "</think>"}}},
                      work_dir=str(tmp_path / "out"), eval_batch_size=4, **extra)
    return run_task(task, show=False)


def _rounded(table: dict) -> dict:
    """Scores rounded for exact comparison (pytest.approx takes no tuples inside a dict)."""
    return {key: tuple(round(v, 9) if isinstance(v, float) else v for v in value) for key, value in table.items()}


def test_scores_by_dataset_task_type_tag_and_path_are_exact(tmp_path):
    items = WeightedSampler(fixture_schema(), dataset_hub="local").sample(10**8)  # every fixture row
    collection = dump_jsonl_data(items, tmp_path / "set.jsonl")
    replay = write_replay(tmp_path / "replay.jsonl", items, _every_other(items))
    result = _evaluate(tmp_path, collection, replay)
    report = load_collection_report(result.run_dir)

    by_dataset = {(r.task_type, r.metric, r.dataset_name): (r.average_score, r.count) for r in report.datasets}
    assert _rounded(by_dataset) == _rounded({
        ("math", "acc", "gsm8k"): (2 / 4, 4), ("math", "acc", "math_500"): (2 / 3, 3),
        ("exam", "acc", "mmlu"): (2 / 3, 3), ("exam", "acc_strict", "mmlu"): (2 / 3, 3),
        ("exam", "acc", "iquiz"): (2 / 3, 3), ("exam", "acc_strict", "iquiz"): (2 / 3, 3),
        ("qa", "exact_match", "general_qa"): (1 / 2, 2), ("qa", "f1", "general_qa"): (1 / 2, 2),
    })
    by_task = {(r.task_type, r.metric): (r.average_score, r.count) for r in report.task_types}
    assert _rounded(by_task) == _rounded({("math", "acc"): (4 / 7, 7), ("exam", "acc"): (4 / 6, 6),
                                          ("exam", "acc_strict"): (4 / 6, 6), ("qa", "exact_match"): (1 / 2, 2),
                                          ("qa", "f1"): (1 / 2, 2)})
    by_tag = {(r.tag, r.metric): (r.average_score, r.count) for r in report.tags}
    assert by_tag[("en", "acc")] == pytest.approx((6 / 10, 10)) and by_tag[("zh", "acc")] == pytest.approx((2 / 3, 3))
    by_path = {(r.path, r.metric): (r.average_score, r.weighted_score, r.count) for r in report.paths}
    assert by_path[("Mix/Math", "acc")] == pytest.approx((4 / 7, (1 / 2 + 2 / 3) / 2, 7))
    assert by_path[("Mix/Knowledge", "acc")] == pytest.approx((4 / 6, 2 / 3, 6))
    # Main metrics (acc; f1 for general_qa) by the schema's weights: 1/8, 1/8, 3/8, 3/16, 3/16.
    expected = 1 / 8 * 1 / 2 + 1 / 8 * 2 / 3 + 3 / 8 * 2 / 3 + 3 / 16 * 2 / 3 + 3 / 16 * 1 / 2
    assert report.weighted_score == pytest.approx(expected)
    assert report.average_score == pytest.approx(9 / 15) and report.count == 15
    assert report.collection == "Mix" and report.failed_samples == 0

    markdown = (result.run_dir / "reports" / "collection.md").read_text()
    assert "| task_type | metric | dataset_name | average_score | count |" in markdown
    assert "| math | acc | gsm8k | 0.5000 | 4 |" in markdown
    standard = result.reports["data_collection"]
    assert {s.name: s.metrics["acc"].score for s in standard.subsets if s.name != "general_qa"} == pytest.approx(
        {"gsm8k": 0.5, "math_500": 2 / 3, "mmlu": 2 / 3, "iquiz": 2 / 3})
    lines = (result.run_dir / "predictions" / "data_collection.jsonl").read_bytes().splitlines()
    assert len(lines) == 15 and orjson.loads(lines[0])["sample"]["metadata"]["collection"]["path"]


def test_a_saved_collection_scores_the_same_without_its_source_data(tmp_path):
    # Built from a copy of the fixtures that is then deleted: the file alone must be enough to score.
    source = tmp_path / "copy"
    shutil.copytree(FIXTURES / "gsm8k", source / "gsm8k")
    shutil.copytree(FIXTURES / "mmlu", source / "mmlu")
    schema = fixture_schema().model_copy(deep=True)
    schema.datasets[0].datasets[0].args["dataset_id"] = str(source / "gsm8k")
    schema.datasets[1].datasets[0].args["dataset_id"] = str(source / "mmlu")
    items = WeightedSampler(schema, dataset_hub="local").sample(10**8)
    collection = dump_jsonl_data(items, tmp_path / "elsewhere" / "set.jsonl")
    replay = write_replay(tmp_path / "replay.jsonl", items, lambda item: True)
    shutil.rmtree(source)
    report = load_collection_report(_evaluate(tmp_path, collection, replay).run_dir)
    assert {r.dataset_name: r.average_score for r in report.datasets} == {
        "gsm8k": 1.0, "math_500": 1.0, "mmlu": 1.0, "iquiz": 1.0, "general_qa": 1.0}
    assert report.weighted_score == 1.0


def test_subset_list_picks_benchmarks_and_limit_is_over_the_whole_collection(tmp_path):
    """As in EvalScope, ``limit`` is the collection's: 5 of the 7 gsm8k + mmlu rows, in their proportions
    (4:3 by the largest remainder gives 3 and 2), not 5 of each."""
    items = WeightedSampler(fixture_schema(), dataset_hub="local").sample(10**8)
    collection = dump_jsonl_data(items, tmp_path / "set.jsonl")
    replay = write_replay(tmp_path / "replay.jsonl", items, lambda item: True)
    task = TaskConfig(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["data_collection"],
                      dataset_args={"data_collection": {"dataset_id": str(collection),
                                                        "subset_list": ["gsm8k", "mmlu"]}},
                      limit=5, work_dir=str(tmp_path / "out"))
    report = load_collection_report(run_task(task, show=False).run_dir)
    assert {(r.dataset_name, r.count) for r in report.datasets if r.metric == "acc"} == {("gsm8k", 3), ("mmlu", 2)}


def test_a_file_that_is_not_a_collection_is_a_clear_error(tmp_path):
    from assay.errors import DatasetError

    task = TaskConfig(eval_type="sim", model="m", model_args={"latency_model": "fixed"},
                      datasets=["data_collection"], work_dir=str(tmp_path),
                      dataset_args={"data_collection": {"dataset_id": str(FIXTURES / "gsm8k" / "test.jsonl")}})
    with pytest.raises(DatasetError, match="row 1 is not a collection row"):
        run_task(task, show=False)


def test_every_metric_of_a_benchmark_gets_its_row_and_ifeval_pools_instructions(tmp_path):
    from assay.collections import CollectionSchema, DatasetInfo
    from assay.eval.benchmarks import benchmark_names

    if "ifeval" not in benchmark_names():
        pytest.skip("no ifeval benchmark in this assay")
    schema = CollectionSchema(name="IF", datasets=[DatasetInfo(
        name="ifeval", task_type="instruction", tags=["en"],
        args={"dataset_id": str(FIXTURES / "ifeval")})])
    items = WeightedSampler(schema, dataset_hub="local").sample(100)
    collection = dump_jsonl_data(items, tmp_path / "if.jsonl")
    replay = tmp_path / "replay.jsonl"
    replay.write_bytes(orjson.dumps({"prompt_contains": "short note about tea",
                                     "response": "Green leaf tea is calm."}) + b"\n"
                       + orjson.dumps({"prompt_contains": "", "response": "no."}) + b"\n")
    result = _evaluate(tmp_path, collection, replay)
    report = load_collection_report(result.run_dir)
    rows = {r.metric: r for r in report.datasets}
    assert set(rows) == {"prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc",
                         "inst_level_loose_acc"}
    assert {(r.task_type, r.dataset_name, r.count) for r in rows.values()} == {("instruction", "ifeval", len(items))}
    verdicts = [v for line in (result.run_dir / "predictions" / "data_collection.jsonl").read_bytes().splitlines()
                for v in orjson.loads(line)["scores"][0]["metadata"]["instructions"]]
    assert rows["inst_level_strict_acc"].average_score == pytest.approx(
        sum(v["strict"] for v in verdicts) / len(verdicts))
    assert report.weighted_score == rows["prompt_level_strict_acc"].average_score


def test_report_compare_on_two_collection_runs_pairs_rows_per_dataset_and_task_type(tmp_path):
    """The EvalScope guide's comparison (thinking vs not) on collection runs: per dataset, per task type and
    over the whole collection, each row on its own benchmark's main metric, paired by row."""
    from assay.eval.compare import compare_runs

    items = WeightedSampler(fixture_schema(), dataset_hub="local").sample(10**8)
    collection = dump_jsonl_data(items, tmp_path / "set.jsonl")
    run_a = _evaluate(tmp_path / "a", collection, write_replay(tmp_path / "all.jsonl", items, lambda item: True))
    run_b = _evaluate(tmp_path / "b", collection, write_replay(tmp_path / "half.jsonl", items, _every_other(items)))
    rows = {(c.benchmark, c.metric): c for c in compare_runs(run_a.run_dir, run_b.run_dir)}
    assert set(rows) == {("gsm8k", "acc"), ("math_500", "acc"), ("mmlu", "acc"), ("iquiz", "acc"),
                         ("general_qa", "f1"), ("task_type: math", "main metrics"),
                         ("task_type: exam", "main metrics"), ("task_type: qa", "main metrics"),
                         ("collection", "main metrics")}
    assert (rows[("gsm8k", "acc")].num, rows[("gsm8k", "acc")].score_a, rows[("gsm8k", "acc")].score_b) == (4, 1.0, 0.5)
    assert rows[("task_type: exam", "main metrics")].num == 6
    whole = rows[("collection", "main metrics")]
    assert whole.num == 15 and whole.score_a == 1.0 and whole.difference == pytest.approx(9 / 15 - 1)
    assert list(rows)[-1] == ("collection", "main metrics")  # datasets first, then task types, then the whole
