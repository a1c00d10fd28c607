"""The backend registry: names and EvalScope's aliases resolve, typed model_args fail in one line naming the key,
an unknown eval_type names close matches, and a backend registered here is usable without touching make_model."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.errors import ConfigError
from assay.eval import TaskConfig, run_task
from assay.models import backends, get_backend, make_model, register_backend
from assay.models.checkpoint import CheckpointArgs, CheckpointModel
from assay.models.openai_api import OpenAIAPIModel
from assay.models.registry import backends_table
from assay.models.sim import SimModel
from assay.types import Completion, GenerationConfig, Message

from .conftest import counting_gsm8k

pytestmark = pytest.mark.timeout(60)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "eval.md"


class AdderArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offset: int = Field(default=0, description="Added to each true sum (0: every answer right).")


@register_backend("adder_test", aliases=("adder_alias",), args=AdderArgs)
class AdderModel:
    """A test backend that answers "What is i + i?" itself: registered here, never named in make_model."""

    def __init__(self, name: str, args: AdderArgs) -> None:
        self.name = name
        self.args = args

    @classmethod
    def from_task(cls, task: TaskConfig, args: AdderArgs) -> AdderModel:
        return cls(task.model_name, args)

    async def __aenter__(self) -> AdderModel:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def generate(self, messages: list[Message], generation: GenerationConfig) -> Completion:
        a, b = (int(x) for x in re.findall(r"What is (\d+) \+ (\d+)\?", str(messages[-1].content))[-1])
        return Completion(text=f"The answer is \\boxed{{{a + b + self.args.offset}}}.", finish_reason="stop")

    def describe(self) -> dict:
        return {"type": "adder_test", "model": self.name, "offset": self.args.offset}


@pytest.mark.parametrize(("eval_type", "name", "cls", "extra"), [
    ("openai_api", "openai_api", OpenAIAPIModel, {"api_url": "http://127.0.0.1:9/v1"}),
    ("service", "openai_api", OpenAIAPIModel, {"api_url": "http://127.0.0.1:9/v1"}),
    ("server", "openai_api", OpenAIAPIModel, {"api_url": "http://127.0.0.1:9/v1"}),
    ("openai", "openai_api", OpenAIAPIModel, {"api_url": "http://127.0.0.1:9/v1"}),
    ("checkpoint", "checkpoint", CheckpointModel, {"model": "/ckpt"}),
    ("llm_ckpt", "checkpoint", CheckpointModel, {"model": "/ckpt"}),
    ("sim", "sim", SimModel, {}),
    ("mock_llm", "sim", SimModel, {}),
    ("adder_test", "adder_test", AdderModel, {}),
    ("adder_alias", "adder_test", AdderModel, {}),
])
def test_every_name_and_alias_resolves_to_its_backend(eval_type, name, cls, extra):
    task = TaskConfig(eval_type=eval_type, **extra)
    assert task.eval_type == name and get_backend(eval_type).name == name
    assert isinstance(make_model(task), cls)


def test_evalscope_checkpoint_args_are_typed_fields():
    """EvalScope's llm_ckpt model_args (revision, precision as torch.X, device_map) are read, not dropped."""
    args = get_backend("llm_ckpt").parse_args({"revision": "v1", "precision": "torch.float16", "device_map": "auto",
                                                "trust_remote_code": True})
    assert isinstance(args, CheckpointArgs)
    assert (args.revision, args.dtype, args.device_map, args.trust_remote_code) == ("v1", "float16", "auto", True)
    assert get_backend("checkpoint").parse_args({"torch_dtype": "bfloat16"}).dtype == "bfloat16"
    assert get_backend("checkpoint").parse_args({}).dtype == "auto"


@pytest.mark.parametrize(("eval_type", "model_args", "expected"), [
    ("checkpoint", {"precision": "torch.float17"}, "model_args.precision: unknown dtype 'torch.float17'"),
    ("checkpoint", {"trust_remote_code": "maybe"}, "model_args.trust_remote_code: Input should be a valid boolean"),
    ("checkpoint", {"device_map": 3}, "model_args.device_map"),
    ("sim", {"replay_pth": "a.jsonl"}, "model_args.replay_pth: unknown key for the sim backend (did you mean "
                                       "replay_path"),
    ("sim", {"ttft_ms": -1}, "model_args.ttft_ms: Input should be greater than or equal to 0"),
    ("openai_api", {"headers": "x"}, "model_args.headers: Input should be a valid dictionary"),
    ("adder_test", {"offset": "two"}, "model_args.offset: Input should be a valid integer"),
])
def test_a_bad_model_arg_is_one_line_naming_it(eval_type, model_args, expected):
    extra = {"api_url": "http://127.0.0.1:9/v1"} if eval_type == "openai_api" else {"model": "/ckpt"}
    task = TaskConfig(eval_type=eval_type, model_args=model_args, **extra)
    with pytest.raises(ConfigError) as error:
        make_model(task)
    message = str(error.value)
    assert "\n" not in message and message.startswith(expected), message


