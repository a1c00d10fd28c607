"""Presets: a model card's sampling settings and repeats, filled in under what the user gave, and recorded."""

from __future__ import annotations

import hashlib

import orjson
import pytest
import yaml

from assay.errors import ConfigError
from assay.eval.config import TaskConfig
from assay.eval.presets import builtin_presets, load_preset
from assay.types.generation import GenerationConfig

from .conftest import FIXTURES, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(120)


def test_the_shipped_presets_hold_the_model_cards_numbers():
    assert list(builtin_presets()) == ["deepseek-r1", "qwen3-non-thinking", "qwen3-thinking"]
    thinking = load_preset("qwen3-thinking").preset
    assert thinking.generation_config.model_dump(exclude_unset=True) == {
        "temperature": 0.6, "top_p": 0.95, "top_k": 20, "max_tokens": 38912,
        "extra_body": {"chat_template_kwargs": {"enable_thinking": True}}}
    assert {name: b.repeats for name, b in thinking.benchmarks.items()} == {
        "aime24": 64, "aime25": 64, "gpqa_diamond": 10}
    plain = load_preset("qwen3-non-thinking").preset.generation_config
    assert (plain.temperature, plain.top_p, plain.top_k, plain.presence_penalty) == (0.7, 0.8, 20, 1.5)
    assert plain.extra_body == {"chat_template_kwargs": {"enable_thinking": False}}
    r1 = load_preset("deepseek-r1").preset
    assert (r1.generation_config.temperature, r1.generation_config.top_p, r1.generation_config.max_tokens) == \
        (0.6, 0.95, 32768)
    assert r1.benchmarks["aime24"].repeats == 64 and r1.generation_config.extra_body == {}
    for name in builtin_presets():
        assert load_preset(name).preset.source  # each says where its numbers come from


def test_a_preset_fills_in_under_the_explicit_values():
    task = TaskConfig(eval_type="sim", preset="qwen3-thinking", datasets=["aime24", "gsm8k"],
                      generation_config={"temperature": 1.0, "extra_body": {"chat_template_kwargs": {"x": 1}}})
    gen = task.generation_config
    assert (gen.temperature, gen.top_p, gen.top_k, gen.max_tokens) == (1.0, 0.95, 20, 38912)
    assert gen.extra_body == {"chat_template_kwargs": {"enable_thinking": True, "x": 1}}  # merged, not replaced
    assert (task.repeats, task.repeats_for("aime24"), task.repeats_for("gsm8k")) == (1, 64, 1)
    assert task.dataset_args["aime24"].repeats == 64 and "gsm8k" not in task.dataset_args


@pytest.mark.parametrize("explicit,aime_repeats", [
    ({"repeats": 2}, 2),  # the task's repeats win over the preset's for every benchmark
    ({"generation_config": {"n": 3}}, 3),
    ({"dataset_args": {"aime24": {"repeats": 5}}}, 5),
])
def test_explicit_repeats_win(explicit, aime_repeats):
    task = TaskConfig(eval_type="sim", preset="qwen3-thinking", datasets=["aime24"], **explicit)
    assert task.repeats_for("aime24") == aime_repeats


def test_a_python_generation_config_keeps_only_what_it_set():
    task = TaskConfig(eval_type="sim", preset="deepseek-r1", generation_config=GenerationConfig(max_tokens=100))
    assert (task.generation_config.max_tokens, task.generation_config.temperature) == (100, 0.6)
    again = TaskConfig(**task.model_dump())  # re-applying to a filled config changes nothing
    assert again.generation_config == task.generation_config and again.preset_record == task.preset_record


def test_a_users_preset_file_by_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("description: mine\ngeneration_config: {temperature: 0.3}\nrepeats: 2\n"
                    "benchmarks: {gsm8k: {repeats: 4}}\n")
    task = TaskConfig(eval_type="sim", preset=str(path), datasets=["gsm8k", "mmlu"])
    assert task.generation_config.temperature == 0.3 and task.repeats == 2 and task.repeats_for("gsm8k") == 4
    assert task.preset_record == {"name": "mine", "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                  "builtin": False, "path": str(path)}
    json_path = tmp_path / "mine.json"
    json_path.write_text('{"generation_config": {"top_p": 0.5}}')
    assert TaskConfig(eval_type="sim", preset=str(json_path)).generation_config.top_p == 0.5


def test_bad_presets_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError) as info:
        TaskConfig(eval_type="sim", preset="qwen4")
    assert str(info.value) == ("unknown preset 'qwen4' (known: deepseek-r1, qwen3-non-thinking, qwen3-thinking; "
                               "or a path to a .yaml/.json preset file)")
    bad = tmp_path / "bad.yaml"
    bad.write_text("generation_config: {temprature: 0.3}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: bad value for generation_config.temprature: unknown key"):
        TaskConfig(eval_type="sim", preset=str(bad))


