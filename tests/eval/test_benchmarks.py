"""Benchmarks: rendered prompts (golden snapshots), targets, corrections, shuffles and scoring."""

from __future__ import annotations

import json

import pytest

from assay.eval.benchmarks import benchmark_names, get_benchmark
from assay.eval.benchmarks.mmlu_redux import corrected_answer
from assay.eval.filters import apply_filters

from .conftest import FIXTURES, load_samples

pytestmark = pytest.mark.timeout(60)
CASES = {
    "gsm8k": {"dataset_id": str(FIXTURES / "gsm8k")},
    "math_500": {"dataset_id": str(FIXTURES / "math_500"), "subset_list": ["Level 1", "Level 2"]},
    "mmlu": {"dataset_id": str(FIXTURES / "mmlu"), "subset_list": ["anatomy"]},
    "mmlu_5shot": {"dataset_id": str(FIXTURES / "mmlu"), "subset_list": ["anatomy"], "few_shot_num": 1},
    "iquiz": {"dataset_id": str(FIXTURES / "iquiz"), "subset_list": ["IQ"]},
    "arc": {"dataset_id": str(FIXTURES / "arc")},
    "general_mcq": {"dataset_id": str(FIXTURES / "general_mcq"), "few_shot_num": 1},
    "general_qa": {"dataset_id": str(FIXTURES / "general_qa")},
    "arena_hard": {"dataset_id": str(FIXTURES / "arena_hard")},
    "alpaca_eval": {"dataset_id": str(FIXTURES / "alpaca_eval")},
    "truthful_qa": {"dataset_id": str(FIXTURES / "truthful_qa")},
    "hellaswag": {"dataset_id": str(FIXTURES / "hellaswag")},
    "winogrande": {"dataset_id": str(FIXTURES / "winogrande")},
    "mmmlu": {"dataset_id": str(FIXTURES / "mmmlu"), "subset_list": ["ZH_CN", "FR_FR"]},
    "super_gpqa": {"dataset_id": str(FIXTURES / "super_gpqa"), "subset_list": ["Physics", "Law"]},
    "musr": {"dataset_id": str(FIXTURES / "musr")},
    "bbh": {"dataset_id": str(FIXTURES / "bbh"), "subset_list": ["date_understanding", "boolean_expressions"]},
    "cmmlu": {"dataset_id": str(FIXTURES / "cmmlu"), "subset_list": ["agronomy"]},
    "cmmlu_5shot": {"dataset_id": str(FIXTURES / "cmmlu"), "subset_list": ["agronomy"], "few_shot_num": 1},
}


def test_every_benchmark_has_a_paper_and_a_version():
    for name in benchmark_names():
        cls = get_benchmark(name)
        assert cls.__doc__ and cls.version, name
        module_doc = __import__(cls.__module__, fromlist=["x"]).__doc__
        assert module_doc and len(module_doc) > 80, name


def test_gsm8k_target_drops_thousands_separators():
    assert [s.target for s in load_samples("gsm8k", **CASES["gsm8k"])] == ["7", "60", "2400", "60"]


def test_arc_numeric_labels_become_letters():
    sample = load_samples("arc", **CASES["arc"])[-1]
    assert sample.subset == "ARC-Challenge" and sample.target == "A"


def test_shuffled_choices_are_seeded_and_the_target_follows():
    a = load_samples("mmlu", shuffle_choices=True, **CASES["mmlu"])
    b = load_samples("mmlu", shuffle_choices=True, **CASES["mmlu"])
    c = load_samples("mmlu", shuffle_choices=True, seed=7, **CASES["mmlu"])
    assert [s.choices for s in a] == [s.choices for s in b]
    for sample in a + c:
        assert sample.choices[ord(sample.target) - 65] == "Femur"


