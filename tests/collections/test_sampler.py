"""Samplers: counts follow the weights (or sizes) within rounding, capped by what datasets have; the same seed
gives the same file; each row keeps what scoring needs; missing benchmarks or data fail at build time."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assay.collections import (
    CollectionItem, CollectionSchema, DatasetInfo, StratifiedSampler, UniformSampler, WeightedSampler,
)
from assay.errors import DatasetError
from assay.eval.benchmarks import benchmark_names
from assay.utils.io import load_jsonl_data

from .conftest import FIXTURES, fixture_schema, write_qa

pytestmark = pytest.mark.timeout(60)


def _qa_schema(tmp_path: Path, sizes=(300, 200, 100), weights=(5, 3, 2)) -> CollectionSchema:
    """Three generated general_qa datasets of ``sizes`` rows, nested two levels deep."""
    leaves = [DatasetInfo(name="general_qa", weight=w, args={"dataset_id": str(write_qa(tmp_path / f"qa{i}.jsonl",
                                                                                        n, f"d{i}"))})
              for i, (n, w) in enumerate(zip(sizes, weights))]
    return CollectionSchema(name="Root", datasets=[
        CollectionSchema(name="A", weight=weights[0], datasets=[leaves[0]]),
        CollectionSchema(name="Rest", weight=weights[1] + weights[2], datasets=[
            CollectionSchema(name="B", weight=weights[1], datasets=[leaves[1]]),
            CollectionSchema(name="C", weight=weights[2], datasets=[leaves[2]]),
        ]),
    ])


def _counts(items: list[CollectionItem]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.dataset_key] = counts.get(item.dataset_key, 0) + 1
    return counts


@pytest.mark.parametrize("count", [1, 7, 157, 500])
def test_weighted_counts_match_the_weights_within_rounding(tmp_path, count):
    schema = _qa_schema(tmp_path)
    items = WeightedSampler(schema, seed=1, dataset_hub="local").sample(count)
    assert len(items) == count
    counts = _counts(items)
    for leaf in schema.flatten():
        assert abs(counts.get(leaf.key, 0) - count * leaf.weight) < 1, leaf.key
    assert [item.index for item in items] == list(range(count))


def test_weighted_caps_a_small_dataset_and_leaves_the_others_alone(tmp_path, caplog):
    schema = _qa_schema(tmp_path, sizes=(300, 200, 10))
    sampler = WeightedSampler(schema, seed=1, dataset_hub="local")
    counts = _counts(sampler.sample(200))
    assert counts == {"Root/A/general_qa": 100, "Root/Rest/B/general_qa": 60, "Root/Rest/C/general_qa": 10}
    assert [plan.capped for plan in sampler.plan] == [False, False, True]
    assert "Root/Rest/C/general_qa: its weight asks for 40 rows and it has 10" in caplog.text


def test_stratified_follows_sizes_and_uniform_is_equal(tmp_path):
    schema = _qa_schema(tmp_path, sizes=(300, 200, 100), weights=(1, 1, 1))
    stratified = _counts(StratifiedSampler(schema, dataset_hub="local").sample(60))
    assert list(stratified.values()) == [30, 20, 10]
    uniform = _counts(UniformSampler(schema, dataset_hub="local").sample(61))
    assert sorted(uniform.values()) == [20, 20, 21]
    assert _counts(StratifiedSampler(schema, dataset_hub="local").sample(10_000)) == {
        key: size for key, size in zip(stratified, (300, 200, 100))}


def test_same_seed_same_file_and_another_seed_another(tmp_path):
    from assay.cli.main import main

    schema = _qa_schema(tmp_path)
    schema.dump_yaml(tmp_path / "schema.yaml")
    files = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        files[name] = tmp_path / f"{name}.jsonl"
        main(["collection", "build", str(tmp_path / "schema.yaml"), "-o", str(files[name]), "--sampler", "weighted",
              "--count", "50", "--seed", str(seed), "--dataset-hub", "local"])
    assert files["a"].read_bytes() == files["b"].read_bytes()
    assert files["a"].read_bytes() != files["c"].read_bytes()
    assert len(load_jsonl_data(files["a"])) == 50


def test_adding_a_dataset_does_not_change_the_rows_drawn_from_the_others(tmp_path):
    schema = _qa_schema(tmp_path)
    before = [i.sample.id for i in WeightedSampler(schema, dataset_hub="local").sample(100) if i.path[-1] == "A"]
    bigger = schema.model_copy(update={"datasets": [*schema.datasets, DatasetInfo(
        name="gsm8k", weight=0, args={"dataset_id": str(FIXTURES / "gsm8k")})]})
    after = [i.sample.id for i in WeightedSampler(bigger, dataset_hub="local").sample(100) if i.path[-1] == "A"]
    assert before == after


def test_rows_keep_everything_needed_to_score_them():
    items = WeightedSampler(fixture_schema(), dataset_hub="local").sample(1000)
    by_benchmark = {item.benchmark: item for item in items}
    assert set(by_benchmark) == {"gsm8k", "math_500", "mmlu", "iquiz", "general_qa"}
    mmlu = by_benchmark["mmlu"]
    assert (mmlu.task_type, mmlu.tags, mmlu.path, mmlu.benchmark_version) == ("exam", ["en"], ["Mix", "Knowledge"], "2")
    assert mmlu.subset in ("abstract_algebra", "anatomy") and mmlu.weight == pytest.approx(3 / 8)
    assert mmlu.sample.messages and mmlu.sample.target in "ABCD" and mmlu.sample.choices
    assert by_benchmark["gsm8k"].task_type == "math"  # the benchmark's own, when the schema gives none
    assert by_benchmark["math_500"].subset in ("Level 1", "Level 2")
    again = CollectionItem.model_validate_json(mmlu.model_dump_json())
    assert again == mmlu


def test_missing_benchmark_data_fails_at_build_time_naming_the_dataset(tmp_path):
    schema = CollectionSchema(name="S", datasets=[
        DatasetInfo(name="gsm8k", args={"dataset_id": str(FIXTURES / "gsm8k")}),
        DatasetInfo(name="aime24"),
    ])
    with pytest.raises(DatasetError, match=r"dataset S/aime24: dataset 'aime24' is not available"):
        WeightedSampler(schema, dataset_hub="local", dataset_dir=str(tmp_path)).sample(10)
    schema = CollectionSchema(name="S", datasets=[DatasetInfo(name="gsm8k", args={"dataset_id": "/no/such.jsonl"})])
    with pytest.raises(DatasetError, match="S/gsm8k.*no such file"):
        WeightedSampler(schema, dataset_hub="local").sample(10)


ISSUE_EXAMPLE = textwrap.dedent("""\
    from assay.collections import CollectionSchema, DatasetInfo, WeightedSampler
    from assay.utils.io import dump_jsonl_data
    schema = CollectionSchema(name='Qwen3', datasets=[
        CollectionSchema(name='English', datasets=[
            DatasetInfo(name='mmlu_pro', weight=1, task_type='exam', tags=['en'], args={'few_shot_num': 0}),
            DatasetInfo(name='mmlu_redux', weight=1, task_type='exam', tags=['en'], args={'few_shot_num': 0}),
            DatasetInfo(name='ifeval', weight=1, task_type='instruction', tags=['en'], args={'few_shot_num': 0}),
        ]),
        CollectionSchema(name='Chinese', datasets=[
            DatasetInfo(name='ceval', weight=1, task_type='exam', tags=['zh'], args={'few_shot_num': 0}),
            DatasetInfo(name='iquiz', weight=1, task_type='exam', tags=['zh'], args={'few_shot_num': 0}),
        ]),
        CollectionSchema(name='Code', datasets=[
            DatasetInfo(name='live_code_bench', weight=1, task_type='code', tags=['en'],
                        args={'few_shot_num': 0, 'subset_list': ['v5_v6'],
                              'extra_params': {'start_date': '2025-01-01', 'end_date': '2025-04-30'}}),
        ]),
        CollectionSchema(name='Math&Science', datasets=[
            DatasetInfo(name='math_500', weight=1, task_type='math', tags=['en'], args={'few_shot_num': 0}),
            DatasetInfo(name='aime24', weight=1, task_type='math', tags=['en'], args={'few_shot_num': 0}),
            DatasetInfo(name='aime25', weight=1, task_type='math', tags=['en'], args={'few_shot_num': 0}),
            DatasetInfo(name='gpqa_diamond', weight=1, task_type='knowledge', tags=['en'], args={'few_shot_num': 0}),
        ]),
    ])
    mixed_data = WeightedSampler(schema).sample(100000000)
    dump_jsonl_data(mixed_data, 'outputs/qwen3_test.jsonl')
    """)


def test_the_issue_example_runs_and_names_the_dataset_it_cannot_load_offline(tmp_path):
    # As written (only the imports ours), offline with an empty dataset dir: every benchmark exists, so it
    # stops at the first dataset it cannot load, naming it, before writing anything.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "ASSAY_DATASET_DIR": str(tmp_path / "cache"),
           "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", ISSUE_EXAMPLE], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert all(name in benchmark_names() for name in ("ifeval", "live_code_bench", "mmlu_pro", "iquiz"))
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("assay.errors.DatasetError:"), last
    assert "(at Qwen3/" in last or "Qwen3/" in last, last
    assert not (tmp_path / "outputs").exists()
