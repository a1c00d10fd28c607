"""MGSM: the hub repository's TSV layout and the per-config exports, the per-language prompt, number reading
across locales, and gold 100% / wrong 0% end to end against the simulator."""

from __future__ import annotations

import orjson
import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.mgsm import final_number, parse_number

from .conftest import FIXTURES, check_golden, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "mgsm"), "subset_list": ["en", "de", "zh"]}


def test_golden_prompt():
    check_golden("mgsm")


def test_reads_the_hub_tsv_files_a_subset_per_language():
    samples = load_samples("mgsm", **ARGS)
    assert [(s.id, s.subset, s.target) for s in samples] == [
        ("en/0", "en", "18"), ("en/1", "en", "3"), ("de/0", "de", "18"), ("de/1", "de", "1200"),
        ("zh/0", "zh", "18"), ("zh/1", "zh", "3")]
    german = (samples[2].messages or [])[-1].text()
    assert german.startswith("Löse die folgende Matheaufgabe") and "\"Antwort: <Zahl>\"" in german
    assert german.endswith("auf dem Bauernmarkt?")
    assert "答案：" in (samples[4].messages or [])[-1].text()


def test_a_language_missing_from_the_copy_has_no_rows():
    assert load_samples("mgsm", dataset_id=ARGS["dataset_id"], subset_list=["sw"]) == []


def test_reads_a_per_config_export_and_its_train_exemplars_as_shots(tmp_path):
    for split, rows in (("test", [{"question": "¿Cuánto es 2 + 2?", "answer": None, "answer_number": 4,
                                   "equation_solution": None}]),
                        ("train", [{"question": "¿Cuánto es 1 + 1?", "answer": "Respuesta paso a paso: 1 + 1 = 2.",
                                    "answer_number": 2, "equation_solution": "1 + 1 = 2"}])):
        (tmp_path / "es").mkdir(exist_ok=True)
        (tmp_path / "es" / f"{split}.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    [sample] = load_samples("mgsm", dataset_id=str(tmp_path), subset_list=["es"], few_shot_num=1)
    assert sample.target == "4"
    shot_question, shot_answer, question = sample.messages or []
    assert shot_question.text().endswith("¿Cuánto es 1 + 1?")
    assert shot_answer.role == "assistant" and shot_answer.text().endswith("1 + 1 = 2.\nRespuesta: 2")
    assert question.text().startswith("Resuelve el siguiente problema") and question.text().endswith("2 + 2?")


@pytest.mark.parametrize("text,value", [
    ("1,234", 1234), ("1.234", 1234), ("1 234", 1234), ("1\u202f234", 1234), ("1'234", 1234),
    ("1.234.567", 1234567), ("1.234,5", 1234.5), ("1,234.5", 1234.5),
    ("3,5", 3.5), ("3.5", 3.5), ("0.125", 0.125), ("0,125", 0.125), ("18.00", 18), ("-7", -7),
    ("১২০০", 1200), ("౧౮", 18), ("๑๘", 18), ("１８", 18),
    ("5 3", None), ("12 34", None), ("abc", None),
])
def test_numbers_are_read_across_locales(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("answer,found", [
    ("Antwort: 1.200", ("1.200", "answer_prefix")),
    ("**Antwort:** 1 200 Äpfel", ("1 200", "answer_prefix")),
    ("Antwort : 18", ("18", "answer_prefix")),                  # a space before the colon
    ("Answer: 18", ("18", "answer_prefix")),                    # the English prefix is read in every language
    ("Antwort:\n\n18", ("18", "answer_prefix")),                # the number on the next line
    ("Antwort: 18\n16 - 3 - 4 = 9", ("18", "answer_prefix")),  # lines after the answer line are not read
    ("Antwort: 18 - 3 = 15", ("15", "answer_prefix")),          # the last number of the line, not "-3"
    ("Antwort: 5, also \\boxed{1200}", ("1200", "boxed")),      # a later boxed answer wins
    ("\\boxed{1200} Antwort: 18", ("18", "answer_prefix")),    # a later prefix wins
    ("Es sind 1200 Äpfel.", None),                             # no prefix and no box: no answer
])
def test_the_final_number_follows_the_last_marker(answer, found):
    assert final_number(answer, "Antwort") == found


@pytest.mark.parametrize("index,answer,acc", [
    (3, "60 · 20 = 1200\nAntwort: 1.200", 1.0),
    (3, "Antwort: 1,200", 1.0),
    (3, "Antwort: 1200,0", 1.0),
    (3, "Antwort: 1 200", 1.0),
    (3, "Antwort: 1.201", 0.0),
    (3, "Antwort: 120", 0.0),
    (3, "1200", 0.0),                   # the number alone, without the prefix, is no answer
    (4, "答案：১৮", 1.0),
    (4, "答案：１８", 1.0),
    (4, "答案: 18 美元", 1.0),
    (4, "答案：16", 0.0),
    (0, "Answer: $18.", 1.0),
    (0, "The answer is $\\boxed{18}$.", 1.0),
])
def test_scorer_cases(index, answer, acc):
    bench = get_benchmark("mgsm")()
    sample = load_samples("mgsm", **ARGS)[index]
    score = bench.score(sample, answer)
    assert score.values["acc"] == acc
    if answer == "1200":
        assert score.extracted is None and score.explanation


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    samples = load_samples("mgsm", **ARGS)
    responses = [(gold_answer if kind == "gold" else wrong_answer)(sample, "math") for sample in samples]
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["mgsm"], dataset_args={"mgsm": ARGS}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4)
    report = run_task(task, show=False).reports["mgsm"]
    assert report.score == expected
    assert report.failed_samples == 0 and report.num == len(samples)
    assert [(s.name, s.metrics["acc"].score) for s in report.subsets] == [(lang, expected) for lang in
                                                                           ("en", "de", "zh")]
