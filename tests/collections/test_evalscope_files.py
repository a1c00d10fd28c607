"""Collection files written by EvalScope: read, asked as saved, graded by assay's own scorers.

The always-present fixtures hold one row per dataset in each of EvalScope's two row formats. On the real files
that EvalScope 1.14.1's samplers wrote over the shared benchmark data (skipped where absent), every row is
graded exactly as assay grades the same question built from the benchmark's own file: same answers, same scores.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from assay.collections import load_collection_report
from assay.collections.evalscope import dataset_shares, read_evalscope_row
from assay.data import DatasetLoader
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.common import LETTERS
from assay.eval.config import DatasetArgs
from assay.types import Sample
from tests.helpers.shared_data import shared_data_dir, shared_path

from .conftest import gold_answer, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(120)
FIXTURES = Path(__file__).parent / "fixtures" / "evalscope"
MATH = {"math_500", "aime24", "aime25"}


def load_collection(path: Path, limit: float | None = None):
    benchmark = get_benchmark("data_collection")(DatasetArgs(dataset_id=str(path)))
    return benchmark, benchmark.load(DatasetLoader(hub="local"), limit)


def row_answer(sample: Sample, correct: bool) -> str:
    """An answer the row's own benchmark grades right (or wrong); IFEval is graded by its checklist."""
    name = sample.metadata["collection"]["benchmark"]
    if name == "ifeval":  # the fixtures' IFEval row asks for at least six [placeholders]
        return "Dear [name], at [place] on [date], [a] [b] [c]." if correct else "Dear you."
    kind = "math" if name in MATH else "mcq"
    return (gold_answer if correct else wrong_answer)(sample, kind)


def write_replay(path: Path, samples: list[Sample], correct: bool, ifeval: dict[str, str] | None = None) -> Path:
    """Replay entries keyed by each row's last user message; ``ifeval``: responses by IFEval key instead."""
    with path.open("w", encoding="utf-8") as handle:
        for sample in samples:
            prompt = [m for m in sample.messages or [] if m.role == "user"][-1].text()
            meta = sample.metadata["collection"]
            response = (ifeval[meta["sample_id"]] if ifeval is not None and meta["benchmark"] == "ifeval"
                        else row_answer(sample, correct))
            handle.write(json.dumps({"prompt": prompt, "response": response}) + "\n")
    return path


def evaluate(tmp_path: Path, collection: Path, replay: Path, **extra):
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay),
                      datasets=["data_collection"], dataset_args={"data_collection": {"dataset_id": str(collection)}},
                      work_dir=str(tmp_path / "out"), **{"eval_batch_size": 4, **extra})
    return run_task(task, show=False)


@pytest.mark.parametrize("fixture", ["v1_rows.jsonl", "v0_rows.jsonl"])
def test_both_evalscope_formats_load_with_targets_weights_and_paths(fixture):
    benchmark, samples = load_collection(FIXTURES / fixture)
    by_name = {s.metadata["collection"]["benchmark"]: s for s in samples}
    assert sorted(by_name) == ["aime24", "aime25", "ceval", "ifeval", "math_500", "mmlu_pro", "mmlu_redux"]
    # A benchmark only a judge grades is set apart with its reason; nothing else is.
    assert [(s.dataset_name, s.reason) for s in benchmark.skipped] == [
        ("chinese_simpleqa", "graded only by an LLM judge, which collections do not run")]
    assert by_name["mmlu_pro"].target == "G" and by_name["mmlu_pro"].choices[6] == "Meow Mix"
    assert by_name["ceval"].target == "B" and len(by_name["ceval"].choices) == 4
    assert by_name["math_500"].target == "78" and by_name["aime25"].target == "149"
    assert by_name["ifeval"].metadata["instruction_id_list"] == ["detectable_content:number_placeholders"]
    assert by_name["ifeval"].metadata["kwargs"] == [{"num_placeholders": 6}]
    # The schema's share of each dataset (English 1/3 split in three, Chinese 1/3, Math&Science 1/3 in four).
    shares = {name: s.metadata["collection"]["weight"] for name, s in by_name.items()}
    assert shares == pytest.approx({"mmlu_pro": 1 / 9, "mmlu_redux": 1 / 9, "ifeval": 1 / 9, "ceval": 1 / 3,
                                    "math_500": 1 / 12, "aime24": 1 / 12, "aime25": 1 / 12})
    assert by_name["ceval"].metadata["collection"]["path"] == ["Qwen3", "Chinese"]
    assert by_name["ceval"].metadata["collection"]["task_type"] == "exam"
    # Asked as EvalScope saved it.
    raw = {json.loads(line)["dataset_name"]: json.loads(line) for line in (FIXTURES / fixture).open()}
    asked = by_name["mmlu_pro"].messages[-1].text()
    saved = raw["mmlu_pro"]["prompt"]
    assert asked == (saved["input"][-1]["content"] if "input" in saved else saved["data"][0])


