"""The viewer describes a run from its manifest alone: older manifest shapes still list, tags and task types come
from the manifest (the benchmark registry is never imported), and the folder's name is not parsed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assay.app import readers
from assay.app.readers import Outputs
from assay.errors import ConfigError
from assay.types.manifest import BenchmarkEntry, RunManifest

OLD = Path(__file__).resolve().parents[1] / "types" / "fixtures" / "manifests"


def _run_folder(root: Path, name: str, manifest: Path | RunManifest) -> Path:
    folder = root / name
    (folder / "predictions").mkdir(parents=True)
    if isinstance(manifest, RunManifest):
        manifest.write(folder / "manifest.json")
    else:
        shutil.copy(manifest, folder / "manifest.json")
    return folder


def test_older_manifests_list_with_their_scores(tmp_path):
    _run_folder(tmp_path, "a", OLD / "v0_finished.json")
    _run_folder(tmp_path, "b", OLD / "v1_finished_preset.json")
    _run_folder(tmp_path, "c", OLD / "v1_interrupted.json")
    runs = {r.run_id: r for r in readers.list_eval_runs(Outputs(tmp_path))}
    assert [r.run_id for r in readers.list_eval_runs(Outputs(tmp_path))] == ["c", "b", "a"]  # newest start first
    assert (runs["a"].model, runs["a"].status, runs["a"].started) == ("old-model", "finished", "2026-11-29T10:15:00")
    assert runs["a"].scores == pytest.approx({"gsm8k": 0.5, "mmlu": 2 / 3})
    assert runs["b"].main_metrics == {"aime24": "acc", "math_500": "acc"}
    assert (runs["c"].status, runs["c"].datasets, runs["c"].scores) == ("interrupted", ("gsm8k",), {"gsm8k": None})
    assert readers.task_type_scores(runs["a"]) == pytest.approx({"other": (0.5 + 2 / 3) / 2})  # no tags then


def test_tags_and_task_types_come_from_the_manifest_not_the_registry(tmp_path):
    # gsm8k's registry tags are en + math: the manifest's own say otherwise, and the viewer believes the manifest
    manifest = RunManifest(run_id="x", status="finished", model="m", benchmarks={
        "gsm8k": BenchmarkEntry(name="gsm8k", task_type="qa", tags=["en", "reading"], main_metric="acc", score=0.5),
        "made_up": BenchmarkEntry(name="made_up", task_type="code", tags=["code"], main_metric="pass@1", score=1.0),
        "mixed": BenchmarkEntry(name="mixed", tags=["code", "zh"], main_metric="acc", score=0.0),
    })
    _run_folder(tmp_path, "20991231_235959_not-a-date-source", manifest)
    run = readers.read_eval_run(Outputs(tmp_path), "20991231_235959_not-a-date-source")
    assert run.task_types == {"gsm8k": "qa", "made_up": "code"} and run.tags["mixed"] == ("code", "zh")
    assert readers.task_type_scores(run) == {"reading": 0.5, "code": 0.5}
    assert run.started == "" and run.manifest == manifest  # no start recorded: none taken from the folder's name


def test_a_damaged_manifest_is_a_one_line_error_and_left_out_of_the_list(tmp_path):
    folder = _run_folder(tmp_path, "bad", OLD / "minimal.json")
    (folder / "manifest.json").write_bytes(b'{"run_id": "bad", "sta')
    _run_folder(tmp_path, "good", OLD / "minimal.json")
    with pytest.raises(ConfigError, match="damaged, not JSON"):
        readers.read_eval_run(Outputs(tmp_path), "bad")
    assert [r.run_id for r in readers.list_eval_runs(Outputs(tmp_path))] == ["good"]


def test_the_reader_never_imports_the_benchmark_registry(tmp_path):
    _run_folder(tmp_path, "a", OLD / "v0_finished.json")
    code = (
        "import sys\n"
        "from assay.app import readers, samples, perf_think\n"
        f"runs = readers.list_eval_runs(readers.Outputs({str(tmp_path)!r}))\n"
        "assert runs and readers.task_type_scores(runs[0])\n"
        "assert 'assay.eval.benchmarks' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": ":".join(sys.path)})
    assert done.returncode == 0, done.stderr
    source = (Path(readers.__file__).parent).glob("*.py")
    assert not [p.name for p in source if "assay.eval.benchmarks" in p.read_text(encoding="utf-8")]
