"""Schemas: weights normalised down the tree, JSON/YAML round trips, one-line errors; the apportioning maths."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assay.collections import CollectionSchema, DatasetInfo, apportion
from assay.errors import ConfigError

from .conftest import fixture_schema

pytestmark = pytest.mark.timeout(30)


def _qwen3() -> CollectionSchema:
    # The schema, trimmed of args.
    def leaf(name: str, task_type: str = "exam", tag: str = "en") -> DatasetInfo:
        return DatasetInfo(name=name, weight=1, task_type=task_type, tags=[tag], args={"few_shot_num": 0})

    return CollectionSchema(name="Qwen3", datasets=[
        CollectionSchema(name="English", datasets=[leaf("mmlu_pro"), leaf("mmlu_redux"), leaf("ifeval", "instruction")]),
        CollectionSchema(name="Chinese", datasets=[leaf("ceval", tag="zh"), leaf("iquiz", tag="zh")]),
        CollectionSchema(name="Code", datasets=[leaf("live_code_bench", "code")]),
        CollectionSchema(name="Math&Science", datasets=[leaf("math_500", "math"), leaf("aime24", "math"),
                                                       leaf("aime25", "math"), leaf("gpqa_diamond", "knowledge")]),
    ])


def test_weights_are_normalised_down_the_tree():
    weights = {leaf.key: leaf.weight for leaf in _qwen3().flatten()}
    assert weights["Qwen3/English/mmlu_pro"] == pytest.approx(1 / 12)
    assert weights["Qwen3/Chinese/ceval"] == pytest.approx(1 / 8)
    assert weights["Qwen3/Code/live_code_bench"] == pytest.approx(1 / 4)
    assert weights["Qwen3/Math&Science/gpqa_diamond"] == pytest.approx(1 / 16)
    assert sum(weights.values()) == pytest.approx(1.0)
    weights = {leaf.key: leaf.weight for leaf in fixture_schema().flatten()}
    assert weights == pytest.approx({"Mix/Math/gsm8k": 1 / 8, "Mix/Math/math_500": 1 / 8, "Mix/Knowledge/mmlu": 3 / 8,
                                     "Mix/Knowledge/iquiz": 3 / 16, "Mix/Knowledge/general_qa": 3 / 16})


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_json_and_yaml_round_trip(tmp_path, suffix):
    schema = _qwen3()
    path = tmp_path / f"schema.{suffix}"
    getattr(schema, f"dump_{suffix}")(path)
    again = CollectionSchema.from_file(path)
    assert again == schema
    assert [(f.key, f.weight, f.info) for f in again.flatten()] == [(f.key, f.weight, f.info) for f in schema.flatten()]


def test_bad_schemas_are_one_line_errors(tmp_path):
    with pytest.raises(ValidationError, match="few_shot"):
        DatasetInfo(name="gsm8k", args={"few_shot": 3})
    with pytest.raises(ValidationError, match="more than once"):
        CollectionSchema(name="x", datasets=[DatasetInfo(name="gsm8k"), DatasetInfo(name="gsm8k")])
    with pytest.raises(ValidationError, match="add up to 0"):
        CollectionSchema(name="x", datasets=[DatasetInfo(name="gsm8k", weight=0)])
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndatasets:\n  - {name: gsm8k, weight: -1}\n")
    with pytest.raises(ConfigError, match=str(path)) as caught:
        CollectionSchema.from_file(path)
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="not found"):
        CollectionSchema.from_file(tmp_path / "missing.yaml")


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 10_000), shares=st.lists(st.floats(0.001, 100), min_size=1, max_size=12))
def test_apportion_adds_up_and_stays_within_one_of_each_quota(total, shares):
    counts = apportion(total, shares)
    assert sum(counts) == total
    for count, share in zip(counts, shares):
        assert abs(count - total * share / sum(shares)) < 1
