"""The viewer's reading layer on real run folders: runs, paged and filtered samples, comparisons, perf and
think results, and that nothing outside the outputs folder can be reached through it."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from assay.app import readers, samples
from assay.app.perf_think import list_perf_runs, list_think_results, percentile_rows, read_perf_run, read_think
from assay.app.readers import Outputs
from assay.app.samples import SampleFilter, sample_page
from assay.errors import ConfigError
from tests.app.make_fixtures import SCRIPT_ANSWER, write_large_run

pytestmark = pytest.mark.timeout(60)


def rel(made: dict[str, Path], key: str) -> str:
    return made[key].relative_to(made["root"]).as_posix()


def test_lists_runs_with_model_datasets_and_scores(app_outputs):
    runs = {r.model: r for r in readers.list_eval_runs(Outputs(app_outputs["root"]))}
    assert set(runs) == {"sim-thinker", "sim-plain"}
    thinker = runs["sim-thinker"]
    assert thinker.datasets == ("gsm8k", "math_500", "mmlu") and thinker.status == "finished"
    assert thinker.scores == pytest.approx({"gsm8k": 0.75, "math_500": 1.0, "mmlu": 2 / 3})
    assert runs["sim-plain"].scores == pytest.approx({"gsm8k": 0.25, "math_500": 1 / 3, "mmlu": 2 / 3})
    assert thinker.started.startswith("20")


def test_subset_rows_and_task_types(app_outputs):
    outputs = Outputs(app_outputs["root"])
    rows = readers.subset_rows(outputs, rel(app_outputs, "thinker"))
    assert ("mmlu", "abstract_algebra", "acc", 2, 0.5) in [(r.benchmark, r.subset, r.metric, r.num, r.score) for r in rows]
    types = readers.task_type_scores(readers.read_eval_run(outputs, rel(app_outputs, "thinker")))
    assert types == pytest.approx({"knowledge": 2 / 3, "math": (0.75 + 1.0) / 2})


def test_filter_to_wrong_answers_and_see_the_whole_sample(app_outputs):
    page = sample_page(Outputs(app_outputs["root"]), rel(app_outputs, "thinker"), "gsm8k", SampleFilter(status="wrong"))
    assert (page.matching, page.total) == (1, 4)
    view = page.samples[0]
    assert view.status == "wrong" and view.target == "60" and "90 km" in view.prompt
    answer = view.answers[0]
    assert answer.answer == SCRIPT_ANSWER  # kept verbatim: the UI shows it as text
    assert answer.reasoning.startswith("Let me read the question") and answer.extracted == "7"
    assert answer.scores == {"acc": 0.0} and answer.completion_tokens and answer.latency_s is not None


def test_filters_subset_score_and_text(app_outputs):
    outputs, run = Outputs(app_outputs["root"]), rel(app_outputs, "plain")
    assert sample_page(outputs, run, "mmlu", SampleFilter(subset="anatomy")).matching == 1
    assert sample_page(outputs, run, "mmlu", SampleFilter(subset="nope")).matching == 0
    assert sample_page(outputs, run, "gsm8k", SampleFilter(min_score=0.5)).matching == 1
    assert sample_page(outputs, run, "gsm8k", SampleFilter(max_score=0.5)).matching == 3
    assert sample_page(outputs, run, "gsm8k", SampleFilter(text="APPLES")).matching == 1
    # A key of the JSON line is not text of the sample.
    assert sample_page(outputs, run, "gsm8k", SampleFilter(text="completion_tokens")).matching == 0


def test_large_file_pages_read_only_their_lines(tmp_path, monkeypatch):
    run = write_large_run(tmp_path, 3000)
    outputs = Outputs(tmp_path)
    first = sample_page(outputs, run.name, "gsm8k", page=1, page_size=25)
    assert (first.total, first.pages, [v.sample_id for v in first.samples][:2]) == (3000, 120, ["0", "1"])
    # Once indexed, a page parses only its own lines.
    parsed = []
    real = samples.orjson.loads
    monkeypatch.setattr(samples.orjson, "loads", lambda data: parsed.append(1) or real(data))
    page = sample_page(outputs, run.name, "gsm8k", page=80, page_size=25)
    assert [v.sample_id for v in page.samples][0] == "1975" and len(parsed) == 25
    wrong = sample_page(outputs, run.name, "gsm8k", SampleFilter(status="wrong"), page=1, page_size=5)
    assert wrong.matching == sum(1 for i in range(3000) if i % 7 == 6 and i % 50 != 49)
    errors = sample_page(outputs, run.name, "gsm8k", SampleFilter(status="error"))
    assert errors.matching == 60 and errors.samples[0].answers[0].error == "server: HTTP 500"
    assert sample_page(outputs, run.name, "gsm8k", SampleFilter(subset="s1")).matching == 1000
    assert sample_page(outputs, run.name, "gsm8k", page=10_000, page_size=25).page == 120  # clamped


def test_index_is_rebuilt_when_the_file_grows_and_a_torn_line_is_skipped(tmp_path):
    run = write_large_run(tmp_path, 10)
    outputs = Outputs(tmp_path)
    assert sample_page(outputs, run.name, "gsm8k").total == 10
    path = run / "predictions" / "gsm8k.jsonl"
    line = path.read_bytes().splitlines()[0]
    with path.open("ab") as handle:
        handle.write(line + b"\n" + line[:40])  # one more sample, then a line still being written
    assert sample_page(outputs, run.name, "gsm8k").total == 11


def test_compare_deltas_and_disagreements(app_outputs):
    outputs = Outputs(app_outputs["root"])
    a, b = rel(app_outputs, "thinker"), rel(app_outputs, "plain")
    deltas = {(d.benchmark, d.subset): d for d in samples.score_deltas(outputs, a, b)}
    assert deltas[("gsm8k", "OVERALL")].delta == pytest.approx(-0.5)
    assert deltas[("mmlu", "anatomy")].delta == pytest.approx(-1.0)
    differ = samples.disagreements(outputs, a, b, "mmlu")
    assert [(d.sample_id, d.status_a, d.status_b) for d in differ] == [
        ("abstract_algebra/1", "wrong", "correct"), ("anatomy/0", "correct", "wrong")]


def test_perf_runs_and_think_results(app_outputs):
    outputs = Outputs(app_outputs["root"])
    runs = list_perf_runs(outputs)
    assert set(runs) == {rel(app_outputs, "perf_a"), rel(app_outputs, "perf_b")}
    sweep = read_perf_run(outputs, rel(app_outputs, "perf_a"))
    assert [p.parallel for p in sweep.plans] == [1, 2, 4] and all(p.succeeded_requests == 8 for p in sweep.plans)
    assert any(c.name == "sweep.png" for c in sweep.charts)
    rows = percentile_rows(outputs, rel(app_outputs, "perf_a"), "parallel_2_number_8")
    assert rows[0]["percentile"] == "p10" or rows[0]["percentile"].startswith("p")
    assert list_think_results(outputs) == ["think"]
    think = read_think(outputs, "think")
    assert think.report.dataset == "math_500" and think.figure and think.figure.name == "think.png"


# ---- nothing outside the folder ---------------------------------------------------------------------------


@pytest.fixture
def fenced(tmp_path):
    """An outputs folder, a secret next to it, and symlinks inside it that lead out."""
    root = tmp_path / "outputs"
    run = write_large_run(root, 3)
    secret = tmp_path / "secret"
    (secret / "predictions").mkdir(parents=True)
    (secret / "reports").mkdir()
    (secret / "predictions" / "gsm8k.jsonl").write_bytes((run / "predictions" / "gsm8k.jsonl").read_bytes())
    (secret / "think.json").write_text("{}")
    os.symlink(secret, root / "escape")
    os.symlink(secret / "predictions" / "gsm8k.jsonl", run / "predictions" / "leak.jsonl")
    return Outputs(root), run.name, secret


@pytest.mark.parametrize("name", ["../secret", "..", "/etc", "/tmp", "escape", "escape/predictions",
                                  "20260101_000000_big/../../secret", ""])
def test_paths_outside_the_folder_are_refused(fenced, name):
    outputs, _, _ = fenced
    with pytest.raises(ConfigError):
        outputs.path(name)
    with pytest.raises(ConfigError):
        sample_page(outputs, name, "gsm8k")


@pytest.mark.parametrize("dataset", ["../../secret/predictions/gsm8k", "/etc/passwd", "leak", "a/b", ".."])
def test_dataset_names_cannot_lead_out(fenced, dataset):
    outputs, run, _ = fenced
    with pytest.raises(ConfigError):
        sample_page(outputs, run, dataset)


def test_listing_skips_symlinks_that_lead_out(fenced):
    outputs, run, secret = fenced
    assert [r.run_id for r in readers.list_eval_runs(outputs)] == [run]
    assert list_think_results(outputs) == []
    assert "leak" not in readers.read_eval_run(outputs, run).datasets
    with pytest.raises(ConfigError):
        read_think(outputs, "escape")
    assert orjson.loads((secret / "think.json").read_bytes()) == {}  # untouched


def test_outputs_must_exist(tmp_path):
    with pytest.raises(ConfigError):
        Outputs(tmp_path / "missing")


def test_damaged_lines_are_skipped_with_a_warning_naming_file_and_line(tmp_path, caplog):
    run = write_large_run(tmp_path, 6)
    path = run / "predictions" / "gsm8k.jsonl"
    lines = path.read_bytes().splitlines()
    (run / "reports" / "gsm8k.json").unlink()  # the main metric then comes from the first line
    not_a_sample = orjson.dumps({"sample": {"id": "4", "subset": "s1", "messages": "not a list"},
                                 "completions": [], "scores": []})
    path.write_bytes(b"\n".join([lines[0][:50] + b"\x00", *lines[1:4], not_a_sample, lines[5]]) + b"\n" +
                     lines[5][:20])  # damaged first line, a line that is JSON but not a sample, a torn last line
    outputs = Outputs(tmp_path)
    with caplog.at_level("WARNING", logger="assay.app"):
        page = sample_page(outputs, run.name, "gsm8k", page_size=50)
    assert [v.sample_id for v in page.samples] == ["1", "2", "3", "5"]
    assert any(f"{path} line 1" in r.getMessage() for r in caplog.records)
    assert sample_page(outputs, run.name, "gsm8k", SampleFilter(text="question")).matching == 4
    with pytest.raises(ConfigError, match="cannot be read"):
        samples.read_sample(outputs, run.name, "gsm8k", 3)  # the row of the line that is not a sample
    assert [r.run_id for r in readers.list_eval_runs(outputs)] == [run.name]


def test_a_damaged_percentiles_file_is_an_empty_table(tmp_path):
    plan = tmp_path / "perf" / "20260101_000000_x" / "parallel_1_number_2"
    plan.mkdir(parents=True)
    (plan / "percentiles.json").write_bytes(b'[{"percentile": "p50", "ttft')
    assert percentile_rows(Outputs(tmp_path), "perf/20260101_000000_x", "parallel_1_number_2") == []