def test_the_cli_names_the_known_presets_and_exits_2(capsys):
    from assay.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["eval", "--eval-type", "sim", "--datasets", "gsm8k", "--preset", "nope"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "unknown preset 'nope'" in err and "qwen3-thinking" in err


def test_end_to_end_a_preset_run_reports_maj_and_pass_hat_and_records_the_preset(tmp_path, make_replay, capsys):
    """The CLI with --preset qwen3-thinking against the simulator's replay: AIME gets its 64 repeats, an explicit
    --generation-config key wins, and the report and manifest name the preset."""
    from assay.cli.main import main

    args = {"dataset_id": str(FIXTURES / "aime24")}
    samples = load_samples("aime24", **args)
    assert len(samples) == 3
    replay = make_replay(samples, [gold_answer(samples[0], "math"), gold_answer(samples[1], "math"),
                                   wrong_answer(samples[2], "math")])
    work = tmp_path / "out"
    main(["eval", "--eval-type", "sim", "--model", "replay-model",
          "--model-args", orjson.dumps(sim_args(replay)).decode(),
          "--datasets", "aime24", "--dataset-args", orjson.dumps({"aime24": args}).decode(),
          "--preset", "qwen3-thinking", "--generation-config", '{"temperature": 0.2}', "--eval-batch-size", "16",
          "--work-dir", str(work)])
    [run] = [p.parent for p in work.glob("*/manifest.json")]
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["preset"] == "qwen3-thinking" and config["dataset_args"]["aime24"]["repeats"] == 64
    gen = config["generation_config"]
    assert (gen["temperature"], gen["top_p"], gen["top_k"], gen["max_tokens"]) == (0.2, 0.95, 20, 38912)
    assert gen["extra_body"] == {"chat_template_kwargs": {"enable_thinking": True}}
    shipped = builtin_presets()["qwen3-thinking"]
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    manifest = orjson.loads((run / "manifest.json").read_bytes())
    assert manifest["status"] == "finished"
    assert manifest["preset"] == {"name": "qwen3-thinking", "sha256": digest, "builtin": True}
    assert manifest["fingerprint"]["repeats"] == {"default": 1, "aime24": 64}
    report = orjson.loads((run / "reports" / "aime24.json").read_bytes())
    assert report["repeats"] == 64 and report["preset"] == f"qwen3-thinking (sha256 {digest[:12]})"
    lines = (run / "predictions" / "aime24.jsonl").read_bytes().splitlines()
    assert [len(orjson.loads(line)["completions"]) for line in lines] == [64, 64, 64]
    metrics = report["metrics"]
    assert list(metrics) == ["acc", "pass@64", "maj@64", "pass^64"]
    for name in metrics:  # the replay answers each question the same every time: 1, 1, 0 on every metric
        assert metrics[name]["score"] == pytest.approx(2 / 3) and metrics[name]["stderr"] == pytest.approx(1 / 3)
    table = (run / "reports" / "report.md").read_text()
    assert "| maj@64 |" in table and "| pass^64 |" in table
    assert f"- aime24 preset: qwen3-thinking (sha256 {digest[:12]})" in table
    assert "maj@64" in capsys.readouterr().out  # the printed table too


def test_resuming_a_preset_run_asks_nothing_again_and_refuses_other_repeats(tmp_path, make_replay):
    from assay.eval import run_task

    args = {"dataset_id": str(FIXTURES / "aime24")}
    samples = load_samples("aime24", **args)
    replay = make_replay(samples, [gold_answer(s, "math") for s in samples])

    def task(**extra):
        return TaskConfig(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["aime24"],
                          dataset_args={"aime24": {**args, **extra.pop("aime24", {})}}, preset="deepseek-r1",
                          work_dir=str(tmp_path), eval_batch_size=16, **extra)

    first = run_task(task(), show=False)
    assert first.failures.requests == 3 * 64 and first.reports["aime24"].metrics["maj@64"].score == 1.0
    again = run_task(task(use_cache=str(first.run_dir)), show=False)
    assert again.failures.requests == 0 and again.reports["aime24"].metrics["pass^64"].score == 1.0
    with pytest.raises(ConfigError, match=r"repeats changed \(repeats.aime24: 64 → 8"):
        run_task(task(use_cache=str(first.run_dir), aime24={"repeats": 8}), show=False)