def test_unknown_keys_warn_where_the_backend_ignores_them(caplog):
    """checkpoint and openai_api ignore keys EvalScope configs carry, saying so; sim refuses them (above)."""
    with caplog.at_level(logging.WARNING, logger="assay.models"):
        model = make_model(TaskConfig(eval_type="llm_ckpt", model="/ckpt", model_args={"device": "cpu", "foo": 1}))
    assert model.args.device == "cpu"
    assert [r.getMessage() for r in caplog.records if "model_args.foo" in r.getMessage()] == [
        "model_args.foo is not a checkpoint setting and is ignored (known: device, device_map, dtype, revision, "
        "trust_remote_code)"]
    # The run's fingerprint keeps the keys as given, so resuming an older run compares equal.
    assert model.describe()["model_args"] == {"device": "cpu", "foo": "1"}


def test_openai_headers_reach_the_client():
    task = TaskConfig(api_url="http://127.0.0.1:9/v1", model="m", model_args={"headers": {"X-Route": "a"}})
    model = make_model(task)
    assert model.config.headers == {"X-Route": "a"} and model.config.request_headers()["X-Route"] == "a"


def test_an_unknown_eval_type_is_one_line_with_close_matches():
    with pytest.raises(ValidationError) as error:
        TaskConfig(eval_type="mockllm")
    [err] = error.value.errors()
    assert err["loc"] == ("eval_type",)
    assert "unknown backend 'mockllm' (did you mean 'mock_llm'" in err["msg"] and "adder_test" in err["msg"]
    with pytest.raises(ConfigError, match=r"^eval_type: unknown backend 'chekpoint' \(did you mean 'checkpoint'"):
        get_backend("chekpoint")


def test_an_unknown_eval_type_on_the_command_line_exits_2(capsys):
    from assay.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--eval-type", "servce", "--datasets", "gsm8k"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--eval-type" in err and "did you mean 'service'" in err


def test_eval_type_help_and_the_docs_come_from_the_registry():
    help_text = TaskConfig.model_fields["eval_type"].description
    for spec in backends():
        if spec.name != "adder_test":  # registered after TaskConfig was built; help lists the built-in ones
            assert all(name in help_text for name in (spec.name, *spec.aliases))
    assert backends_table() in DOCS.read_text(encoding="utf-8"), "regenerate the table in docs/eval.md (Backends)"
    assert "adder_test" in backends_table(builtin_only=False) and "adder_test" not in backends_table()
    assert "replay_path" in [name for name, _, _ in get_backend("mock_llm").fields()]


def test_a_backend_registered_in_a_test_module_runs_an_evaluation(tmp_path):
    """The backend above is found by eval_type (its alias too) and scores as its answers say."""
    dataset_args = counting_gsm8k(tmp_path / "gsm8k", rows=5)
    right = run_task(TaskConfig(eval_type="adder_alias", model="adder", datasets=["gsm8k"], dataset_args=dataset_args,
                                work_dir=str(tmp_path / "right")), show=False)
    wrong = run_task(TaskConfig(eval_type="adder_test", model="adder", model_args={"offset": 1}, datasets=["gsm8k"],
                                dataset_args=dataset_args, work_dir=str(tmp_path / "wrong")), show=False)
    assert right.reports["gsm8k"].num == 5 and right.reports["gsm8k"].metrics["acc"].score == 1.0
    assert wrong.reports["gsm8k"].metrics["acc"].score == 0.0


def test_registering_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="'llm_ckpt' is already the 'checkpoint' backend"):
        register_backend("other", aliases=("llm_ckpt",))(AdderModel)
    with pytest.raises(TypeError, match="has no from_task"):
        register_backend("no_factory")(type("Bare", (), {}))


@pytest.mark.serving
@pytest.mark.timeout(300)
def test_evalscope_checkpoint_args_load_the_checkpoint(tiny_checkpoint):
    """precision and device_map, as EvalScope users write them, reach from_pretrained."""
    import asyncio

    import torch

    task = TaskConfig(eval_type="llm_ckpt", model=str(tiny_checkpoint),
                      model_args={"precision": "torch.float32", "device_map": "cpu"})

    async def ask() -> tuple[Completion, object]:
        async with make_model(task) as model:
            answer = await model.generate([Message(role="user", content="Hi")], GenerationConfig(max_tokens=3))
            return answer, model._model.dtype

    answer, dtype = asyncio.run(ask())
    assert answer.error is None and 1 <= answer.usage.completion_tokens <= 3 and dtype == torch.float32
