"""Hub fallback: with no hub named, a benchmark's hubs are tried in its order (its local copy and every hub's
cache first); a named hub that lacks the dataset is one line. The hub clients are fakes that copy fixtures
(tests/helpers/fake_hubs.py); assay's own download and cache code runs for real."""

from __future__ import annotations

import shutil

import pytest

from assay.data import DatasetLoader, HubDataset
from assay.errors import DatasetError
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from tests.helpers.fake_hubs import FakeHubs

from .conftest import FIXTURES

pytestmark = pytest.mark.timeout(60)
GSM8K = HubDataset(hubs=(("huggingface", "openai/gsm8k"), ("modelscope", "AI-ModelScope/gsm8k")))


def _load(name: str, loader: DatasetLoader):
    return get_benchmark(name)(DatasetArgs()).load(loader)


def test_a_modelscope_only_dataset_comes_from_modelscope_without_naming_a_hub(tmp_path, monkeypatch):
    hubs = FakeHubs(modelscope={"AI-ModelScope/IQuiz": FIXTURES / "iquiz"}).install(monkeypatch)
    samples = _load("iquiz", DatasetLoader(None, tmp_path))
    assert hubs.downloads == [("modelscope", "AI-ModelScope/IQuiz")]
    assert {s.subset for s in samples} == {"IQ", "EQ"} and len(samples) == 3
    again = DatasetLoader(None, tmp_path)  # a second run answers from the modelscope cache, no download
    assert len(_load("iquiz", again)) == 3 and hubs.downloads == [("modelscope", "AI-ModelScope/IQuiz")]


def test_prefetch_of_iquiz_names_no_hub_and_works(tmp_path, monkeypatch, capsys):
    from assay.cli.main import main

    hubs = FakeHubs(modelscope={"AI-ModelScope/IQuiz": FIXTURES / "iquiz"}).install(monkeypatch)
    main(["data", "prefetch", "--datasets", "iquiz", "--dataset-dir", str(tmp_path)])
    assert "iquiz: 3 samples ready offline" in capsys.readouterr().out
    assert hubs.downloads == [("modelscope", "AI-ModelScope/IQuiz")]


