"""DROP: the official evaluator's normaliser and span-aligned F1 against hand-computed cases (multi-span and
number cases), gold answers read back from the hub's flattened ``answers_spans``, answer extraction, the golden
3-shot prompt, and gold 100% / wrong 0% end to end against the simulator.

The fixture's train rows are the three DROP questions EvalScope's drop prompt shows as examples (passage,
question, answer; CC-BY-SA-4.0; their ids are written for the fixture); its validation rows ask new,
hand-answered questions of those passages, in the hub schema."""

from __future__ import annotations

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.drop import extract_answer, gold_answers
from assay.eval.scoring.drop import best_drop_metrics, drop_metrics, normalise, split_spans

from .conftest import FIXTURES, check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "drop")}
TWO_PLAYERS = ["Tim Hightower", "Jason Wright"]


def test_golden_prompt():
    check_golden("drop")


@pytest.mark.parametrize("text,expected", [
    ("The Jaguars", "jaguars"),
    ("5", "5.0"),
    ("5.0", "5.0"),                 # numbers agree however they are written
    ("$1,000", "1000.0"),           # punctuation goes first, then the number is normalised
    ("forty-two", "forty two"),     # hyphens split tokens
    ("  A  cat's   toy. ", "cats toy"),
    ("an", ""),
])
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize("predicted,gold,em,f1", [
    (["Jacobs"], ["Jacobs"], 1.0, 1.0),
    (["the Jacobs."], ["Jacobs"], 1.0, 1.0),
    (["3.0"], ["3"], 1.0, 1.0),
    (["3 yards"], ["3"], 0.0, 0.67),                 # P 1/2, R 1
    (["4 yards"], ["3 yards"], 0.0, 0.0),            # the gold's number is missing: no partial credit
    (["12 Jacobs"], ["Jacobs"], 0.0, 0.67),          # a gold without numbers ignores the predicted ones
    (["Tim Hightower"], TWO_PLAYERS, 0.0, 0.5),      # one of two gold spans: (1 + 0) / 2
    (["Jason Wright", "Tim Hightower"], TWO_PLAYERS, 1.0, 1.0),  # the order of spans does not matter
    (["Hightower", "Jason Wright"], TWO_PLAYERS, 0.0, 0.83),     # (2/3 + 1) / 2
    (["Jason Wright", "Tim Hightower", "Nicks"], TWO_PLAYERS, 0.0, 0.67),  # an extra span: 2 / 3
    (["Tim Hightower", "Tim Hightower"], TWO_PLAYERS, 0.0, 0.5),  # each gold span is paired once
])
def test_drop_metrics_hand_computed(predicted, gold, em, f1):
    assert drop_metrics(predicted, gold) == (em, f1)


def test_best_over_gold_answers_and_shape_from_the_gold():
    golds = [["Nicks"], ["Hakeem Nicks"], ["Nicks", "Hakeem Nicks"]]
    assert best_drop_metrics("Hakeem Nicks", golds) == (1.0, 1.0)
    assert best_drop_metrics("Nicks", golds) == (1.0, 1.0)
    # Against a multi-span gold the answer is split into spans; against a single span it stays whole.
    assert best_drop_metrics("Hightower and Jason Wright", [TWO_PLAYERS]) == (0.0, 0.83)
    assert best_drop_metrics("Jason Wright, Tim Hightower", [TWO_PLAYERS]) == (1.0, 1.0)
    assert best_drop_metrics("1,000", [["1000"]]) == (1.0, 1.0)
    assert best_drop_metrics("anything", [[""]]) == (0.0, 0.0)  # an empty gold is skipped


def test_split_spans_keeps_numbers_whole():
    assert split_spans("1,000 and 2,000") == ["1,000", "2,000"]
    assert split_spans("Jets; Bills | Dolphins & Patriots") == ["Jets", "Bills", "Dolphins", "Patriots"]
    assert split_spans("Buffalo") == ["Buffalo"]


