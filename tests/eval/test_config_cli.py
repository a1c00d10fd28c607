"""TaskConfig (EvalScope names), its CLI flags, YAML, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assay.errors import ConfigError
from assay.eval.config import TaskConfig

pytestmark = pytest.mark.timeout(60)


def test_the_issue_example_builds_as_written():
    from assay import TaskConfig as Exported, run_task  # noqa: F401 - the documented import

    task = Exported(
        model='Qwen3-32B', api_url='http://127.0.0.1:8801/v1/chat/completions', eval_type='openai_api',
        datasets=['gsm8k', 'math_500'],
        dataset_args={'math_500': {'filters': {'remove_until': '</think>'}}},
        eval_batch_size=128,
        generation_config={'max_tokens': 30000, 'temperature': 0.6, 'top_p': 0.95, 'top_k': 20, 'n': 1,
                           'extra_body': {'chat_template_kwargs': {'enable_thinking': False}}},
        timeout=60000, stream=True, limit=100)
    assert task.args_for("math_500").filters == {"remove_until": "</think>"}
    assert task.generation_config.to_payload()["chat_template_kwargs"] == {"enable_thinking": False}


def test_n_becomes_repeats_and_aliases_name_the_same_backend():
    task = TaskConfig(api_url="http://h:1/v1", model="m", generation_config={"n": 4})
    assert task.repeats == 4 and task.eval_type == "openai_api"
    assert TaskConfig(eval_type="mock_llm").eval_type == "sim"
    assert TaskConfig(eval_type="llm_ckpt", model="/ckpt").eval_type == "checkpoint"


def test_unknown_dataset_args_key_is_an_error_naming_it():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="few_shot_nmu"):
        TaskConfig(eval_type="sim", datasets=["gsm8k"], dataset_args={"gsm8k": {"few_shot_nmu": 3}})


def test_public_dict_never_holds_the_key():
    task = TaskConfig(api_url="http://h:1/v1", model="m", api_key="sk-abc", model_args={"api_key": "sk-def"})
    text = repr(task.public_dict())
    assert "sk-abc" not in text and "sk-def" not in text


def test_every_field_has_its_flag():
    from assay.cli.main import build_cli

    command = build_cli().commands["eval"]
    flags = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for field in TaskConfig.model_fields:
        assert "--" + field.replace("_", "-") in flags
    assert "--resume" in flags and "--config" in flags


def _assay(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "assay", *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=cwd)


@pytest.mark.parametrize("args,message", [
    (["--datasets", "gsm8kk"], "unknown benchmark 'gsm8kk'; did you mean gsm8k"),
    (["--datasets", "gsm8k", "--generation-config", "{bad"], "bad JSON in --generation-config"),
    (["--datasets", "gsm8k", "--dataset-args", '{"gsm8k": {"dataset_id": "/no/such/file.jsonl"}}'],
     "no such file or folder"),
    (["--datasets", "gsm8k", "--dataset-hub", "local"], "dataset_args.gsm8k.dataset_id"),
    (["--datasets", "gsm8k", "--config", "/no/such.yaml"], "config file not found"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    result = _assay("eval", "--api-url", "http://127.0.0.1:9/v1", "--model", "m", "--work-dir", str(tmp_path), *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error:")


def test_several_datasets_after_one_flag(tmp_path):
    result = _assay("eval", "--api-url", "http://127.0.0.1:9/v1", "--model", "m", "--work-dir", str(tmp_path),
                    "--datasets", "gsm8k", "mmlux")
    assert "unknown benchmark 'mmlux'" in result.stderr


def test_server_down_is_one_line_and_exit_2(tmp_path):
    from .conftest import FIXTURES

    result = _assay("eval", "--api-url", "http://127.0.0.1:9/v1", "--model", "m", "--datasets", "gsm8k",
                    "--dataset-args", f'{{"gsm8k": {{"dataset_id": "{FIXTURES / "gsm8k"}"}}}}',
                    "--max-retries", "0", "--work-dir", str(tmp_path))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot connect") and "is the server up" in last


def test_wrong_api_key_is_one_line_and_exit_2(tmp_path):
    """openai_api against a simulator that wants a key: a wrong key stops the run with one line, exit 2."""
    sim = pytest.importorskip("assay.sim")
    from .conftest import FIXTURES

    with sim.SimProcess(sim.SimConfig(port=0, api_key="right-key", latency_model="fixed", ttft_ms=0, itl_ms=0)) as server:
        result = _assay("eval", "--eval-type", "openai_api", "--api-url", server.base_url, "--model", "m",
                        "--api-key", "wrong-key", "--datasets", "gsm8k",
                        "--dataset-args", f'{{"gsm8k": {{"dataset_id": "{FIXTURES / "gsm8k"}"}}}}',
                        "--work-dir", str(tmp_path))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "401" in lines[0], result.stderr
    assert "check --api-url, --api-key and --model" in lines[0] and "Traceback" not in result.stderr
    assert "wrong-key" not in result.stderr


def test_evalscope_names_are_accepted():
    """Every EvalScope name issue 9 lists: eval_type aliases, all dataset_args keys, the top-level fields."""
    every_key = {"dataset_id": "/data/gsm8k", "local_path": "/data/gsm8k", "subset_list": ["main"],
                 "few_shot_num": 0, "few_shot_random": False, "prompt_template": "{question}",
                 "system_prompt": "Be brief.", "filters": {"remove_until": "</think>", "regex": "(\\d+)"},
                 "metric_list": ["acc"], "shuffle_choices": True, "extra_params": {"anything": 1}}
    task = TaskConfig(
        model="m", api_url="http://h:1/v1/chat/completions", eval_type="openai_api", datasets=["gsm8k"],
        dataset_args={"gsm8k": every_key}, dataset_dir="/data", dataset_hub="modelscope", use_cache="/runs/r1",
        ignore_errors=True, repeats=3, judge_strategy="rule", judge_worker_num=4,
        judge_model_args={"model_id": "qwen", "api_url": "http://j:1/v1", "api_key": "sk-judge"})
    assert task.args_for("gsm8k").model_dump(exclude_unset=True) == every_key
    assert (task.dataset_dir, task.dataset_hub, task.use_cache, task.ignore_errors, task.repeats) == \
        ("/data", "modelscope", "/runs/r1", True, 3)
    assert "sk-judge" not in repr(task.public_dict())
    assert TaskConfig(eval_type="service", api_url="http://h:1/v1").eval_type == "openai_api"
    assert TaskConfig(eval_type="mock_llm", generation_config={"n": 5}).repeats == 5


@pytest.mark.parametrize("values,key", [
    ({"eval_type": "sim", "datasets": ["gsm8k"], "dataset_arg": {}}, "dataset_arg"),
    ({"eval_type": "sim", "datasets": ["gsm8k"], "generation_config": {"max_token": 5}}, "max_token"),
    ({"eval_type": "sim", "datasets": ["gsm8k"], "dataset_args": {"gsm8k": {"subsets": ["main"]}}}, "subsets"),
])
def test_unknown_keys_are_an_error_naming_the_key(values, key, tmp_path):
    from assay.eval import run_task

    with pytest.raises(ConfigError, match=key):
        run_task(values, show=False)
    path = tmp_path / "task.yaml"
    import yaml

    path.write_text(yaml.safe_dump(values))
    result = _assay("eval", "--config", str(path), "--work-dir", str(tmp_path))
    assert result.returncode == 2 and (key in result.stderr or key.replace("_", "-") in result.stderr) and result.stderr.count("\n") == 1


def test_yaml_config_fills_the_same_model(tmp_path):
    from assay.utils.config_file import load_config_file

    path = tmp_path / "task.yaml"
    path.write_text("model: m\napi_url: http://h:1/v1\ndatasets: [gsm8k]\ngeneration_config:\n  max_tokens: 64\n")
    task = TaskConfig(**load_config_file(path))
    assert task.generation_config.max_tokens == 64 and task.datasets == ["gsm8k"]
