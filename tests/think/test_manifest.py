"""``assay think`` names a run by the model its manifest records, whatever the manifest's age, and never by the
folder's name; a manifest that is not JSON stops it with one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from assay.errors import ConfigError
from assay.think import ThinkConfig, run_think
from assay.types.manifest import RunManifest

from .conftest import build_word_tokenizer
from .test_e2e import eval_run

pytestmark = pytest.mark.timeout(90)
OLD = Path(__file__).resolve().parents[1] / "types" / "fixtures" / "manifests"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return eval_run(tmp_path_factory.mktemp("think-manifest"), "fast")


def _think(run: Path, tmp_path: Path):
    return run_think(ThinkConfig(runs=[str(run)], dataset="math_500", output_dir=str(tmp_path / "think"),
                                 tokenizer_path=str(build_word_tokenizer(tmp_path / "tokenizer.json"))), show=False)


def test_a_current_run_is_labelled_by_its_manifest(run, tmp_path):
    assert RunManifest.load(run / "manifest.json").model == "fast-thinker"
    assert [row.model for row in _think(run, tmp_path).report.rows][0] == "fast-thinker"


def test_an_older_manifest_still_names_the_run(run, tmp_path):
    copy = tmp_path / "renamed-folder"
    shutil.copytree(run, copy)
    shutil.copy(OLD / "v0_finished.json", copy / "manifest.json")  # model "old-model", the first shape
    result = _think(copy, tmp_path)
    assert {row.model for row in result.report.rows} == {"old-model"}
    assert result.report.runs == {"old-model": str(copy)}


def test_a_manifest_that_is_not_json_is_one_line(run, tmp_path):
    copy = tmp_path / "damaged"
    shutil.copytree(run, copy)
    (copy / "manifest.json").write_bytes(orjson.dumps({"model": "x"})[:-3])
    with pytest.raises(ConfigError, match="manifest.json: damaged, not JSON"):
        _think(copy, tmp_path)