@pytest.mark.parametrize("spans,types,expected", [
    (["Chaz Schilens"], ["span"], [["Chaz Schilens"]]),
    (["3", "3"], ["number", "number"], [["3"]]),
    (TWO_PLAYERS * 2, ["span"] * 4, [TWO_PLAYERS]),                      # one two-span answer, twice
    (["Nicks", "Hakeem Nicks"], ["span"] * 2, [["Nicks"], ["Hakeem Nicks"], ["Nicks", "Hakeem Nicks"]]),
    (["4", "four"], ["number", "span"], [["4"], ["four"]]),
])
def test_gold_answers_from_the_flattened_hub_lists(spans, types, expected):
    assert gold_answers({"answers_spans": {"spans": spans, "types": types}}) == expected


def test_gold_answers_from_the_original_schema():
    empty_date = {"day": "", "month": "", "year": ""}
    date = {"day": "7", "month": "November", "year": "2009"}
    row = {"answer": {"number": "", "date": empty_date, "spans": TWO_PLAYERS},
           "validated_answers": [{"number": "", "date": empty_date, "spans": TWO_PLAYERS},
                                 {"number": "", "date": date, "spans": []}]}
    assert gold_answers(row) == [TWO_PLAYERS, ["7 November 2009"]]
    columnar = {"answer": {"number": "12", "date": empty_date, "spans": []},
                "validated_answers": {"number": ["12", ""], "date": [empty_date, empty_date],
                                      "spans": [[], ["twelve"]]}}
    assert gold_answers(columnar) == [["12"], ["twelve"]]


@pytest.mark.parametrize("reply,expected", [
    ("Kaeding kicked three.\nAnswer: 3", "3"),
    ('The format is "Answer: $ANSWER".\nCounting...\nAnswer: 3', "3"),   # the last marker, not a quoted one
    ("**Answer:** Tim Hightower, Jason Wright", "Tim Hightower, Jason Wright"),
    ("<think>Answer: 2</think>\nfinal answer: 1681", "1681"),
    ("No marker here.\nJacobs", "Jacobs"),
    ("", None),
])
def test_extract_answer(reply, expected):
    assert extract_answer(reply) == expected


def test_samples_read_the_hub_schema():
    samples = load_samples("drop", **ARGS)
    assert [s.id for s in samples] == ["v1-second-half-cardinals", "v2-kaeding-field-goals", "v3-puger-surrender",
                                       "v4-62-yard-catch"]
    assert [s.target for s in samples] == ["Tim Hightower, Jason Wright", "3", "1681", "Nicks"]
    text = (samples[0].messages or [])[-1].text()
    assert text.count("---\nPassage:") == 4 and "Answer: Jacobs" in text and "# Your Task" in text
    zero_shot = load_samples("drop", few_shot_num=0, **ARGS)[0].messages[-1].text()
    assert "# Examples" not in zero_shot and zero_shot.count("Passage:") == 1


def test_score_values():
    bench = get_benchmark("drop")()
    sample = load_samples("drop", **ARGS)[0]
    assert bench.score(sample, "So two players.\nAnswer: Jason Wright and Tim Hightower").values == \
        {"em": 1.0, "f1": 1.0}
    assert bench.score(sample, "Answer: Tim Hightower").values == {"em": 0.0, "f1": 0.5}
    assert bench.score(sample, "").values == {"em": 0.0, "f1": 0.0}


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    samples = load_samples("drop", **ARGS)
    responses = [f"Reading the passage step by step.\nAnswer: {s.target}" if kind == "gold" else "Answer: zzz qqq"
                 for s in samples]
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["drop"], dataset_args={"drop": ARGS}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4)
    report = run_task(task, show=False).reports["drop"]
    assert report.score == expected and report.main_metric == "f1"
    assert report.metrics["em"].score == expected
    assert report.failed_samples == 0 and report.num == len(samples)