def test_the_next_hub_is_tried_when_the_first_fails(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    hubs = FakeHubs(modelscope={"AI-ModelScope/gsm8k": FIXTURES / "gsm8k"}).install(monkeypatch)
    root = DatasetLoader(None, tmp_path).locate("gsm8k", GSM8K)
    assert hubs.downloads == [("huggingface", "openai/gsm8k"), ("modelscope", "AI-ModelScope/gsm8k")]
    assert root == tmp_path / "modelscope" / "AI-ModelScope" / "gsm8k"


def test_the_first_hub_wins_when_it_has_the_data(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    hubs = FakeHubs(huggingface={"openai/gsm8k": FIXTURES / "gsm8k"},
                    modelscope={"AI-ModelScope/gsm8k": FIXTURES / "gsm8k"}).install(monkeypatch)
    DatasetLoader(None, tmp_path).locate("gsm8k", GSM8K)
    assert hubs.downloads == [("huggingface", "openai/gsm8k")]


def test_any_hubs_cache_comes_before_any_download(tmp_path, monkeypatch):
    # A copy cached from the second hub is used although the first hub would serve the data.
    hubs = FakeHubs(huggingface={"openai/gsm8k": FIXTURES / "gsm8k"}).install(monkeypatch)
    shutil.copytree(FIXTURES / "gsm8k", tmp_path / "modelscope" / "AI-ModelScope" / "gsm8k")
    root = DatasetLoader(None, tmp_path).locate("gsm8k", GSM8K)
    assert root == tmp_path / "modelscope" / "AI-ModelScope" / "gsm8k" and hubs.downloads == []


def test_a_copy_under_the_dataset_dir_comes_before_every_hub(tmp_path, monkeypatch):
    hubs = FakeHubs(huggingface={"openai/gsm8k": FIXTURES / "gsm8k"}).install(monkeypatch)
    shutil.copytree(FIXTURES / "gsm8k", tmp_path / "gsm8k")
    assert DatasetLoader(None, tmp_path).locate("gsm8k", GSM8K) == tmp_path / "gsm8k" and hubs.downloads == []


def test_a_named_hub_is_the_only_one_asked(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    hubs = FakeHubs(modelscope={"AI-ModelScope/gsm8k": FIXTURES / "gsm8k"}).install(monkeypatch)
    with pytest.raises(DatasetError) as info:
        DatasetLoader("huggingface", tmp_path).locate("gsm8k", GSM8K)
    assert hubs.downloads == [("huggingface", "openai/gsm8k")]
    assert "huggingface openai/gsm8k is not cached and could not be downloaded (HubUnreachable)" in str(info.value)
    assert "--dataset-hub huggingface" in str(info.value)


def test_a_named_hub_without_the_dataset_is_one_line(tmp_path, monkeypatch):
    hubs = FakeHubs().install(monkeypatch)
    with pytest.raises(DatasetError) as info:
        _load("iquiz", DatasetLoader("huggingface", tmp_path))
    message = str(info.value)
    assert "\n" not in message and hubs.downloads == []
    assert message.startswith("dataset 'iquiz' is not on huggingface (dataset_hub): it is on modelscope "
                              "(AI-ModelScope/IQuiz)")


def test_the_cli_names_the_missing_hub_in_one_line(tmp_path, monkeypatch, capsys):
    from assay.cli.main import main

    FakeHubs().install(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "prefetch", "--datasets", "iquiz", "--dataset-hub", "huggingface", "--dataset-dir",
              str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert err.startswith("error: dataset 'iquiz' is not on huggingface")


def test_every_hub_failing_lists_each_in_order(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    FakeHubs().install(monkeypatch)
    with pytest.raises(DatasetError) as info:
        DatasetLoader(None, tmp_path).locate("gsm8k", GSM8K)
    message = str(info.value)
    first, second = message.index("huggingface openai/gsm8k"), message.index("modelscope AI-ModelScope/gsm8k")
    assert first < second and "\n" not in message
    assert f"`assay data prefetch --datasets gsm8k --dataset-dir {tmp_path}`" in message


def test_a_missing_hub_client_is_named(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "modelscope", None)  # import modelscope → ImportError
    with pytest.raises(DatasetError, match=r"modelscope AI-ModelScope/IQuiz: modelscope is not installed"):
        _load("iquiz", DatasetLoader(None, tmp_path))


def test_hub_local_suggests_a_prefetch_that_can_work(tmp_path):
    with pytest.raises(DatasetError) as info:
        _load("iquiz", DatasetLoader("local", tmp_path))
    message = str(info.value)
    assert "dataset_hub is local" in message and "--dataset-hub" not in message
    assert "`assay data prefetch --datasets iquiz --dataset-dir" in message


def test_offline_lists_every_id_it_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hubs = FakeHubs().install(monkeypatch)
    with pytest.raises(DatasetError, match=r"huggingface openai/gsm8k, modelscope AI-ModelScope/gsm8k not cached "
                                           r"and HF_HUB_OFFLINE is set"):
        DatasetLoader(None, tmp_path).locate("gsm8k", GSM8K)
    assert hubs.downloads == []


def test_a_hub_id_of_the_users_goes_to_the_named_hub(tmp_path, monkeypatch):
    hubs = FakeHubs(modelscope={"me/my-gsm8k": FIXTURES / "gsm8k"}).install(monkeypatch)
    root = DatasetLoader("modelscope", tmp_path).locate("gsm8k", GSM8K, override="me/my-gsm8k")
    assert hubs.downloads == [("modelscope", "me/my-gsm8k")] and (root / "test.jsonl").is_file()


def test_an_unknown_hub_name_is_refused():
    with pytest.raises(ValueError, match="unknown hub 'hf'"):
        HubDataset(hubs=(("hf", "openai/gsm8k"),))


def test_dataset_hub_defaults_to_the_benchmarks_order():
    from assay.eval.config import TaskConfig

    assert TaskConfig(eval_type="sim", model="m", datasets=["iquiz"]).dataset_hub is None