def test_a_row_of_a_benchmark_assay_lacks_is_set_apart_with_its_reason():
    from assay.collections.evalscope import read_evalscope_row

    row = {"dataset_name": "no_such_benchmark", "categories": ["Mix"], "weight": 1.0, "prompt": {"input": []}}
    skipped = read_evalscope_row(row, {("Mix", "no_such_benchmark"): 1.0})
    assert (skipped.dataset_name, skipped.reason) == ("no_such_benchmark", "no such benchmark in assay")


def test_weights_repeated_per_row_and_divided_among_rows_give_the_same_shares():
    def row(name: str, weight: float) -> dict:
        return {"dataset_name": name, "categories": ["Mix"], "weight": weight, "prompt": {}}

    repeated = [row("a", 0.75), row("a", 0.75), row("a", 0.75), row("b", 0.25)]  # EvalScope <= 1.2
    divided = [row("a", 0.25), row("a", 0.25), row("a", 0.25), row("b", 0.25)]  # EvalScope >= 1.3
    assert dataset_shares(repeated) == dataset_shares(divided) == {("Mix", "a"): 0.75, ("Mix", "b"): 0.25}


@pytest.mark.parametrize("fixture", ["v1_rows.jsonl", "v0_rows.jsonl"])
@pytest.mark.parametrize("correct", [True, False])
def test_an_evalscope_file_runs_end_to_end_and_names_what_it_skipped(tmp_path, fixture, correct):
    _, samples = load_collection(FIXTURES / fixture)
    result = evaluate(tmp_path, FIXTURES / fixture, write_replay(tmp_path / "replay.jsonl", samples, correct))
    report = load_collection_report(result.run_dir)
    main = {r.dataset_name: r.average_score for r in report.datasets
            if r.metric in ("acc", "prompt_level_strict_acc")}
    expected = 1.0 if correct else 0.0
    assert main == {name: expected for name in ("mmlu_pro", "mmlu_redux", "ifeval", "ceval", "math_500",
                                                "aime24", "aime25")}
    assert report.weighted_score == expected
    assert [(s.dataset_name, s.rows) for s in report.skipped] == [("chinese_simpleqa", 1)]
    markdown = (result.run_dir / "reports" / "collection.md").read_text()
    assert "not run: chinese_simpleqa (1 rows: graded only by an LLM judge, which collections do not run)" in markdown


def test_limit_applies_to_the_whole_collection_in_its_proportions(tmp_path):
    rows = [json.loads(line) for line in (FIXTURES / "v1_rows.jsonl").open()][:7]
    many = []
    for row in rows:  # six rows of each dataset, the file grouped dataset by dataset
        for copy in range(6):
            many.append({**row, "index": len(many), "prompt": {**row["prompt"], "id": f"{copy}"}})
    path = tmp_path / "mix.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in many), encoding="utf-8")
    _, limited = load_collection(path, limit=14)
    names = [s.metadata["collection"]["benchmark"] for s in limited]
    assert len(limited) == 14 and all(names.count(name) == 2 for name in set(names)) and len(set(names)) == 7
    # The first rows of each benchmark, in file order (a grouped file is not cut after its first datasets).
    assert [s.metadata["collection"]["index"] for s in limited] == [i + k for i in range(0, 42, 6) for k in (0, 1)]
    _, fraction = load_collection(path, limit=0.5)
    assert len(fraction) == 21


# ---- the real files EvalScope wrote (shared data) -----------------------------------------------------

