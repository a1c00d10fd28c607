"""The manifest a real run writes (against the simulator) is a valid RunManifest that round-trips, carries each
benchmark's version, task type, tags, subsets and headline, and is updated on resume and on failure."""

from __future__ import annotations

import pytest

from assay.errors import ModelError
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.types.manifest import SCHEMA_VERSION, RunManifest

from .conftest import FIXTURES, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(60)
pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")

ARGS = {"gsm8k": {"dataset_id": str(FIXTURES / "gsm8k")},
        "mmlu": {"dataset_id": str(FIXTURES / "mmlu"), "subset_list": ["abstract_algebra", "anatomy"]}}


def _task(tmp_path, replay, **extra) -> TaskConfig:
    return TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=list(ARGS),
                      dataset_args=ARGS, work_dir=str(tmp_path / "out"), eval_batch_size=4, **extra)


@pytest.fixture
def replay(make_replay):
    gsm8k, mmlu = load_samples("gsm8k", **ARGS["gsm8k"]), load_samples("mmlu", **ARGS["mmlu"])
    responses = [gold_answer(s, "math") for s in gsm8k] + [gold_answer(mmlu[0], "mcq"), wrong_answer(mmlu[1], "mcq"),
                                                           gold_answer(mmlu[2], "mcq")]
    return make_replay(gsm8k + mmlu, responses)


def test_a_finished_run_writes_a_manifest_that_validates_and_round_trips(tmp_path, replay):
    result = run_task(_task(tmp_path, replay, api_url="http://user:hunter2@sim.invalid/v1"), show=False)
    path = result.run_dir / "manifest.json"
    manifest = RunManifest.load(path)
    assert path.read_text(encoding="utf-8") == manifest.model_dump_json(indent=2)  # written through the model
    assert RunManifest.model_validate_json(path.read_bytes()) == manifest
    assert manifest.schema_version == SCHEMA_VERSION and manifest.status == "finished"
    assert manifest.run_id == result.run_dir.name and manifest.model == "replay-model" and manifest.eval_type == "sim"
    assert manifest.started_at is not None and manifest.finished_at is not None
    assert manifest.started_at <= manifest.finished_at and manifest.resumed_at is None
    assert manifest.api_url is not None and "hunter2" not in manifest.api_url and "sim.invalid" in manifest.api_url
    assert "hunter2" not in path.read_text()
    assert manifest.assay_version and manifest.preset is None and manifest.error is None
    assert manifest.requests is not None and (manifest.requests.sent, manifest.requests.failed) == (7, 0)

    gsm8k, mmlu = manifest.benchmarks["gsm8k"], manifest.benchmarks["mmlu"]
    assert (gsm8k.version, gsm8k.task_type, gsm8k.tags) == ("2", "math", list(get_benchmark("gsm8k").tags))
    assert (mmlu.task_type, mmlu.subsets, mmlu.num_samples, mmlu.repeats) == ("mcq", ["abstract_algebra", "anatomy"],
                                                                            3, 1)
    assert (gsm8k.main_metric, gsm8k.score, gsm8k.num_samples, gsm8k.failed_samples) == ("acc", 1.0, 4, 0)
    assert mmlu.score == pytest.approx(2 / 3) and mmlu.stderr == pytest.approx(1 / 3)
    report = result.reports["mmlu"]
    assert mmlu.ci95 == report.metrics["acc"].ci95 and mmlu.truncated_answers == report.truncated_answers == 0
    assert manifest.fingerprint.model is not None and manifest.fingerprint.model["type"] == "sim"
    assert set(manifest.fingerprint.benchmarks) == {"gsm8k", "mmlu"}


def test_a_resumed_run_keeps_its_start_and_records_the_resume(tmp_path, replay):
    first = run_task(_task(tmp_path, replay, limit=2), show=False)
    before = RunManifest.load(first.run_dir / "manifest.json")
    assert before.benchmarks["gsm8k"].num_samples == 2
    again = run_task(_task(tmp_path, replay, use_cache=str(first.run_dir)), show=False)
    after = RunManifest.load(again.run_dir / "manifest.json")
    assert after.started_at == before.started_at and after.resumed_at is not None
    assert after.status == "finished" and after.benchmarks["gsm8k"].num_samples == 4
    # the limit is per subset, so mmlu's small subsets were whole already: only gsm8k's last two are asked
    assert after.requests is not None and after.requests.sent == 2 and after.benchmarks["mmlu"].num_samples == 3


def test_a_run_that_stops_on_a_dead_server_says_failed_with_its_error(tmp_path, replay):
    task = TaskConfig(eval_type="openai_api", api_url="http://127.0.0.1:9/v1", model="m", datasets=["gsm8k"],
                      dataset_args={"gsm8k": ARGS["gsm8k"]}, work_dir=str(tmp_path / "out"), eval_batch_size=1)
    with pytest.raises(ModelError):
        run_task(task, show=False)
    (path,) = (tmp_path / "out").glob("*/manifest.json")
    manifest = RunManifest.load(path)
    assert manifest.status == "failed" and manifest.error and manifest.finished_at is None
    assert manifest.benchmarks["gsm8k"].score is None and manifest.benchmarks["gsm8k"].num_samples == 4
