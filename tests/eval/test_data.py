"""Data loading: local files in every format, hub-style folder layouts, and the offline error."""

from __future__ import annotations

import csv
import gzip
import json

import pytest

from assay.data import DatasetLoader, HubDataset, find_split_files, read_rows
from assay.errors import DatasetError

pytestmark = pytest.mark.timeout(30)
ROWS = [{"question": "q1", "answer": "1"}, {"question": "q2", "answer": "2"}]


def _write(path, fmt):
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif fmt == "jsonl.gz":
        path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in ROWS).encode()))
    elif fmt == "json":
        path.write_text(json.dumps(ROWS))
    elif fmt == "csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ["question", "answer"])
            writer.writeheader()
            writer.writerows(ROWS)
    elif fmt == "parquet":
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(ROWS), path)


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "json", "csv", "parquet"])
def test_every_format_reads_the_same_rows(tmp_path, fmt):
    path = tmp_path / f"test.{fmt}"
    _write(path, fmt)
    assert read_rows(path) == ROWS


def test_a_bad_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text('{"a": 1}\n{not json\n')
    with pytest.raises(DatasetError, match="line 2"):
        read_rows(path)


def test_hub_layouts_find_split_and_subset(tmp_path):
    for rel in ["main/test-00000-of-00001.jsonl", "main/train-00000-of-00001.jsonl", "socratic/test.jsonl",
                "val/accountant_val.csv", "val/law_val.csv", "dev/law_dev.csv"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    files, own = find_split_files(tmp_path, "test", "main")
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["main/test-00000-of-00001.jsonl"] and own
    files, own = find_split_files(tmp_path, "val", "law")
    assert [f.name for f in files] == ["law_val.csv"] and own
    files, _ = find_split_files(tmp_path, "dev", "law")
    assert [f.name for f in files] == ["law_dev.csv"]


def test_one_file_for_a_column_of_subsets(tmp_path):
    (tmp_path / "test.jsonl").write_text("")
    files, own = find_split_files(tmp_path, "test", "biology")
    assert [f.name for f in files] == ["test.jsonl"] and not own


def test_offline_without_a_copy_names_the_option(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loader = DatasetLoader("huggingface", tmp_path)
    with pytest.raises(DatasetError, match=r"dataset_args\.gsm8k\.dataset_id.*--dataset-dir"):
        loader.locate("gsm8k", HubDataset(hubs=(("huggingface", "openai/gsm8k"),)))


def test_a_copy_under_the_dataset_dir_is_used(tmp_path):
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text(json.dumps(ROWS[0]) + "\n")
    loader = DatasetLoader("local", tmp_path)
    root = loader.locate("gsm8k", HubDataset(hubs=(("huggingface", "openai/gsm8k"),)))
    assert loader.rows(root, "test")[0] == [ROWS[0]]