def _native_samples(name: str) -> list[Sample]:
    """The benchmark's own samples, built from the shared benchmark file as assay builds them."""
    benchmark = get_benchmark(name)()
    data = shared_data_dir()
    if name == "ceval":
        samples = []
        for path in sorted((data / "ceval" / "val").glob("*_val.csv")):
            subject = path.name.removesuffix("_val.csv")
            with path.open(encoding="utf-8") as handle:
                samples += [benchmark.sample(row, subject, i) for i, row in enumerate(csv.DictReader(handle))]
        return samples
    files = {"mmlu_pro": "mmlu_pro/test.jsonl", "mmlu_redux": "mmlu_redux/test.jsonl",
             "math_500": "math500/test.jsonl", "aime24": "aime24/test.jsonl", "aime25": "aime25/test.jsonl",
             "ifeval": "ifeval/input_data.jsonl"}
    rows = [json.loads(line) for line in (data / files[name]).open(encoding="utf-8") if line.strip()]
    subset = {"mmlu_redux": lambda r: r["_hf_subset"], "mmlu_pro": lambda r: r["category"],
              "math_500": lambda r: f"Level {r['level']}"}.get(name, lambda r: "default")
    return [benchmark.sample(row, subset(row), i) for i, row in enumerate(rows)]


def _find_native(sample: Sample, natives: list[Sample], raw: dict) -> Sample:
    name = sample.metadata["collection"]["benchmark"]
    meta = raw["prompt"].get("metadata") or raw["prompt"].get("raw_input") or {}
    text = sample.messages[-1].text()
    if name == "mmlu_pro":
        return next(n for n in natives if n.id == str(meta["question_id"]))
    if name == "ifeval":
        return next(n for n in natives if n.id == str(meta["key"]))
    if name == "math_500":
        return next(n for n in natives if n.id == str(meta.get("question_id", meta.get("unique_id"))))
    if name == "ceval":
        subject = raw["subset_name"]
        return next(n for n in natives if n.subset == subject and n.metadata["question"] in text
                    and n.choices == sample.choices)
    if name == "mmlu_redux":
        return next(n for n in natives if n.metadata["question"].strip() in text
                    and [c.strip() for c in n.choices or []] == [c.strip() for c in sample.choices or []])
    return next(n for n in natives if n.target == sample.target)  # AIME: the score depends on the target alone


def _answers(sample: Sample, native: Sample, responses: dict[str, str]) -> list[tuple[str, str]]:
    """The same answer as each side must read it: for multiple choice, each option named by its letter there."""
    name = sample.metadata["collection"]["benchmark"]
    if name == "ifeval":
        text = responses.get(native.id, "A short answer.")
        return [(text, text), ("", "")]
    if name in MATH:
        return [(gold_answer(native, "math"),) * 2, (wrong_answer(native, "math"),) * 2]
    pairs = []
    for option in native.choices or []:
        ours = LETTERS[[c.strip() for c in sample.choices or []].index(option.strip())]
        theirs = LETTERS[(native.choices or []).index(option)]
        pairs.append((f"Thinking.\nANSWER: {ours}", f"Thinking.\nANSWER: {theirs}"))
    return pairs


@pytest.mark.slow
@pytest.mark.parametrize("name", ["weighted_300.jsonl", "stratified_200.jsonl", "uniform_100.jsonl",
                                  "old_format_examples.jsonl"])
def test_evalscope_rows_score_as_the_same_questions_built_by_assay(name):
    path = shared_path("evalscope_collections", name)
    raws = [json.loads(line) for line in path.open(encoding="utf-8")]
    shares = dataset_shares(raws)
    conformance = shared_data_dir() / "ifeval" / "conformance" / "ifeval_conformance.jsonl"
    responses = ({str(r["key"]): r["response"] for r in map(json.loads, conformance.open(encoding="utf-8"))}
                 if conformance.is_file() else {})
    natives: dict[str, list[Sample]] = {}
    compared = 0
    for raw in raws:
        if raw["dataset_name"] in ("gpqa", "gpqa_diamond"):  # its text is redacted in the shared copies
            continue
        item = read_evalscope_row(raw, shares)
        assert not hasattr(item, "reason"), (raw["index"], item)
        sample = item.sample.model_copy(update={"metadata": {**item.sample.metadata,
                                                             "collection": {"benchmark": item.benchmark}}})
        benchmark = get_benchmark(item.benchmark)()
        native = _find_native(sample, natives.setdefault(item.benchmark, _native_samples(item.benchmark)), raw)
        for ours, theirs in _answers(sample, native, responses):
            assert benchmark.score(item.sample, ours).values == benchmark.score(native, theirs).values, (
                raw["index"], item.benchmark, ours)
            compared += 1
    assert compared >= len(raws)


