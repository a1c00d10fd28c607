"""The run's request pool and failure handling: one pool across benchmarks, per-sample deadline, 200-OK error
bodies, --ignore-errors, and long reasoning (no silent cap; cut-off thinking flagged and counted)."""

from __future__ import annotations

import orjson
import pytest

from assay.eval import TaskConfig, run_task

from .conftest import FIXTURES, gold_answer, load_samples, sim_args

pytestmark = pytest.mark.timeout(60)
pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")

GSM = {"dataset_id": str(FIXTURES / "gsm8k")}
MMLU = {"dataset_id": str(FIXTURES / "mmlu"), "subset_list": ["abstract_algebra", "anatomy"]}


def _gold_replay(make_replay):
    gsm, mmlu = load_samples("gsm8k", **GSM), load_samples("mmlu", **MMLU)
    return make_replay(gsm + mmlu, [gold_answer(s, "math") for s in gsm] + [gold_answer(s, "mcq") for s in mmlu])


def _predictions(run_dir, benchmark="gsm8k"):
    return [orjson.loads(x) for x in (run_dir / "predictions" / f"{benchmark}.jsonl").read_bytes().splitlines()]


def test_one_pool_serves_every_benchmark_at_once(tmp_path, make_replay):
    """4 gsm8k + 3 mmlu samples, 3 slots, 300 ms answers: mmlu starts while gsm8k is still answering (no
    benchmark-by-benchmark drain), and no more than 3 requests are ever in flight."""
    args = {**sim_args(_gold_replay(make_replay)), "ttft_ms": 300}
    result = run_task(TaskConfig(eval_type="sim", model="m", model_args=args, datasets=["gsm8k", "mmlu"],
                                 dataset_args={"gsm8k": GSM, "mmlu": MMLU}, eval_batch_size=3,
                                 work_dir=str(tmp_path)), show=False)
    spans = {name: [(c["timings"]["request_start_ns"], c["timings"]["done_ns"])
                    for line in _predictions(result.run_dir, name) for c in line["completions"]]
             for name in ("gsm8k", "mmlu")}
    assert min(start for start, _ in spans["mmlu"]) < max(done for _, done in spans["gsm8k"])
    events = sorted([(s, 1) for v in spans.values() for s, _ in v] + [(d, -1) for v in spans.values() for _, d in v])
    in_flight = peak = 0
    for _, step in events:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak == 3
    assert result.reports["gsm8k"].score == 1.0 and result.reports["mmlu"].score == 1.0


def test_a_stalled_answer_hits_the_per_sample_deadline(tmp_path, make_replay):
    args = sim_args(_gold_replay(make_replay), stall_rate=1.0, stall_s=60)
    result = run_task(TaskConfig(eval_type="sim", model="m", model_args=args, datasets=["gsm8k"],
                                 dataset_args={"gsm8k": GSM}, timeout=0.5, max_retries=0, limit=2,
                                 work_dir=str(tmp_path)), show=False)
    report = result.reports["gsm8k"]
    assert report.failed_samples == 2 and report.metrics["acc"].ungraded == 2
    assert {line["completions"][0]["error"]["kind"] for line in _predictions(result.run_dir)} == {"deadline"}


def test_200_ok_with_an_error_body_is_a_failure_not_an_answer(tmp_path, make_replay):
    args = sim_args(_gold_replay(make_replay), error_200_rate=1.0)
    for stream in (True, False):
        result = run_task(TaskConfig(eval_type="sim", model="m", model_args=args, datasets=["gsm8k"], stream=stream,
                                     dataset_args={"gsm8k": GSM}, max_retries=0, work_dir=str(tmp_path)), show=False)
        report = result.reports["gsm8k"]
        assert report.failed_samples == 4 and report.score is None, stream
        for line in _predictions(result.run_dir):
            assert line["completions"][0]["error"] is not None and line["completions"][0]["text"] == ""