@pytest.mark.parametrize("row,choices,answers", [
    ({"choices": ["a", "b", "c", "d"], "answer": 0, "error_type": "ok", "correct_answer": None}, None, [0]),
    ({"choices": ["a", "b", "c", "d"], "answer": 0, "error_type": "wrong_groundtruth", "correct_answer": "2"}, None, [2]),
    ({"choices": ["a", "b", "c", "d"], "answer": 0, "error_type": "wrong_groundtruth", "correct_answer": "C"}, None, [2]),
    ({"choices": ["a", "b", "c", "d"], "answer": 1, "error_type": "multiple_correct_answers",
      "correct_answer": "(1 and 3)"}, None, [1, 3]),
    ({"choices": ["a", "b", "c", "d"], "answer": 1, "error_type": "no_correct_answer", "correct_answer": "e"},
     ["a", "e", "c", "d"], [1]),
])
def test_mmlu_redux_corrections(row, choices, answers):
    got_choices, got_answers = corrected_answer(row)
    assert got_answers == answers and got_choices == (choices or row["choices"])


def test_mcq_scores_strict_and_lenient():
    bench = get_benchmark("mmlu")()
    sample = load_samples("mmlu", **CASES["mmlu"])[0]
    assert bench.score(sample, "Answer: C").values == {"acc": 1.0, "acc_strict": 1.0}
    assert bench.score(sample, "I think A").values["acc"] == 0.0
    assert bench.score(sample, "").extracted is None


def test_math_scores_equivalent_forms():
    bench = get_benchmark("math_500")()
    sample = load_samples("math_500", **CASES["math_500"])[0]
    assert bench.score(sample, "so \\boxed{0.75}").values["acc"] == 1.0
    assert bench.score(sample, "no idea").values["acc"] == 0.0


@pytest.mark.parametrize("text,filters,expected,unfinished", [
    ("<think>x \\boxed{1}</think>The answer is 2", {}, "The answer is 2", False),
    ("<think>cut off \\boxed{1}", {}, "", True),
    ("Final: [[B]]", {"regex": r"\[\[(\w)\]\]"}, "B", False),
    ("plain", {"remove_until": "</think>"}, "plain", False),
])
def test_filters(text, filters, expected, unfinished):
    result = apply_filters(text, filters)
    assert (result.text, result.unfinished_reasoning) == (expected, unfinished)


def test_mmlu_pro_follows_the_published_protocol():
    """MMLU-Pro: 5 CoT shots of the same category from the validation split, 'The answer is (X)' extracted
    from the last marker; the protocol is written next to the score."""
    from assay.eval.benchmarks.common import score_choice
    from assay.eval.config import DatasetArgs

    benchmark = get_benchmark("mmlu_pro")(DatasetArgs())
    assert benchmark.few_shot_num == 5 and benchmark.few_shot_split == "validation"
    assert "validation split" in benchmark.protocol() and benchmark.protocol().startswith("5-shot")
    answer = "The answer is (A) says the example, but checking again... The answer is (C)."
    assert score_choice(answer, "C", 10).values["acc"] == 1.0


def test_mmlu_protocol_names_its_shots():
    from assay.eval.config import DatasetArgs

    assert get_benchmark("mmlu")(DatasetArgs(few_shot_num=5)).protocol().startswith("5-shot; simple-evals")
    assert get_benchmark("gpqa_diamond")(DatasetArgs()).protocol().endswith("options shuffled (seeded)")


