"""RunManifest.load on every manifest shape assay has written (fixtures in fixtures/manifests, copied from what
the runner wrote before the typed model), and one clear line for a file that is not a manifest."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from assay.errors import ConfigError
from assay.types.manifest import SCHEMA_VERSION, BenchmarkEntry, RunManifest

OLD = Path(__file__).parent / "fixtures" / "manifests"


def test_the_first_shape_moves_scores_into_the_benchmark_entries():
    manifest = RunManifest.load(OLD / "v0_finished.json")
    assert manifest.schema_version == SCHEMA_VERSION and manifest.status == "finished"
    assert manifest.run_id == "20261129_101500_old-model" and manifest.model == "old-model"
    assert manifest.started_at == dt.datetime(2026, 11, 29, 10, 15)
    assert manifest.finished_at == dt.datetime(2026, 11, 29, 10, 20, 31) and manifest.resumed_at is None
    gsm8k = manifest.benchmarks["gsm8k"]
    assert (gsm8k.name, gsm8k.version, gsm8k.main_metric, gsm8k.score, gsm8k.num_samples) == ("gsm8k", "1", "acc",
                                                                                               0.5, 4)
    assert gsm8k.stderr is None and gsm8k.tags == [] and gsm8k.task_type is None  # never recorded then
    assert manifest.fingerprint.repeats is None and manifest.fingerprint.scoring == {}  # so resume sees a change
    assert manifest.fingerprint.benchmarks["mmlu"] == {"version": "1", "few_shot_num": 0}


def test_the_shape_with_preset_requests_and_stderr():
    manifest = RunManifest.load(OLD / "v1_finished_preset.json")
    assert manifest.preset == {"name": "qwen3-thinking", "sha256": "0123abcd4567ef", "builtin": True}
    assert manifest.resumed_at == dt.datetime(2026, 12, 5, 9, 30)
    assert manifest.requests is not None and manifest.requests.failed == 3 and manifest.requests.sent == 2420
    assert manifest.benchmarks["aime24"].stderr == 0.08 and manifest.benchmarks["math_500"].num_samples == 500
    assert manifest.fingerprint.repeats == {"default": 1, "aime24": 64}


def test_an_interrupted_run_has_no_scores():
    manifest = RunManifest.load(OLD / "v1_interrupted.json")
    assert manifest.status == "interrupted" and manifest.finished_at is None and manifest.error == ""
    assert manifest.benchmarks == {"gsm8k": BenchmarkEntry(name="gsm8k", version="2")}


def test_the_smallest_shape_and_a_run_id_from_the_file_s_folder(tmp_path):
    manifest = RunManifest.load(OLD / "minimal.json")
    assert (manifest.model, manifest.status, manifest.benchmarks["gsm8k"].main_metric) == ("big-model", "finished",
                                                                                           None)
    folder = tmp_path / "20260101_000000_x"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"model": "m", "scores": {"gsm8k": {"metric": "acc", "score": 1.0}}}')
    made = RunManifest.load(folder / "manifest.json")
    assert made.run_id == "20260101_000000_x" and made.status == "finished"  # status: what the fields say
    (folder / "manifest.json").write_text('{"model": "m", "error": "boom"}')
    assert RunManifest.load(folder / "manifest.json").status == "failed"
    (folder / "manifest.json").write_text('{"model": "m"}')
    assert RunManifest.load(folder / "manifest.json").status == "interrupted"


@pytest.mark.parametrize("name", sorted(p.name for p in OLD.glob("*.json")))
def test_every_old_shape_round_trips_once_upgraded(tmp_path, name):
    shutil.copy(OLD / name, tmp_path / "manifest.json")
    manifest = RunManifest.load(tmp_path / "manifest.json")
    manifest.write(tmp_path / "manifest.json")
    assert RunManifest.load(tmp_path / "manifest.json") == manifest
    assert RunManifest.model_validate_json((tmp_path / "manifest.json").read_text()) == manifest


@pytest.mark.parametrize("text,says", [
    (b'{"run_id": "x", "status', "damaged, not JSON"),
    (b"\xff\xfe", "damaged, not JSON"),
    (b"[1, 2]", "not a run manifest (a JSON list, not an object)"),
    (b'{"status": "exploded"}', "not a run manifest (status:"),
    (b'{"status": "finished", "benchmarks": {"gsm8k": {"version": []}}}', "benchmarks.gsm8k.version"),
])
def test_what_is_not_a_manifest_is_one_line(tmp_path, text, says):
    path = tmp_path / "manifest.json"
    path.write_bytes(text)
    with pytest.raises(ConfigError) as raised:
        RunManifest.load(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and says in message and "\n" not in message


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        RunManifest.load(tmp_path / "manifest.json")