def test_ignore_errors_scores_failures_as_wrong_and_counts_them(tmp_path, make_replay):
    replay = _gold_replay(make_replay)
    base = dict(eval_type="sim", model="m", datasets=["gsm8k"], dataset_args={"gsm8k": GSM}, max_retries=0,
                eval_batch_size=1)
    args = sim_args(replay, error_200_rate=0.5, seed=3)
    kept = run_task(TaskConfig(**base, model_args=args, work_dir=str(tmp_path / "a")), show=False).reports["gsm8k"]
    failed = kept.failed_samples
    assert 0 < failed < 4
    assert kept.score == 1.0 and kept.metrics["acc"].ungraded == failed and kept.failed_scored_as == "ungraded"
    ignored = run_task(TaskConfig(**base, model_args=args, ignore_errors=True, work_dir=str(tmp_path / "b")),
                       show=False)
    report = ignored.reports["gsm8k"]
    assert report.failed_samples == failed and report.failed_scored_as == "wrong"
    assert report.score == pytest.approx((4 - failed) / 4) and report.metrics["acc"].num == 4
    markdown = (ignored.run_dir / "reports" / "report.md").read_text()
    assert f"gsm8k: {failed} samples failed (request errors), scored as wrong (--ignore-errors)" in markdown


def test_a_rejected_key_with_ignore_errors_records_every_sample(tmp_path, make_replay):
    args = sim_args(_gold_replay(make_replay), api_key="right")  # the backend sends it: use a wrong one instead
    from assay.sim import SimConfig, SimServer
    import asyncio

    async def run():
        async with SimServer(SimConfig(**{**args, "port": 0})) as server:
            task = TaskConfig(model="m", api_url=server.base_url, api_key="wrong", datasets=["gsm8k"],
                              dataset_args={"gsm8k": GSM}, ignore_errors=True, max_retries=0, work_dir=str(tmp_path))
            from assay.eval.runner import arun_task

            return await arun_task(task, show=False)

    report = asyncio.run(run()).reports["gsm8k"]
    assert report.failed_samples == 4 and report.score == 0.0 and report.failed_scored_as == "wrong"


def test_no_silent_token_cap_by_default():
    task = TaskConfig(model="m", api_url="http://127.0.0.1:9/v1")
    assert task.generation_config.max_tokens is None
    assert "max_tokens" not in task.generation_config.to_payload()  # the server's own limit applies


def test_the_checkpoint_backend_has_no_small_default_cap():
    from types import SimpleNamespace

    from assay.models.checkpoint import CheckpointModel

    model = CheckpointModel(model="/ckpt")
    model._model = SimpleNamespace(generation_config=SimpleNamespace(max_new_tokens=None),
                                   config=SimpleNamespace(max_position_embeddings=40960))
    assert model._default_max_new_tokens(960) == 40000
    model._model.generation_config.max_new_tokens = 32768
    assert model._default_max_new_tokens(960) == 32768


def test_thinking_cut_off_is_flagged_in_predictions_and_counted(tmp_path):
    samples = load_samples("gsm8k", **GSM)
    replay = tmp_path / "replay.jsonl"
    entries = [
        # reasoning returned apart, cut off by max_tokens before any answer
        {"response": "", "reasoning": f"maybe \\boxed{{{samples[0].target}}} but let me", "finish_reason": "length"},
        # inline thinking that never closed
        {"response": f"<think>so it is \\boxed{{{samples[1].target}}} or", "finish_reason": "length"},
        # a finished answer that hit the limit after the thinking ended: truncated, not unfinished thinking
        {"response": f"<think>ok</think>The answer is \\boxed{{{samples[2].target}}}", "finish_reason": "length"},
        {"response": f"<think>ok</think>\\boxed{{{samples[3].target}}}"},
    ]
    with replay.open("wb") as handle:
        for sample, entry in zip(samples, entries):
            prompt = [m for m in sample.messages if m.role == "user"][-1].text()
            handle.write(orjson.dumps({"prompt": prompt, **entry}) + b"\n")
    result = run_task(TaskConfig(eval_type="sim", model="m", model_args=sim_args(replay, reasoning="field"),
                                 datasets=["gsm8k"], dataset_args={"gsm8k": {**GSM, "filters": {"remove_until": "</think>"}}},
                                 work_dir=str(tmp_path / "out")), show=False)
    report = result.reports["gsm8k"]
    assert report.unfinished_reasoning == 2 and report.truncated_answers == 3
    assert report.score == 0.5  # the boxed numbers inside cut-off thinking were never graded
    flags = {line["sample"]["id"]: line["scores"][0]["metadata"] for line in _predictions(result.run_dir)}
    assert flags["0"].get("unfinished_reasoning") and flags["1"].get("unfinished_reasoning")
    assert not flags["2"].get("unfinished_reasoning") and flags["2"].get("truncated")
    assert "2 answers were cut off while thinking" in (result.run_dir / "reports" / "report.md").read_text()
