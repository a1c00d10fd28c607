"""Resume: a run killed with -9 continues where it stopped and ends with the report of an uninterrupted run;
a resumed run computes only what is missing and refuses settings that would change the answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from assay.errors import ConfigError
from assay.eval import TaskConfig, run_task

from .conftest import FIXTURES, counting_gsm8k, gold_answer, load_samples, sim_args, wait_for_predictions, wrong_answer

pytestmark = pytest.mark.timeout(90)
sim = pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")
if not hasattr(sim, "SimServer"):
    pytest.skip("assay.sim has no SimServer yet", allow_module_level=True)

ARGS = {"gsm8k": {"dataset_id": str(FIXTURES / "gsm8k")}}
MMLU = {"dataset_id": str(FIXTURES / "mmlu"), "subset_list": ["abstract_algebra", "anatomy"]}


def _mixed_replay(make_replay, args=ARGS, name="gsm8k", task_type="math", file="replay.jsonl"):
    samples = load_samples(name, **args[name])
    return make_replay(samples, [(gold_answer if i % 2 == 0 else wrong_answer)(s, task_type)
                                 for i, s in enumerate(samples)], file)


def _lines(run_dir: Path, benchmark: str = "gsm8k") -> list[dict]:
    return [orjson.loads(line) for line in (run_dir / "predictions" / f"{benchmark}.jsonl").read_bytes().splitlines()]


def _ids(run_dir: Path, benchmark: str = "gsm8k") -> list[str]:
    return [line["sample"]["id"] for line in _lines(run_dir, benchmark)]


def _report_without_model(report):
    return report.model_dump(exclude={"model"})


def test_killed_at_half_then_resumed_with_a_larger_limit_equals_a_fresh_run(tmp_path, make_replay):
    """The acceptance test of issue 9: kill -9 at 50% of --limit 6, resume with --limit 12."""
    args = counting_gsm8k(tmp_path / "gsm8k")
    replay = _mixed_replay(make_replay, args)
    work = tmp_path / "out"
    model_args = {**sim_args(replay), "ttft_ms": 300}  # slow answers, one at a time: the kill lands mid-run
    command = [sys.executable, "-m", "assay", "eval", "--eval-type", "sim", "--model", "m",
               "--model-args", orjson.dumps(model_args).decode(), "--datasets", "gsm8k", "--limit", "6",
               "--dataset-args", orjson.dumps(args).decode(), "--eval-batch-size", "1", "--work-dir", str(work)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    predictions = wait_for_predictions(work, process, 3, timeout_s=40)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert predictions is not None, "the run never wrote three samples"
    run_dir = predictions.parent.parent
    before = _ids(run_dir)
    assert 3 <= len(before) < 6, before
    with predictions.open("ab") as handle:  # as if killed in the middle of writing a line
        handle.write(b'{"sample": {"id": "torn')

    resumed = run_task(TaskConfig(eval_type="sim", model="m", model_args=model_args, datasets=["gsm8k"],
                                  dataset_args=args, limit=12, eval_batch_size=4, use_cache=str(run_dir)), show=False)
    after = _ids(run_dir)
    assert after[: len(before)] == before, "earlier answers were rewritten"
    assert len(after) == len(set(after)) == 12, "a finished sample was asked again"
    fresh = run_task(TaskConfig(eval_type="sim", model="m", model_args=model_args, datasets=["gsm8k"],
                                dataset_args=args, limit=12, eval_batch_size=4,
                                work_dir=str(tmp_path / "fresh")), show=False)
    assert resumed.reports["gsm8k"].num == 12 and resumed.reports["gsm8k"].score == 0.5
    assert _report_without_model(resumed.reports["gsm8k"]) == _report_without_model(fresh.reports["gsm8k"])
    saved = orjson.loads((run_dir / "reports" / "gsm8k.json").read_bytes())
    assert saved["num"] == 12 and saved["score"] == 0.5


def test_a_larger_limit_asks_only_the_new_samples_and_keeps_the_earlier_ones(tmp_path, make_replay):
    replay = _mixed_replay(make_replay)
    base = dict(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["gsm8k"], dataset_args=ARGS)
    first = run_task(TaskConfig(**base, limit=2, work_dir=str(tmp_path)), show=False)
    assert first.reports["gsm8k"].num == 2
    stamps = [line["completions"][0]["timings"]["request_start_ns"] for line in _lines(first.run_dir)]
    second = run_task(TaskConfig(**base, limit=4, use_cache=str(first.run_dir)), show=False)
    assert _ids(first.run_dir) == ["0", "1", "2", "3"]
    assert [line["completions"][0]["timings"]["request_start_ns"] for line in _lines(first.run_dir)][:2] == stamps
    assert second.reports["gsm8k"].num == 4 and second.reports["gsm8k"].score == 0.5


def test_adding_a_benchmark_asks_only_that_benchmark(tmp_path, make_replay):
    gsm = load_samples("gsm8k", **ARGS["gsm8k"])
    mmlu = load_samples("mmlu", **MMLU)
    replay = make_replay(gsm + mmlu, [gold_answer(s, "math") for s in gsm] + [gold_answer(s, "mcq") for s in mmlu])
    base = dict(eval_type="sim", model="m", model_args=sim_args(replay))
    first = run_task(TaskConfig(**base, datasets=["gsm8k"], dataset_args=ARGS, work_dir=str(tmp_path)), show=False)
    second = run_task(TaskConfig(**base, datasets=["gsm8k", "mmlu"], dataset_args={**ARGS, "mmlu": MMLU},
                                 use_cache=str(first.run_dir)), show=False)
    assert len(_lines(first.run_dir)) == 4, "gsm8k was asked again"
    assert len(_lines(first.run_dir, "mmlu")) == 3
    assert second.reports["gsm8k"].score == 1.0 and second.reports["mmlu"].score == 1.0
    manifest = orjson.loads((first.run_dir / "manifest.json").read_bytes())
    assert set(manifest["benchmarks"]) == {"gsm8k", "mmlu"} and manifest["status"] == "finished"


def test_adding_a_metric_grades_stored_answers_without_asking_again(tmp_path, make_replay):
    replay = _mixed_replay(make_replay, {"mmlu": MMLU}, "mmlu", "mcq")
    base = dict(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["mmlu"])
    first = run_task(TaskConfig(**base, dataset_args={"mmlu": {**MMLU, "metric_list": ["acc"]}},
                                work_dir=str(tmp_path)), show=False)
    assert list(first.reports["mmlu"].metrics) == ["acc"]
    # As if the earlier run had computed only the metric it reported: drop acc_strict from what it stored.
    path = first.run_dir / "predictions" / "mmlu.jsonl"
    lines = _lines(first.run_dir, "mmlu")
    for line in lines:
        for score in line["scores"]:
            score["values"].pop("acc_strict")
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    second = run_task(TaskConfig(**base, dataset_args={"mmlu": {**MMLU, "metric_list": ["acc", "acc_strict"]}},
                                 use_cache=str(first.run_dir)), show=False)
    report = second.reports["mmlu"]
    assert report.metrics["acc_strict"].score == pytest.approx(2 / 3) and report.metrics["acc"].num == 3
    after = _lines(first.run_dir, "mmlu")
    assert len(after) == 6  # three re-graded lines appended, each with the stored completion (no request)
    assert [a["completions"] for a in after[3:]] == [b["completions"] for b in lines]
    with pytest.raises(ConfigError, match="has no metric 'acc_strictt'"):
        run_task(TaskConfig(**base, dataset_args={"mmlu": {**MMLU, "metric_list": ["acc_strictt"]}},
                            use_cache=str(first.run_dir)), show=False)


def test_a_changed_filter_regrades_stored_answers(tmp_path, make_replay):
    samples = load_samples("gsm8k", **ARGS["gsm8k"])
    replay = make_replay(samples, [f"ANSWER[{s.target}] but the final answer is \\boxed{{0}}" for s in samples])
    base = dict(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["gsm8k"])
    first = run_task(TaskConfig(**base, dataset_args=ARGS, work_dir=str(tmp_path)), show=False)
    assert first.reports["gsm8k"].score == 0.0
    regex = {"gsm8k": {**ARGS["gsm8k"], "filters": {"regex": r"ANSWER\[(\d+)\]"}}}
    second = run_task(TaskConfig(**base, dataset_args=regex, use_cache=str(first.run_dir)), show=False)
    assert second.reports["gsm8k"].score == 1.0 and len(_lines(first.run_dir)) == 8


def test_resume_refuses_changed_answers_in_one_line_and_fresh_starts_over(tmp_path, make_replay):
    replay = _mixed_replay(make_replay)
    base = dict(eval_type="sim", model="m", model_args=sim_args(replay), datasets=["gsm8k"], dataset_args=ARGS)
    first = run_task(TaskConfig(**base, limit=1, work_dir=str(tmp_path)), show=False)
    with pytest.raises(ConfigError, match=r"generation_config changed \(generation_config.temperature: None → 0.5\)"
                                          r".*pass --fresh") as caught:
        run_task(TaskConfig(**base, use_cache=str(first.run_dir), generation_config={"temperature": 0.5}),
                 show=False)
    assert "\n" not in str(caught.value)
    changed_prompt = {"gsm8k": {**ARGS["gsm8k"], "system_prompt": "Be brief."}}
    with pytest.raises(ConfigError, match="gsm8k prompt/version changed.*system_prompt"):
        run_task(TaskConfig(**{**base, "dataset_args": changed_prompt}, use_cache=str(first.run_dir)), show=False)
    with pytest.raises(ConfigError, match="model changed"):
        run_task(TaskConfig(**{**base, "model": "other"}, use_cache=str(first.run_dir)), show=False)
    fresh = run_task(TaskConfig(**base, use_cache=str(first.run_dir), fresh=True, work_dir=str(tmp_path),
                                generation_config={"temperature": 0.5}), show=False)
    assert fresh.run_dir != first.run_dir and fresh.reports["gsm8k"].num == 4
    assert len(_lines(first.run_dir)) == 1, "the earlier run was touched"
