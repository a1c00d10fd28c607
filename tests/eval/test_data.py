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


# ---- common local shapes: alias folder names, a subject column, one plain file -----------------------------

MATH_ROWS = [{"problem": f"What is {n} + {n}?", "solution": "", "answer": str(2 * n), "subject": "Algebra",
              "level": 1 + n % 5, "unique_id": f"test/algebra/{n}.json"} for n in range(6)]
MMLU_ROWS = [{"question": f"Question {n}?", "choices": ["a", "b", "c", "d"], "answer": n % 4,
              "subject": subject} for n, subject in enumerate(["anatomy", "anatomy", "virology"])]


def _jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _load(name, dataset_dir, **args):
    from assay.eval.benchmarks import get_benchmark
    from assay.eval.config import DatasetArgs

    return get_benchmark(name)(DatasetArgs(**args)).load(DatasetLoader("local", dataset_dir))


@pytest.mark.parametrize(("benchmark", "folder"), [("math_500", "math500"), ("math_500", "MATH-500"),
                                                   ("mmlu_pro", "mmlu-pro"), ("aime24", "aime_2024"),
                                                   ("competition_math", "math")])
def test_a_folder_spelled_another_common_way_is_found(tmp_path, benchmark, folder):
    from assay.data.source import find_local_copy, folder_names
    from assay.eval.benchmarks import get_benchmark

    _jsonl(tmp_path / folder / "test.jsonl", MATH_ROWS)
    (tmp_path / "unrelated").mkdir()
    assert find_local_copy(tmp_path, folder_names(benchmark, get_benchmark(benchmark).source)) == tmp_path / folder


def test_math500_folder_runs_math_500(tmp_path):
    _jsonl(tmp_path / "math500" / "test.jsonl", MATH_ROWS)
    samples = _load("math_500", tmp_path)
    assert len(samples) == 6 and {s.subset for s in samples} == {f"Level {n}" for n in range(1, 6)}


def test_the_exact_name_wins_over_an_alias_and_a_single_file_is_a_copy(tmp_path):
    _jsonl(tmp_path / "math500" / "test.jsonl", MATH_ROWS)
    _jsonl(tmp_path / "math_500" / "test.jsonl", MATH_ROWS[:2])
    assert len(_load("math_500", tmp_path)) == 2
    _jsonl(tmp_path / "gsm8k.jsonl", [{"question": "1 + 1?", "answer": "so #### 2"}])
    assert [s.target for s in _load("gsm8k", tmp_path)] == ["2"]


def test_the_hub_caches_are_never_taken_for_a_copy(tmp_path):
    from assay.data.source import find_local_copy

    (tmp_path / "modelscope").mkdir()
    (tmp_path / ".gsm8k").mkdir()
    assert find_local_copy(tmp_path, ["modelscope", "gsm8k"]) is None


@pytest.mark.parametrize("column", ["subject", "category", "_hf_subset"])
def test_one_file_with_the_subject_in_a_column(tmp_path, column):
    rows = [{**{k: v for k, v in row.items() if k != "subject"}, column: row["subject"]} for row in MMLU_ROWS]
    _jsonl(tmp_path / "mmlu" / "test.jsonl", rows)
    samples = _load("mmlu", tmp_path, subset_list=["anatomy", "virology"])
    assert [(s.subset, s.metadata["question"]) for s in samples] == \
        [("anatomy", "Question 0?"), ("anatomy", "Question 1?"), ("virology", "Question 2?")]


def test_mmlu_pro_rows_may_name_their_category_in_subject(tmp_path):
    rows = [{"question_id": n, "question": f"Q{n}?", "options": ["x", "y"], "answer": "A", "answer_index": 0,
             "cot_content": "", "subject": subject, "src": "t"} for n, subject in enumerate(["law", "math"])]
    _jsonl(tmp_path / "mmlu_pro" / "test.jsonl", rows)
    samples = _load("mmlu_pro", tmp_path, subset_list=["law", "math"], few_shot_num=0)
    assert [s.subset for s in samples] == ["law", "math"]


def test_a_plain_file_runs_as_one_subset_with_one_warning(tmp_path, caplog):
    plain = [{k: v for k, v in row.items() if k != "subject"} for row in MMLU_ROWS]
    _jsonl(tmp_path / "mmlu" / "test.jsonl", plain)
    _jsonl(tmp_path / "mmlu" / "dev.jsonl", plain[:1])
    with caplog.at_level("WARNING", logger="assay.eval"):
        samples = _load("mmlu", tmp_path, few_shot_num=1)
    assert [s.subset for s in samples] == ["default"] * 3 and len({s.id for s in samples}) == 3
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "run as one subset 'default'" in warnings[0].getMessage()
    assert "subject, category, _hf_subset" in warnings[0].getMessage()


def test_a_plain_file_cannot_select_the_subsets_asked_for(tmp_path):
    _jsonl(tmp_path / "mmlu" / "test.jsonl", [{k: v for k, v in MMLU_ROWS[0].items() if k != "subject"}])
    with pytest.raises(DatasetError, match="holds no subset 'anatomy' of mmlu"):
        _load("mmlu", tmp_path, subset_list=["anatomy"])


def test_the_shared_folders_run_as_named(tmp_path):
    # The shared data folder as a dataset_dir: math500/ is math_500's, mmlu_redux/test.jsonl keeps the subject
    # in _hf_subset.
    from tests.helpers.shared_data import shared_path

    shared = shared_path("math500", "test.jsonl").parents[1]
    shared_path("mmlu_redux", "test.jsonl")
    assert len(_load("math_500", shared)) == 500
    redux = _load("mmlu_redux", shared)
    assert len(redux) == 5700 and len({s.subset for s in redux}) == 57


def test_assay_dataset_dir_set_from_python_is_honoured(tmp_path, monkeypatch):
    # Read when a loader is made (a run makes one), so setting it in the process before run_task works.
    monkeypatch.setenv("ASSAY_DATASET_DIR", str(tmp_path))
    _jsonl(tmp_path / "gsm8k" / "test.jsonl", [{"question": "1 + 1?", "answer": "so #### 2"}])
    loader = DatasetLoader("local")
    assert loader.cache_dir == tmp_path
    assert loader.locate("gsm8k", HubDataset(hubs=(("huggingface", "openai/gsm8k"),))) == tmp_path / "gsm8k"
