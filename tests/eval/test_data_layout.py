"""`assay data layout`: per benchmark, its hubs in order, splits, subsets and how they are found, the folder
names looked for, and an example tree that the loader really accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli.main import main
from assay.data import DatasetLoader
from assay.data.layout import example_tree
from assay.eval.benchmarks import benchmark_names, get_benchmark
from assay.eval.benchmarks.mmlu import SUBJECTS
from assay.eval.config import DatasetArgs
from assay.eval.prefetch import data_layouts

pytestmark = pytest.mark.timeout(60)


def _layout(capsys, *args: str) -> str:
    main(["data", "layout", *args])
    return capsys.readouterr().out


def _section(out: str, name: str) -> str:
    """The lines of one benchmark's entry (from its name line to the next blank line)."""
    start = out.index(f"\n{name}\n")
    end = out.find("\n\n", start + 1)
    return out[start:end if end != -1 else None]


def test_mmlu_lists_hubs_splits_every_subject_and_the_columns(tmp_path, capsys):
    mmlu = _section(_layout(capsys, "--datasets", "mmlu", "--dataset-dir", str(tmp_path)), "mmlu")
    assert "hubs, tried in order: huggingface cais/mmlu; modelscope cais/mmlu; modelscope modelscope/mmlu" in mmlu
    assert "splits: test (evaluated), dev (few-shot examples)" in mmlu
    flat = " ".join(mmlu.split())
    assert "subsets (57):" in flat and all(subject in flat for subject in SUBJECTS)
    assert "a file or folder per subset, or one file with the subset in a column (subject, category, _hf_subset)" \
        in flat
    assert "<dataset_dir>/mmlu/abstract_algebra/test.jsonl" in mmlu and f"in {tmp_path}: no copy" in mmlu


def test_math_500_shows_its_alias_and_the_copy_found(tmp_path, capsys):
    (tmp_path / "math500").mkdir()
    out = _layout(capsys, "--datasets", "math_500", "--dataset-dir", str(tmp_path))
    flat = " ".join(_section(out, "math_500").split())
    assert "folder under dataset_dir: math_500, MATH-500" in flat and "math500 works" in flat
    assert "a column of the split's rows (level, subject, category, _hf_subset)" in flat
    assert f"in {tmp_path}: math500" in flat
    assert out.startswith(f"dataset_dir: {tmp_path} (--dataset-dir)")


def test_iquiz_is_on_modelscope_only(capsys):
    iquiz = _section(_layout(capsys, "--datasets", "iquiz"), "iquiz")
    assert "hubs, tried in order: modelscope AI-ModelScope/IQuiz\n" in iquiz and "huggingface" not in iquiz


def test_every_benchmark_is_listed_with_every_hub_id(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ASSAY_DATASET_DIR", str(tmp_path))
    out = _layout(capsys)
    assert out.startswith(f"dataset_dir: {tmp_path} (ASSAY_DATASET_DIR)")
    for name in benchmark_names():
        flat = " ".join(_section(out, name).split())
        for hub, repo in get_benchmark(name).source.hubs:
            assert f"{hub} {repo}" in flat, (name, hub, repo)


def test_user_data_benchmarks_point_at_dataset_id(capsys):
    general = _section(_layout(capsys, "--datasets", "general_mcq"), "general_mcq")
    assert "hubs: none; your own file or folder: dataset_args.general_mcq.dataset_id" in general
    assert "folder under dataset_dir" not in general


@pytest.mark.parametrize(("name", "row"), [
    ("gsm8k", {"question": "1 + 1?", "answer": "one and one #### 2"}),
    ("math_500", {"problem": "1 + 1?", "solution": "", "answer": "2", "level": 1, "unique_id": "u"}),
    ("mmlu", {"question": "Q?", "choices": ["a", "b", "c", "d"], "answer": 0}),
    ("poly_math", {"question": "1 + 1?", "answer": "2"}),
])
def test_the_example_tree_is_a_copy_the_loader_accepts(tmp_path, name, row):
    layout = next(item for item in data_layouts([name]))
    paths = [line for line in example_tree(layout) if line.startswith("<dataset_dir>/")]
    for path in paths:
        file = tmp_path / path.removeprefix("<dataset_dir>/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(row) + "\n")
    two = name in ("mmlu", "poly_math")
    benchmark = get_benchmark(name)(DatasetArgs(subset_list=list(layout.subsets[:2]) if two else None))
    samples = benchmark.load(DatasetLoader("local", tmp_path))
    assert len(samples) == (2 * len(layout.evaluated) if two else 1)


def test_a_benchmark_with_several_evaluated_splits_lists_them_all(capsys):
    poly = _section(_layout(capsys, "--datasets", "poly_math"), "poly_math")
    assert "splits: low, medium, high, top (evaluated)\n" in poly
    assert "<dataset_dir>/poly_math/en/low.jsonl" in poly and "<dataset_dir>/poly_math/zh/top.jsonl" in poly
    (layout,) = data_layouts(["poly_math"])
    assert layout.splits == layout.evaluated == ("low", "medium", "high", "top")
    (mmlu,) = data_layouts(["mmlu"])
    assert mmlu.evaluated == ("test",) and mmlu.splits == ("test", "dev")


def test_prefetch_lists_the_splits_it_read(capsys):
    from assay.eval.prefetch import prefetch

    fixture = str(Path(__file__).parent / "fixtures" / "poly_math")
    (every,) = prefetch(["poly_math"], dataset_args={"poly_math": {"dataset_id": fixture, "subset_list": ["en"]}})
    assert every.splits == ("low", "medium", "high", "top") and every.samples == 4
    (some,) = prefetch(["poly_math"], dataset_args={"poly_math": {
        "dataset_id": fixture, "subset_list": ["en"], "extra_params": {"levels": ["top", "low"]}}})
    assert some.splits == ("low", "top") and some.samples == 2
    main(["data", "prefetch", "--datasets", "poly_math", "--dataset-args",
          json.dumps({"poly_math": {"dataset_id": fixture, "subset_list": ["zh"]}})])
    assert "poly_math: 4 samples (splits low, medium, high, top) ready offline in" in capsys.readouterr().out


def test_an_unknown_benchmark_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "layout", "--datasets", "mmlu_proo"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "did you mean mmlu_pro" in err


def _help(capsys, *args: str) -> str:
    try:
        main([*args, "--help"])
    except SystemExit as exit_info:
        assert exit_info.code in (0, None)
    return " ".join(capsys.readouterr().out.split())


def test_the_help_texts_point_at_the_layout_command(capsys):
    assert "(`assay data layout`)" in _help(capsys, "eval")
    assert "Commands: layout Show where each benchmark's data is looked for" in _help(capsys, "data")
