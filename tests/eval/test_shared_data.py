"""On the real benchmark files in the shared data folder (skipped where absent): gold answers score 100%,
wrong answers 0%. Files whose layout differs from the hub's are mapped here, never in the loaders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark

from tests.helpers.shared_data import shared_path

from .conftest import gold_answer, load_samples, sim_args, wrong_answer

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]
sim = pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")
if not hasattr(sim, "SimServer"):
    pytest.skip("assay.sim has no SimServer yet", allow_module_level=True)


def _jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _mmlu_hub(shared: Path, out: Path, subjects) -> Path:
    for subject in subjects:
        for split in ("test", "dev"):
            with (shared / "mmlu" / split / f"{subject}_{split}.csv").open(encoding="utf-8") as handle:
                rows = [{"question": r["question"], "subject": subject, "answer": int(r["answer"]),
                         "choices": [r["choice0"], r["choice1"], r["choice2"], r["choice3"]]}
                        for r in csv.DictReader(handle)]
            _jsonl(out / subject / f"{split}.jsonl", rows)
    return out


def _arc_hub(shared: Path, out: Path) -> Path:
    rows = []
    text = (shared / "arc_challenge" / "ARC-Challenge-Test.jsonl").read_text(encoding="utf-8")
    for line in filter(str.strip, text.split("\n")):
        r = json.loads(line)
        rows.append({"id": r["id"], "question": r["question"]["stem"], "answerKey": r["answerKey"],
                     "choices": {"text": [c["text"] for c in r["question"]["choices"]],
                                 "label": [c["label"] for c in r["question"]["choices"]]}})
    return _jsonl(out / "ARC-Challenge" / "test.jsonl", rows).parent.parent


def _redux_hub(shared: Path, out: Path, subjects) -> Path:
    text = (shared / "mmlu_redux" / "test.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(x) for x in text.split("\n") if x.strip()]
    for subject in subjects:
        _jsonl(out / subject / "test.jsonl", [r for r in rows if r["_hf_subset"] == subject])
    return out


def _truthful_qa_hub(shared: Path, out: Path) -> Path:
    """TruthfulQA's v0 mc_task.json ({option: 0/1} per question) in the hub's multiple_choice schema."""
    rows = json.loads((shared / "truthfulqa" / "v0" / "mc_task.json").read_text(encoding="utf-8"))
    return _jsonl(out / "validation.jsonl", [
        {"question": r["question"], **{key: {"choices": list(r[key]), "labels": list(r[key].values())}
                                       for key in ("mc1_targets", "mc2_targets")}} for r in rows]).parent


def _cases(shared: Path, tmp: Path) -> dict[str, dict]:
    pro = tmp / "mmlu_pro"
    pro.mkdir()
    for split in ("test", "validation"):
        (pro / f"{split}.jsonl").symlink_to(shared / "mmlu_pro" / f"{split}.jsonl")
    return {
        "gsm8k": {"dataset_id": str(shared / "gsm8k" / "test.jsonl")},
        "math_500": {"dataset_id": str(shared / "math500" / "test.jsonl")},
        "aime24": {"dataset_id": str(shared / "aime24" / "test.jsonl")},
        "aime25": {"dataset_id": str(shared / "aime25" / "test.jsonl")},
        "mmlu": {"dataset_id": str(_mmlu_hub(shared, tmp / "mmlu", ["anatomy", "virology"])),
                 "subset_list": ["anatomy", "virology"], "few_shot_num": 5},
        "mmlu_pro": {"dataset_id": str(pro)},
        "mmlu_redux": {"dataset_id": str(_redux_hub(shared, tmp / "redux", ["anatomy", "virology"])),
                       "subset_list": ["anatomy", "virology"]},
        "gpqa_diamond": {"dataset_id": str(shared / "gpqa_diamond" / "gpqa_diamond.csv")},
        "arc": {"dataset_id": str(_arc_hub(shared, tmp / "arc")), "subset_list": ["ARC-Challenge"]},
        "ceval": {"dataset_id": str(shared / "ceval"), "subset_list": ["law", "logic"], "few_shot_num": 5},
        "truthful_qa": {"dataset_id": str(_truthful_qa_hub(shared, tmp / "truthful_qa"))},
    }


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_real_files_gold_100_wrong_0(shared_data, tmp_path, make_replay, kind, expected):
    cases = _cases(shared_data, tmp_path)
    limit = 20
    samples, responses = [], []
    for name, args in cases.items():
        task_type = get_benchmark(name).task_type
        for sample in load_samples(name, limit=limit, **args):
            samples.append(sample)
            responses.append((gold_answer if kind == "gold" else wrong_answer)(sample, task_type))
    task = TaskConfig(eval_type="sim", model="m", model_args=sim_args(make_replay(samples, responses)),
                      datasets=list(cases), dataset_args=cases, limit=limit, eval_batch_size=32,
                      work_dir=str(tmp_path / "out"))
    reports = run_task(task, show=False).reports
    for name, report in reports.items():
        assert report.score == expected, (name, report.metrics)
        assert report.failed_samples == 0
    assert reports["aime25"].num == 20 and reports["mmlu_pro"].num == 14 * limit


def test_truthful_qa_real_file_has_817_questions_one_true_mc1_option_each(shared_data, tmp_path):
    root = _truthful_qa_hub(shared_path("truthfulqa", "v0", "mc_task.json").parents[2], tmp_path / "tqa")
    samples = load_samples("truthful_qa", dataset_id=str(root))
    mc1 = [s for s in samples if s.subset == "mc1"]
    mc2 = [s for s in samples if s.subset == "mc2"]
    assert len(mc1) == len(mc2) == 817
    assert all(isinstance(s.target, str) for s in mc1)
    assert mc1[0].metadata["question"].startswith("What is the smallest country in the world")
    # every question has a false option to pick in both views
    assert all(len(s.choices) > (1 if isinstance(s.target, str) else len(s.target)) for s in mc2)