def test_dev_shots_numbered_like_the_question_are_not_dropped(tmp_path):
    """A dev row has the id of the test row with the same index (``anatomy/0``): the shot drawer took it for
    the question and dropped it, so MMLU question 0 got dev rows 1-5, and with one dev row no shot at all."""
    samples = load_samples("mmlu", dataset_id=str(FIXTURES / "mmlu"), subset_list=["anatomy"], few_shot_num=1)
    assert "How many chambers has the human heart?" in samples[0].messages[-1].text()
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    rows = [{"question": f"Q{i}: what is {i} + 1?", "answer": f"{i} + 1\n#### {i + 1}"} for i in range(4)]
    for split in ("train", "test"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    first = "\n".join(m.text() for m in load_samples("gsm8k", dataset_id=str(folder), few_shot_num=2)[0].messages)
    assert first.count("Q0: what is 0 + 1?") == 2 and "Q1: what is 1 + 1?" in first and "Q2" not in first


def test_every_module_of_the_package_is_imported_so_its_benchmarks_register():
    import pkgutil
    import sys

    import assay.eval.benchmarks as package

    modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    assert {"gsm8k", "pairwise", "ifeval"} <= modules
    assert all(f"assay.eval.benchmarks.{name}" in sys.modules for name in modules)


def test_truthful_qa_mc1_has_one_truth_and_mc2_accepts_any_true_option():
    from assay.eval.benchmarks.common import score_choice

    samples = load_samples("truthful_qa", **CASES["truthful_qa"])
    mc1 = [s for s in samples if s.subset == "mc1"]
    mc2 = [s for s in samples if s.subset == "mc2"]
    assert len(mc1) == len(mc2) == 3 and all(isinstance(s.target, str) for s in mc1)
    for sample in mc1:  # shuffled, the target follows the true option (listed first in the source)
        assert sample.choices[ord(sample.target) - 65].startswith(("Nauru", "People in the US have the shortest",
                                                                   "Artists take inspiration"))
    many = next(s for s in mc2 if isinstance(s.target, list) and len(s.target) > 1)
    for letter in many.target:
        assert score_choice(f"Answer: {letter}", many.target, len(many.choices)).values["acc"] == 1.0
    false = next(chr(65 + i) for i in range(len(many.choices)) if chr(65 + i) not in many.target)
    assert score_choice(f"Answer: {false}", many.target, len(many.choices)).values["acc"] == 0.0


def test_truthful_qa_reads_evalscopes_subset_and_multiple_correct():
    args = {**CASES["truthful_qa"], "subset_list": ["multiple_choice"]}
    assert {s.subset for s in load_samples("truthful_qa", **args)} == {"mc1"}
    assert {s.subset for s in load_samples("truthful_qa", extra_params={"multiple_correct": True}, **args)} == {"mc2"}
    with pytest.raises(Exception, match="unknown subset 'mc3'"):
        load_samples("truthful_qa", **{**args, "subset_list": ["mc3"]})


def test_hellaswag_cleans_wikihow_markup_and_winogrande_answers_1_2_become_a_b():
    wiki = load_samples("hellaswag", **CASES["hellaswag"])[1]
    assert wiki.metadata["question"] == "How to water a cactus. Check the soil first. Push a finger into the soil."
    assert wiki.choices[0] == "Pour a bucket of sand over the leaves every hour." and wiki.target == "B"
    assert [s.target for s in load_samples("winogrande", **CASES["winogrande"])] == ["B", "B", "A"]


def test_cmmlu_reads_both_schemas_and_its_dev_shots_are_never_the_question():
    from assay.eval.benchmarks.cmmlu import options_and_answer

    evalscope_row = {"question": "q", "choices": ["(A) 甲", "(B) 乙", "(C) 丙", "(D) 丁"], "answer": "(C)",
                     "category": "agronomy"}
    assert options_and_answer(evalscope_row) == (["甲", "乙", "丙", "丁"], 2)
    first = load_samples("cmmlu", **CASES["cmmlu_5shot"])[0]  # test row 0 and dev row 0 share an index
    assert first.messages[0].content.startswith("小麦属于哪一类作物？") and "答案：C\n\n" in first.messages[0].content


def test_mmmlu_finds_each_language_in_the_hubs_file_layout():
    samples = load_samples("mmmlu", **CASES["mmmlu"])
    assert [(s.subset, s.target, s.metadata["language"]) for s in samples] == [
        ("ZH_CN", "B", "Chinese"), ("ZH_CN", "C", "Chinese"), ("FR_FR", "A", "French")]
    with pytest.raises(Exception, match="subset 'JA_JP'"):
        load_samples("mmmlu", **{**CASES["mmmlu"], "subset_list": ["JA_JP"]})


def test_super_gpqa_selects_fields_from_one_file_and_letters_up_to_j():
    samples = load_samples("super_gpqa", **CASES["super_gpqa"])
    assert [(s.subset, s.target, len(s.choices)) for s in samples] == [("Physics", "C", 10), ("Physics", "C", 10),
                                                                        ("Law", "A", 4)]
    assert "one of ABCDEFGHIJ" in samples[0].messages[0].content
    bench = get_benchmark("super_gpqa")()
    assert bench.score(samples[0], "The answer is (J)").values["acc"] == 0.0


def test_musr_reads_the_hubs_files_and_list_literal_choices():
    from assay.errors import DatasetError
    from assay.eval.benchmarks.musr import choice_list

    samples = load_samples("musr", **CASES["musr"])
    assert [(s.subset, s.target, len(s.choices)) for s in samples] == [
        ("murder_mysteries", "A", 2), ("object_placements", "A", 3), ("team_allocation", "B", 3)]
    assert samples[0].metadata["question"].endswith("\n\nWho is the most likely murderer?")
    assert choice_list(["a", "b"]) == ["a", "b"]
    with pytest.raises(DatasetError, match="not a list"):
        choice_list("Rosa, Dev")


@pytest.mark.parametrize("answer,acc", [
    ("Step one... So the answer is (A).", 1.0),
    ("So the answer is **(A) 02/23/2020**.", 1.0),
    ("the answer is (B). Checking again, the answer is (A)", 1.0),
    ("So the answer is (D).", 0.0),
    ("", 0.0),
])
def test_bbh_multiple_choice_exact_match_after_the_last_marker(answer, acc):
    sample = load_samples("bbh", **CASES["bbh"])[0]
    assert sample.target == "A" and get_benchmark("bbh")().score(sample, answer).values["acc"] == acc


def test_bbh_free_form_is_exact_and_the_cot_exemplars_come_from_the_prompt_file(tmp_path):
    import shutil

    from assay.errors import ConfigError
    from assay.eval.benchmarks.bbh import parse_cot_prompt

    samples = load_samples("bbh", **CASES["bbh"])
    boolean = next(s for s in samples if s.subset == "boolean_expressions")
    bench = get_benchmark("bbh")()
    assert bench.score(boolean, "not False is True. So the answer is True.").values["acc"] == 1.0
    assert bench.score(boolean, "So the answer is true.").values["acc"] == 0.0  # exact match, as published
    text = (FIXTURES / "bbh" / "cot-prompts" / "date_understanding.txt").read_text(encoding="utf-8")
    description, exemplars = parse_cot_prompt("-----\n" + text)
    assert description == "Reason about dates given in a short text." and len(exemplars) == 3
    assert samples[0].messages[0].content.count("A: Let's think step by step.") == 4
    copy = shutil.copytree(FIXTURES / "bbh", tmp_path / "bbh", ignore=shutil.ignore_patterns("cot-prompts"))
    with pytest.raises(ConfigError, match="date_understanding.txt .*few_shot_num: 0"):
        load_samples("bbh", dataset_id=str(copy), subset_list=["date_understanding"])
    moved = load_samples("bbh", dataset_id=str(copy), subset_list=["date_understanding"],
                         extra_params={"cot_prompts": str(FIXTURES / "bbh" / "cot-prompts")})
    assert moved[0].messages == samples[0].messages
    zero = load_samples("bbh", dataset_id=str(copy), subset_list=["date_understanding"], few_shot_num=0)
    assert zero[0].messages[0].content.startswith("Q: Today is 3/1/2020.")
