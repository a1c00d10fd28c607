"""The pairwise benchmarks' typed parameters: where the baseline comes from, and the bootstrap's size."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest

from assay.errors import ConfigError
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs

PAIRWISE = ("arena_hard", "arena_hard_v2", "alpaca_eval")
MODEL_ARGS = {"model_id": "base-m", "api_url": "http://127.0.0.1:9/v1", "max_retries": 0}


def _build(name: str, **extra_params):
    return get_benchmark(name)(DatasetArgs(extra_params=extra_params))


@pytest.mark.parametrize("name", PAIRWISE)
def test_the_baseline_keys_are_read_without_an_unknown_key_warning(name, tmp_path, caplog):
    answers = tmp_path / "base.jsonl"
    answers.write_bytes(orjson.dumps({"question_id": "q1", "answer": "42"}) + b"\n")
    with caplog.at_level(logging.WARNING):
        from_model = _build(name, baseline_model_args=MODEL_ARGS)
        from_file = _build(name, baseline_answers=str(answers))
    assert not [r for r in caplog.records if "unknown key" in r.getMessage()]
    assert from_model.params.baseline_model_args == MODEL_ARGS
    assert from_model.baseline_model.config.model_id == "base-m"
    assert from_file.params.baseline_answers == str(answers) and from_file._baseline_file == {"q1": "42"}


def test_the_defaults_are_the_rows_baseline_and_a_thousand_resamples():
    arena = _build("arena_hard")
    assert arena.params.baseline_answers is None and arena.params.baseline_model_args is None
    assert arena.baseline_model is None and arena._baseline_file is None
    assert arena.bootstrap_resamples == 1000


@pytest.mark.parametrize("params, key", [
    ({"baseline_model_args": "gpt-4o"}, "baseline_model_args"),
    ({"baseline_answers": ["a.jsonl"]}, "baseline_answers"),
    ({"bootstrap_resamples": -1}, "bootstrap_resamples"),
    ({"bootstrap_resamples": "many"}, "bootstrap_resamples"),
])
def test_a_wrong_value_is_one_line_naming_the_key(params, key):
    with pytest.raises(ConfigError) as raised:
        _build("alpaca_eval", **params)
    message = str(raised.value)
    assert message.startswith(f"dataset_args.alpaca_eval.extra_params.{key}: ") and "\n" not in message


def test_a_baseline_model_without_a_model_id_names_the_benchmarks_key():
    with pytest.raises(ConfigError, match=r"arena_hard\.baseline_model_args"):
        _build("arena_hard", baseline_model_args={"api_url": "http://127.0.0.1:9/v1"})


def test_a_missing_baseline_file_names_the_key(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"^extra_params\.baseline_answers: "):
        _build("arena_hard", baseline_answers=str(tmp_path / "none.jsonl"))


def test_an_unknown_key_is_ignored_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        arena = _build("arena_hard", baseline_answer="x.jsonl")
    assert arena._baseline_file is None
    (record,) = [r for r in caplog.records if "unknown key" in r.getMessage()]
    assert "'baseline_answer'" in record.getMessage() and "baseline_answers" in record.getMessage()


def test_the_bootstrap_size_leaves_the_answers_identity_alone():
    assert _build("arena_hard", bootstrap_resamples=10).fingerprint() == _build("arena_hard").fingerprint()
    assert _build("arena_hard", bootstrap_resamples=0)._interval([0.0, 1.0, 1.0], lambda p: sum(p) / len(p)) is None
