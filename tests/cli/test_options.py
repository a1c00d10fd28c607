"""CLI options generated from pydantic models: names, types, lists, JSON, one-line errors."""

from __future__ import annotations

from typing import Any, Literal

import click
import pytest
from pydantic import BaseModel, Field
from click.testing import CliRunner

from assay.cli.options import add_options, build_model, cli_values, expand_list_args, model_options
from assay.errors import ConfigError


class Toy(BaseModel):
    url: str = Field(description="Server URL.")
    parallel: list[int] = Field(default_factory=lambda: [1], description="Concurrency levels.")
    api: Literal["openai", "completions"] = "openai"
    stream: bool | None = None
    temperature: float | None = Field(default=None, ge=0)
    dataset_args: dict[str, Any] = Field(default_factory=dict)
    max_tokens: int = 16


def toy_command(store: dict) -> click.Command:
    def run(**params: Any) -> None:
        store["config"] = build_model(Toy, cli_values(Toy, params))

    return add_options(model_options(Toy))(click.Command("toy", callback=run))


def invoke(argv: list[str]):
    store: dict = {}
    command = toy_command(store)
    result = CliRunner().invoke(command, expand_list_args(command, argv), standalone_mode=False,
                                catch_exceptions=True)
    return store.get("config"), result


def test_flags_are_kebab_case_and_typed():
    config, result = invoke(["--url", "http://x", "--parallel", "1", "8", "32", "--api", "completions",
                             "--no-stream", "--temperature", "0.6", "--dataset-args", '{"gsm8k": {"few_shot_num": 4}}',
                             "--max-tokens", "7"])
    assert result.exception is None, result.output
    assert config.parallel == [1, 8, 32]
    assert config.api == "completions" and config.stream is False and config.temperature == 0.6
    assert config.dataset_args == {"gsm8k": {"few_shot_num": 4}} and config.max_tokens == 7


def test_unset_flags_leave_model_defaults():
    config, result = invoke(["--url", "http://x"])
    assert result.exception is None
    assert config.parallel == [1] and config.stream is None and config.dataset_args == {}


def test_bad_json_is_one_line_config_error():
    _, result = invoke(["--url", "x", "--dataset-args", "{bad"])
    assert isinstance(result.exception, ConfigError)
    assert "bad JSON in --dataset-args" in str(result.exception) and "\n" not in str(result.exception)


def test_validation_error_names_the_flag():
    _, result = invoke(["--url", "x", "--temperature", "-1"])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith("bad value for --temperature:")


def test_choice_and_type_errors_come_from_click():
    _, result = invoke(["--url", "x", "--api", "grpc"])
    assert isinstance(result.exception, click.BadParameter)
    _, result = invoke(["--url", "x", "--max-tokens", "many"])
    assert isinstance(result.exception, click.BadParameter)


def test_expand_list_args_keeps_other_tokens_and_negative_numbers():
    command = toy_command({})
    argv = ["--parallel", "1", "-8", "--url", "u", "--parallel", "3"]
    assert expand_list_args(command, argv) == ["--parallel", "1", "--parallel", "-8", "--url", "u", "--parallel", "3"]
    assert expand_list_args(command, ["--", "--parallel", "1", "2"]) == ["--", "--parallel", "1", "2"]


def test_build_model_reports_missing_required_field():
    with pytest.raises(ConfigError, match="--url: Field required"):
        build_model(Toy, {})


def test_a_config_model_default_shows_as_the_json_a_user_would_write():
    """`eval --help` showed the generation config's default as a pydantic dump (max_tokens=None min_tokens=None
    ... extra_body={}); it shows the fields that are set, as JSON."""
    from assay.cli.main import build_cli

    result = CliRunner().invoke(build_cli(), ["eval", "--help"], terminal_width=200)
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if "--generation-config" in line)
    assert '[default: {"n": 1}]' in line and "max_tokens=None" not in result.output
