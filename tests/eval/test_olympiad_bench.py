"""olympiad_bench: the hub schema and subsets, the paper's prompt, answer extraction after "So the final answer is",
equivalent forms, multiple answers in any order, the tolerance and units, and gold 100% / wrong 0% end to end."""

from __future__ import annotations

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.olympiad_bench import extract_answers, match_all, split_answers, strip_unit

from .conftest import FIXTURES, check_golden, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "olympiad_bench")}


def _samples(**args):
    return load_samples("olympiad_bench", **{**ARGS, **args})


def _score(index, answer):
    return get_benchmark("olympiad_bench")().score(_samples()[index], answer)


def test_golden_prompt():
    check_golden("olympiad_bench")


def test_rows_subsets_and_targets():
    samples = _samples()
    assert [(s.id, s.subset) for s in samples] == [
        ("2001", "OE_TO_maths_en_COMP"), ("2002", "OE_TO_maths_en_COMP"), ("2003", "OE_TO_maths_en_COMP"),
        ("3001", "OE_TO_physics_en_COMP")]
    assert [s.metadata["targets"] for s in samples] == [["\\frac{1}{2}"], ["n^{2}"], ["1", "3", "9"], ["19.8"]]
    assert samples[2].target == "1, 3, 9" and samples[2].metadata["is_multiple_answer"]
    assert [s.id for s in _samples(subset_list=["OE_TO_maths_en_COMP"])] == ["2001", "2002", "2003"]


def test_prompt_names_the_answer_type_unit_and_final_line():
    samples = _samples()
    maths, multiple, physics = (s.messages[-1].text() for s in (samples[0], samples[2], samples[3]))
    assert maths.startswith("The following is an open-ended problem from an International Math competition. "
                            "The answer of The problem should be a numerical value. ")
    assert 'Please end your solution with "So the final answer is \\boxed{answer}."' in maths
    assert "each of them should be a numerical value" in multiple
    assert "\\boxed{multiple answers connected with commas}" in multiple
    assert "International Physics competition" in physics and "\\boxed{answer}(unit)" in physics
    assert "should not be included in \\boxed{}" in physics
    # The physics set-up (context) comes before the question.
    assert physics.index("released from rest") < physics.index("Find the speed")


def test_extraction_reads_the_boxes_after_the_last_marker():
    text = "Try \\boxed{7}. So the final answer is \\boxed{5}? No. So the final answer is \\boxed{2}, \\boxed{3}."
    assert extract_answers(text, multiple=True) == ["2", "3"]
    assert extract_answers(text, multiple=False) == ["3"]
    assert extract_answers("So the final answer is \\boxed{(1,2), [3,4)}.", multiple=True) == ["(1,2)", "[3,4)"]
    assert extract_answers("So the final answer is $x=4$.", multiple=False) == ["x=4"]
    assert extract_answers("the work ends with \\boxed{12} here", multiple=False) == ["12"]
    assert extract_answers("I could not finish it.", multiple=True) == []
    assert split_answers("\\{1, 2\\}, 3") == ["\\{1, 2\\}", "3"]


def test_units_are_stripped_from_the_answer():
    unit = "$\\mathrm{~m} / \\mathrm{s}$"
    assert strip_unit("19.8 \\mathrm{~m} / \\mathrm{s}", unit) == "19.8"
    assert strip_unit("19.8 m/s", unit, numerical=True) == "19.8"
    assert strip_unit("g t", "m/s") == "g t"  # an expression keeps its variables
    assert strip_unit("19.8 m/s", None) == "19.8 m/s"


@pytest.mark.parametrize("index,answer,acc", [
    (0, "So the final answer is $\\boxed{0.5}$.", 1.0),           # a decimal equals the fraction target
    (0, "So the final answer is \\boxed{\\dfrac{1}{2}}.", 1.0),
    (0, "So the final answer is \\boxed{2/4}", 1.0),
    (0, "So the final answer is \\boxed{\\frac{1}{3}}.", 0.0),
    (1, "So the final answer is \\boxed{n \\cdot n}.", 1.0),        # an equivalent expression
    (1, "So the final answer is \\boxed{n^2}.", 1.0),
    (1, "So the final answer is \\boxed{2n-1}.", 0.0),
    (3, "So the final answer is \\boxed{19.75} m/s.", 1.0),        # within the row's error of 0.1
    (3, "So the final answer is \\boxed{19.8 \\mathrm{~m} / \\mathrm{s}}.", 1.0),
    (3, "So the final answer is \\boxed{19.6}.", 0.0),             # outside it
    (3, "I could not finish.", 0.0),
])
def test_equivalent_forms(index, answer, acc):
    assert _score(index, answer).values["acc"] == acc


@pytest.mark.parametrize("answer,acc", [
    ("So the final answer is \\boxed{1, 3, 9}.", 1.0),
    ("So the final answer is \\boxed{9, 1, 3}.", 1.0),                       # any order
    ("So the final answer is \\boxed{1}, \\boxed{3}, \\boxed{9}.", 1.0),     # a box each
    ("So the final answer is \\boxed{\\frac{2}{2}, 3, 9.0}.", 1.0),          # equivalent forms of each
    ("So the final answer is \\boxed{1, 3}.", 0.0),                          # one missing
    ("So the final answer is \\boxed{1, 3, 9, 27}.", 0.0),                   # one too many
    ("So the final answer is \\boxed{1, 3, 3}.", 0.0),                       # a repeat is not the third answer
    ("So the final answer is \\boxed{9}.", 0.0),
])
def test_multiple_answers_all_must_match_in_any_order(answer, acc):
    assert _score(2, answer).values["acc"] == acc


def test_matching_is_a_perfect_matching_not_a_greedy_one():
    # The first target equals both answers; a greedy pass giving it the first leaves the second target unmatched.
    assert match_all([[True, True], [True, False]]) is True
    assert match_all([[True, False], [True, False]]) is False
    assert match_all([[None, False], [False, True]]) is None   # only an undecided check stands in the way
    assert match_all([[True, True]]) is False                  # two answers for one target


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    samples = _samples()
    if kind == "gold":
        responses = [f"Working step by step.\nSo the final answer is \\boxed{{{s.target}}}"
                     + (" m/s." if s.metadata["unit"] else ".") for s in samples]
    else:
        responses = [wrong_answer(s, "math") for s in samples]
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["olympiad_bench"], dataset_args={"olympiad_bench": ARGS},
                      work_dir=str(tmp_path / "out"), eval_batch_size=4)
    report = run_task(task, show=False).reports["olympiad_bench"]
    assert report.score == expected and report.num == 4 and report.failed_samples == 0
