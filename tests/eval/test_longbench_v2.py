"""longbench_v2: the hub's data.json schema (synthetic look-alike rows with short contexts), the authors' 0-shot
prompt, the middle cut of long contexts, letter scoring, and gold 100% / wrong 0% end to end with the per-difficulty
and per-length breakdowns."""

from __future__ import annotations

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.longbench_v2 import DOMAINS, cut_middle

from .conftest import FIXTURES, check_golden, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "longbench_v2")}


def test_golden_prompt():
    check_golden("longbench_v2")


def test_rows_become_samples_a_subset_per_domain():
    samples = load_samples("longbench_v2", **ARGS)
    assert [s.id for s in samples] == ["66f36490821e116aacb2cc01", "66f36490821e116aacb2cc02",
                                       "66f36490821e116aacb2cc03"]
    assert [s.subset for s in samples] == ["Single-Document QA", "Code Repository Understanding",
                                           "Long Structured Data Understanding"]
    assert [s.target for s in samples] == ["C", "B", "D"]
    assert [(s.metadata["difficulty"], s.metadata["length"]) for s in samples] == [
        ("easy", "short"), ("hard", "medium"), ("hard", "long")]
    assert all("context" not in s.metadata for s in samples)  # kept once, in the messages
    assert len(DOMAINS) == 6


def test_the_prompt_is_the_authors_zero_shot_form():
    sample = load_samples("longbench_v2", **ARGS)[1]
    text = sample.messages[-1].text()
    assert text.startswith("Please read the following text and answer the question below.\n\n<text>\n# repo: tinycache")
    assert "A template like {name} or $Q$ in this text is not a placeholder.\n</text>\n\n" in text
    assert "What is the correct answer to this question: What does load_config return" in text
    assert "\nChoices:\n(A) None\n(B) A Config whose cache is {\"size\": 128}\n(C) It raises KeyError\n(D) " in text
    assert text.endswith('Format your response as follows: "The correct answer is (insert answer here)".')


def test_subset_list_selects_domains():
    samples = load_samples("longbench_v2", subset_list=["Code Repository Understanding"], **ARGS)
    assert [s.target for s in samples] == ["B"]


def test_max_context_chars_cuts_the_middle():
    whole = load_samples("longbench_v2", **ARGS)[0]
    cut = load_samples("longbench_v2", extra_params={"max_context_chars": 200}, **ARGS)[0]
    assert not whole.metadata["context_truncated"] and cut.metadata["context_truncated"]
    text = cut.messages[-1].text()
    context = text[text.index("<text>\n") + 7: text.index("\n</text>")]
    assert len(context) == 200 and context.startswith("Chapter One. Every evening")
    assert context.endswith("stayed empty until the light was automated.")
    assert cut.metadata["context_chars"] == whole.metadata["context_chars"] > 200
    assert "thirty years" in text and "What is the correct answer to this question: Why does" in text


@pytest.mark.parametrize("text,limit,expected", [
    ("abcdefghij", None, "abcdefghij"),
    ("abcdefghij", 20, "abcdefghij"),
    ("abcdefghij", 4, "abij"),
    ("abcdefghij", 5, "abhij"),
])
def test_cut_middle(text, limit, expected):
    assert cut_middle(text, limit) == expected


def test_a_user_template_may_place_the_context():
    sample = load_samples("longbench_v2", prompt_template="Doc: {context}\nQ: {question}\n{choices}", **ARGS)[2]
    text = sample.messages[-1].text()
    assert text.startswith("Doc: | warehouse | quarter | crates |") and "\nQ: Which warehouse" in text
    assert text.endswith("A) Northgate\nB) Riverside\nC) Hillcrest\nD) Bayview")


@pytest.mark.parametrize("answer,acc,strict", [
    ("The correct answer is (C)", 1.0, 1.0),
    ("The correct answer is C", 1.0, 1.0),
    ("**The correct answer is (C)**", 1.0, 1.0),
    ("Option A looks tempting, but the keeper read the ledger.\nThe correct answer is (C).", 1.0, 1.0),
    ("The correct answer is (A)", 0.0, 0.0),
    ("(C)", 1.0, 0.0),
    ("", 0.0, 0.0),
])
def test_scoring(answer, acc, strict):
    bench = get_benchmark("longbench_v2")()
    sample = load_samples("longbench_v2", **ARGS)[0]
    assert bench.score(sample, answer).values == {"acc": acc, "acc_strict": strict}


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0), ("authors", 1.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    samples = load_samples("longbench_v2", **ARGS)
    answer = {"gold": lambda s: gold_answer(s, "mcq"), "wrong": lambda s: wrong_answer(s, "mcq"),
              "authors": lambda s: f"The correct answer is ({s.target})"}[kind]
    task = TaskConfig(eval_type="sim", model="replay-model",
                      model_args=sim_args(make_replay(samples, [answer(s) for s in samples])),
                      datasets=["longbench_v2"], dataset_args={"longbench_v2": ARGS}, work_dir=str(tmp_path / "out"))
    report = run_task(task, show=False).reports["longbench_v2"]
    assert report.score == expected and report.failed_samples == 0 and report.num == 3
    assert [s.name for s in report.subsets] == ["Single-Document QA", "Code Repository Understanding",
                                                "Long Structured Data Understanding"]
    breakdown = {name: (m.score, m.num) for name, m in report.metrics.items() if "[" in name}
    assert breakdown == {"acc[difficulty=easy]": (expected, 1), "acc[difficulty=hard]": (expected, 2),
                         "acc[length=short]": (expected, 1), "acc[length=medium]": (expected, 1),
                         "acc[length=long]": (expected, 1)}


def test_the_breakdown_separates_difficulties(tmp_path, make_replay):
    samples = load_samples("longbench_v2", **ARGS)
    responses = [gold_answer(s, "mcq") if s.metadata["difficulty"] == "hard" else wrong_answer(s, "mcq")
                 for s in samples]
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["longbench_v2"], dataset_args={"longbench_v2": ARGS}, work_dir=str(tmp_path / "out"))
    report = run_task(task, show=False).reports["longbench_v2"]
    assert report.metrics["acc[difficulty=hard]"].score == 1.0
    assert report.metrics["acc[difficulty=easy]"].score == 0.0
    assert report.metrics["acc[length=short]"].score == 0.0 and report.metrics["acc[length=long]"].score == 1.0
