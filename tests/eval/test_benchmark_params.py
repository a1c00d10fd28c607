"""Benchmarks' typed parameters: ``dataset_args.<name>.extra_params`` validated once into ``Benchmark.params``."""

from __future__ import annotations

import datetime
import logging

import pytest

from assay.errors import ConfigError
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs


def _build(name: str, **extra_params):
    return get_benchmark(name)(DatasetArgs(extra_params=extra_params))


def test_a_declared_parameter_is_read_typed():
    humaneval = _build("humaneval", style="completion", wall_s="30", sandbox_workers=2)
    assert humaneval.params.style == "completion" and humaneval.style == "completion"
    assert humaneval.limits.wall_s == 30.0 and humaneval.workers == 2
    assert humaneval.limits.cpu_s == type(humaneval).default_limits.cpu_s  # unset: the benchmark's default


def test_the_benchmarks_own_default_limits_stay_when_unset():
    lcb = _build("live_code_bench", memory_mb=4096)
    assert lcb.limits.memory_mb == 4096 and lcb.limits.wall_s == 120.0  # LiveCodeBench's own default


@pytest.mark.parametrize("params, key", [
    ({"style": "fill-in"}, "style"),
    ({"wall_s": -1}, "wall_s"),
    ({"sandbox_workers": "many"}, "sandbox_workers"),
])
def test_a_wrong_value_is_one_line_naming_the_key(params, key):
    with pytest.raises(ConfigError) as raised:
        _build("humaneval", **params)
    message = str(raised.value)
    assert message.startswith(f"dataset_args.humaneval.extra_params.{key}: ") and "\n" not in message
    assert repr(params[key]) in message


def test_an_unknown_key_is_ignored_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="assay.eval"):
        humaneval = _build("humaneval", styel="completion")
    assert humaneval.style == "chat"
    (record,) = [r for r in caplog.records if "unknown key" in r.getMessage()]
    assert "'styel'" in record.getMessage() and "style" in record.getMessage()


def test_dates_read_from_yaml_or_text_are_the_same_window():
    from_yaml = _build("live_code_bench", start_date=datetime.date(2024, 1, 1), difficulty="easy")
    from_text = _build("live_code_bench", start_date="2024-01-01", difficulty=["easy"])
    assert from_yaml.start_date == from_text.start_date == "2024-01-01"
    assert from_yaml.difficulty == from_text.difficulty == {"easy"}
    with pytest.raises(ConfigError, match=r"extra_params\.start_date: "):
        _build("live_code_bench", start_date="last spring")


def test_params_are_frozen():
    humaneval = _build("humaneval")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        humaneval.params.style = "completion"  # type: ignore[misc]


@pytest.mark.parametrize("name, params, key", [
    ("ifeval", {"ifeval_rules": "lenient"}, "ifeval_rules"),
    ("bfcl_v3", {"mode": "xml"}, "mode"),
    ("bfcl_v3", {"underscore_to_dot": "maybe"}, "underscore_to_dot"),
    ("bfcl_v3", {"mode": "prompt", "underscore_to_dot": True}, "underscore_to_dot"),
    ("truthful_qa", {"multiple_correct": "perhaps"}, "multiple_correct"),
    ("bbh", {"cot_prompts": 3}, "cot_prompts"),
])
def test_every_migrated_benchmark_names_the_bad_key_in_one_line(name, params, key):
    with pytest.raises(ConfigError) as raised:
        _build(name, **params)
    message = str(raised.value)
    assert message.startswith(f"dataset_args.{name}.extra_params.{key}: ") and "\n" not in message


def test_the_migrated_benchmarks_keep_their_keys_and_defaults(tmp_path):
    assert _build("ifeval").rules == "official" and _build("ifeval", ifeval_rules="assay").rules == "assay"
    bfcl = [_build("bfcl_v3", **params) for params in ({}, {"is_fc_model": False}, {"mode": "fc", "is_fc_model": False},
                                                       {"underscore_to_dot": False})]
    assert [(b.mode, b.dots_to_underscores) for b in bfcl] == [("fc", True), ("prompt", False), ("fc", True),
                                                                 ("fc", False)]
    truthful = get_benchmark("truthful_qa")
    assert truthful(DatasetArgs(subset_list=["multiple_choice"])).subset_list == ["mc1"]
    assert truthful(DatasetArgs(subset_list=["multiple_choice"], extra_params={"multiple_correct": True})) \
        .subset_list == ["mc2"]
    (tmp_path / "navigate.txt").write_text("Navigate.\n\nQ: q\nA: a", encoding="utf-8")
    bbh = _build("bbh", cot_prompts=str(tmp_path))
    assert bbh.params.cot_prompts == str(tmp_path) and bbh._prompt_file(tmp_path / "data", "navigate").is_file()
    assert _build("bbh").params.cot_prompts is None