@pytest.mark.slow
def test_the_real_weighted_file_runs_end_to_end(tmp_path):
    """Gold answers score 1 on every dataset but IFEval, which gets GPT-4's published responses and scores what
    assay's IFEval gives those responses on the benchmark's own rows."""
    path = shared_path("evalscope_collections", "weighted_300.jsonl")
    conformance = shared_path("ifeval", "conformance", "ifeval_conformance.jsonl")
    responses = {str(r["key"]): r["response"] for r in map(json.loads, conformance.open(encoding="utf-8"))}
    _, samples = load_collection(path)
    replay = write_replay(tmp_path / "replay.jsonl", samples, True, ifeval=responses)
    report = load_collection_report(evaluate(tmp_path, path, replay, eval_batch_size=16).run_dir)
    assert report.count == 274 and not report.skipped
    scores = {(r.dataset_name, r.metric): r.average_score for r in report.datasets}
    assert {name for name, _ in scores} == {"mmlu_pro", "mmlu_redux", "ifeval", "ceval", "math_500", "aime24",
                                            "aime25"}
    assert all(score == 1.0 for (name, metric), score in scores.items() if name != "ifeval")
    keys = [s.metadata["collection"]["sample_id"] for s in samples if s.metadata["collection"]["benchmark"] == "ifeval"]
    ifeval = get_benchmark("ifeval")()
    natives = {n.id: n for n in _native_samples("ifeval")}
    strict = [ifeval.score(natives[key], responses[key]).values["prompt_level_strict_acc"] for key in keys]
    assert scores[("ifeval", "prompt_level_strict_acc")] == pytest.approx(sum(strict) / len(strict))
    assert 0 < report.weighted_score < 1


def test_a_collection_run_is_headed_by_its_weighted_score_with_no_filler_rows(tmp_path, capsys, monkeypatch):
    """report.md, the manifest and the console lead with the weighted score; a dataset gets rows only for its own
    benchmark's metrics (no n/a rows), and an 80-column console wraps long names instead of cutting them."""
    import orjson

    monkeypatch.setenv("COLUMNS", "80")
    _, samples = load_collection(FIXTURES / "v1_rows.jsonl")
    replay = write_replay(tmp_path / "replay.jsonl", samples, True)
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=["data_collection"],
                      dataset_args={"data_collection": {"dataset_id": str(FIXTURES / "v1_rows.jsonl")}},
                      work_dir=str(tmp_path / "out"))
    result = run_task(task, show=True)
    printed = capsys.readouterr().out
    markdown = (result.run_dir / "reports" / "report.md").read_text()
    rows = [line for line in markdown.splitlines() if line.startswith("| replay-model")]
    assert rows[0] == "| replay-model | data_collection | weighted_score | OVERALL | 7 | 1.0000 |"
    assert not [row for row in rows if "n/a" in row]
    assert "| replay-model | data_collection | acc | OVERALL | 6 | 1.0000 |" in rows  # six rows have acc
    assert not [row for row in rows if "prompt_level" in row and "ifeval" not in row and "OVERALL" not in row]
    manifest = orjson.loads((result.run_dir / "manifest.json").read_bytes())
    assert manifest["benchmarks"]["data_collection"]["main_metric"] == "weighted_score"
    assert manifest["benchmarks"]["data_collection"]["score"] == 1.0
    assert "…" not in printed and "weighted_score" in printed
    from assay.app.readers import Outputs, list_eval_runs  # the viewer's reader: the run's score is the headline

    (run,) = list_eval_runs(Outputs(tmp_path / "out"))
    assert run.scores["data_collection"] == 1.0 and run.main_metrics["data_collection"] == "weighted_score"
