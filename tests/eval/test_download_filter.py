"""The Hugging Face download filter (``allow_patterns``) lets through every file the readers read.

A repo whose data is in a suffix the filter leaves out downloads as an empty snapshot, which then looks like a
dataset with no files: MGSM's hub repository holds only ``mgsm_<lang>.tsv`` files.
"""

from __future__ import annotations

import fnmatch
import gzip
import shutil
from pathlib import Path

import pytest

from assay.data import DatasetLoader
from assay.data.loader import _ALLOW_PATTERNS
from assay.data.readers import SUFFIXES, read_rows
from assay.errors import DatasetError
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs

FIXTURES = Path(__file__).parent / "fixtures"


def _allowed(path: str) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in _ALLOW_PATTERNS)


def _write(path: Path) -> Path:
    """A one-row file of ``path``'s kind (whatever its suffix, the content its reader expects)."""
    name = path.name
    if name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"q": ["x"]}), path)
    elif name.endswith(".gz"):
        path.write_bytes(gzip.compress(b'{"q": "x"}\n'))
    elif name.endswith((".csv", ".tsv")):
        path.write_text("q\nx\n")
    elif name.endswith(".json"):
        path.write_text('[{"q": "x"}]')
    else:
        path.write_text('{"q": "x"}\n')
    return path


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_suffix_of_the_readers_is_downloaded_at_any_depth(suffix):
    for path in (f"test{suffix}", f"data/test-00000-of-00001{suffix}", f"en/low{suffix}", f"mgsm_en{suffix}"):
        assert _allowed(path), path


CANDIDATES = (".jsonl.gz", ".jsonl", ".json", ".csv", ".tsv", ".parquet", ".txt", ".xlsx", ".arrow", ".csv.gz",
              ".json.gz", ".tsv.gz", ".ndjson", ".yaml", ".py")


@pytest.mark.parametrize("suffix", CANDIDATES)
def test_a_file_the_readers_accept_is_one_the_filter_lets_through(tmp_path, suffix):
    pytest.importorskip("pyarrow")
    file = _write(tmp_path / f"test{suffix}")
    try:
        read_rows(file)
    except DatasetError:
        assert not suffix.endswith(SUFFIXES)  # refused: and not one the readers claim either
        return
    assert suffix.endswith(SUFFIXES) and _allowed(file.name), suffix


def test_mgsm_from_a_filtered_hub_snapshot(tmp_path, monkeypatch):
    """A download that honours the filter, of a repo laid out as MGSM's (tsv files and a Python script),
    still gives MGSM's samples."""
    hf = pytest.importorskip("huggingface_hub")
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "mgsm", repo)
    (repo / "mgsm.py").write_text("# the hub's loading script: not data\n")
    snapshot = tmp_path / "cache" / "snapshot"
    asked: list[list[str]] = []

    def snapshot_download(repo_id, *, repo_type=None, cache_dir=None, local_files_only=False, allow_patterns=None):
        if local_files_only:
            raise FileNotFoundError(repo_id)
        asked.append(list(allow_patterns or []))
        for file in repo.rglob("*"):
            relative = file.relative_to(repo).as_posix()
            if file.is_file() and any(fnmatch.fnmatch(relative, p) for p in allow_patterns or ["*"]):
                (snapshot / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(file, snapshot / relative)
        return str(snapshot)

    monkeypatch.setattr(hf, "snapshot_download", snapshot_download)
    mgsm = get_benchmark("mgsm")(DatasetArgs(subset_list=["en", "de"]))
    samples = mgsm.load(DatasetLoader("huggingface", tmp_path / "cache"))
    assert asked == [_ALLOW_PATTERNS] and "*.tsv" in asked[0]
    assert sorted(p.name for p in snapshot.iterdir()) == ["README.md", "mgsm_de.tsv", "mgsm_en.tsv", "mgsm_zh.tsv"]
    assert [s.subset for s in samples].count("en") == 2 and {s.subset for s in samples} == {"en", "de"}
    assert all(s.target for s in samples)
