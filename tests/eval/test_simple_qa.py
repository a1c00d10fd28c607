"""SimpleQA and Chinese SimpleQA: hub-schema fixtures, prompts (the question and the grader's), the judge's A/B/C
reply parser, the report-level ratio metrics against hand-computed values, and runs against the simulator with
a simulated judge (every verdict known: all CORRECT is 100%, all INCORRECT 0%, an unreadable grade ungraded)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.errors import ConfigError
from assay.eval import TaskConfig
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.simple_qa import literal_metadata
from assay.eval.report import build_report
from assay.eval.runner import RunResult, arun_task
from assay.eval.scoring.factuality import grade_values, parse_grade, ratio_metrics
from assay.eval.scoring.judge import JudgeModelConfig, LLMJudge
from assay.sim import SimConfig, SimServer
from assay.types import Completion, SampleResult, Score

from .conftest import FIXTURES, GOLDEN_DIR, check_golden, load_samples, sim_args, write_replay

pytestmark = pytest.mark.timeout(60)

NAMES = ("simple_qa", "chinese_simpleqa")
ARGS = {name: {"dataset_id": str(FIXTURES / name)} for name in NAMES}
# What the judge prompt quotes right before the predicted answer, per benchmark.
PREDICTED = {"simple_qa": "Predicted answer: ", "chinese_simpleqa": "预测答案："}


@pytest.mark.parametrize("name", NAMES)
def test_golden_prompt(name):
    check_golden(name)


@pytest.mark.parametrize("name", NAMES)
def test_golden_judge_prompt(name):
    """The grader prompt for the first sample is snapshotted too: a change to it is a change of protocol."""
    bench = get_benchmark(name)(llm_judge=LLMJudge(JudgeModelConfig(model_id="j", api_url="http://127.0.0.1:9/v1")))
    sample = load_samples(name, **ARGS[name])[0]
    rendered = [m.model_dump() for m in bench.judge_messages(sample, f"  I believe it is {sample.target}.  ")]
    path = GOLDEN_DIR / f"{name}_judge.json"
    if os.environ.get("ASSAY_UPDATE_GOLDEN") or not path.exists():
        path.write_text(json.dumps(rendered, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert rendered == json.loads(path.read_text(encoding="utf-8")), \
        f"{name}: the grader prompt changed; bump the benchmark's version and rerun with ASSAY_UPDATE_GOLDEN=1"
    user = rendered[-1]["content"]
    assert f"{PREDICTED[name]}I believe it is {sample.target}.\n" in user and sample.metadata["question"] in user
    assert "{question}" not in user and "{reference}" not in user and "{candidate}" not in user


def test_the_users_judge_prompt_replaces_the_grader():
    """judge_model_args.prompt_template (with EvalScope's {gold} / {pred} too) and system_prompt win."""
    config = JudgeModelConfig(model_id="j", api_url="http://127.0.0.1:9/v1", system_prompt="S",
                              prompt_template="Q={question} G={gold} P={pred} -> A, B or C")
    bench = get_benchmark("chinese_simpleqa")(judge_strategy="llm", llm_judge=LLMJudge(config))
    sample = load_samples("chinese_simpleqa", **ARGS["chinese_simpleqa"])[0]
    messages = [m.model_dump() for m in bench.judge_messages(sample, "曹雪芹")]
    assert messages == [{"role": "system", "content": "S"},
                        {"role": "user", "content": f"Q={sample.metadata['question']} G=曹雪芹 P=曹雪芹 -> A, B or C"}]
    no_system = LLMJudge(JudgeModelConfig(model_id="j", api_url="http://127.0.0.1:9/v1", system_prompt=None))
    assert [m.role for m in bench.with_judge("llm", no_system).judge_messages(sample, "x")] == ["user"]


def test_simple_qa_reads_the_published_csv():
    samples = load_samples("simple_qa", **ARGS["simple_qa"])
    assert [s.id for s in samples] == ["0", "1", "2", "3"]
    assert [s.target for s in samples] == ["1843", "Hobart", "Bedřich Smetana", "15"]
    assert {s.subset for s in samples} == {"default"}
    assert samples[1].metadata["topic"] == "Geography" and samples[1].metadata["answer_type"] == "Place"
    assert samples[1].metadata["urls"] == ["https://en.wikipedia.org/wiki/Hobart",
                                           "https://en.wikipedia.org/wiki/Tasmania"]
    assert (samples[2].messages or [])[-1].text() == ('Who composed the comic opera "The Bartered Bride", first '
                                                      'performed in Prague in 1866?')


@pytest.mark.parametrize("value,expected", [
    ("{'topic': 'Art', 'urls': ['u']}", {"topic": "Art", "urls": ["u"]}),
    ({"topic": "Art"}, {"topic": "Art"}),       # a JSON or parquet copy keeps it as a mapping
    ("not a literal {", {}),
    ("__import__('os').system('true')", {}),    # literal_eval, never eval
    ("['a', 'list']", {}),
    (None, {}),
])
def test_simple_qa_metadata_literal(value, expected):
    assert literal_metadata(value) == expected


def test_chinese_simpleqa_subsets_are_primary_categories():
    samples = load_samples("chinese_simpleqa", **ARGS["chinese_simpleqa"])
    assert [(s.subset, s.target) for s in samples] == [
        ("中华文化", "曹雪芹"), ("工程、技术与应用科学", "吉多·范罗苏姆"), ("自然与自然科学", "铁"), ("自然与自然科学", "木星")]
    assert samples[0].id == "5b1f0c2e9a8d4e7f8c3b2a1d0e9f8a7b"
    assert samples[2].metadata["secondary_category"] == "化学"
    only = load_samples("chinese_simpleqa", **ARGS["chinese_simpleqa"], subset_list=["自然与自然科学"])
    assert [s.target for s in only] == ["铁", "木星"]


@pytest.mark.parametrize("reply,grade", [
    ("A", "A"), ("B", "B"), ("C", "C"), (" **B** ", "B"), ("(C)", "C"), ("A.", "A"),
    ("A: CORRECT", "A"), ("B: INCORRECT", "B"), ("C: NOT_ATTEMPTED", "C"), ("A：【正确】", "A"), ("C:【未尝试】", "C"),
    ("CORRECT", "A"), ("INCORRECT", "B"), ("NOT_ATTEMPTED", "C"), ("NOT ATTEMPTED", "C"), ("【错误】", "B"),
    ("The answer names the right city.\n\nA", "A"),                           # reasoning, then the letter
    ("It contradicts the gold answer.\nGrade: B", "B"),
    ("The prediction hedges but commits to the gold. The grade is A.", "A"),
    ("评定为：C", "C"), ("答案：B", "B"), ("Answer: C", "C"),
    ("The predicted answer is INCORRECT: it gives 1912.", "B"),
    ("The prediction is NOT CORRECT.", "B"),
    ("这个回答【未尝试】，因为没有给出人名。", "C"),
    ("<think>Maybe A? No.</think>B", "B"),                                    # thinking before the grade is ignored
])
def test_parse_grade(reply, grade):
    assert parse_grade(reply) == grade


@pytest.mark.parametrize("reply", [
    None, "", "   ", "I cannot grade this.", "It says CORRECT here but INCORRECT there.",
    "The gold answer is C. S. Lewis, the prediction says Tolkien.",          # an initial, not a grade
    "The grade is a matter of taste.", "The answer was given INCORRECTLY formatted", "D", "<think>A</think>",
])
def test_parse_grade_garbage_is_no_grade(reply):
    assert parse_grade(reply) is None


def test_grade_values():
    assert grade_values("A") == {"is_correct": 1.0, "is_incorrect": 0.0, "is_not_attempted": 0.0}
    assert grade_values("B") == {"is_correct": 0.0, "is_incorrect": 1.0, "is_not_attempted": 0.0}
    assert grade_values("C") == {"is_correct": 0.0, "is_incorrect": 0.0, "is_not_attempted": 1.0}
    assert grade_values(None) == {"is_correct": None, "is_incorrect": None, "is_not_attempted": None}


def _grades(letters: str) -> dict[str, list[float | None]]:
    values = [grade_values(None if letter == "?" else letter) for letter in letters]  # type: ignore[arg-type]
    return {metric: [v[metric] for v in values] for metric in values[0]}


def test_ratio_metrics_by_hand():
    # 3 correct, 1 incorrect, 1 not attempted: correct 3/5, given attempted 3/4, F = 2*0.6*0.75/(0.6+0.75) = 2/3.
    metrics = ratio_metrics(_grades("AABAC"))
    assert metrics["correct_given_attempted"].score == pytest.approx(0.75)
    assert metrics["correct_given_attempted"].num == 4
    assert metrics["f_score"].score == pytest.approx(2 * 0.6 * 0.75 / (0.6 + 0.75)) == pytest.approx(2 / 3)
    assert metrics["f_score"].num == 5 and metrics["f_score"].stderr is not None
    # An ungraded sample (judge error) is in neither ratio: the same numbers, one counted apart.
    with_error = ratio_metrics(_grades("AABAC?"))
    assert with_error["f_score"].score == pytest.approx(2 / 3) and with_error["f_score"].ungraded == 1
    assert with_error["correct_given_attempted"].score == pytest.approx(0.75)


@pytest.mark.parametrize("letters,given,f_score", [
    ("AAAA", 1.0, 1.0), ("BBBB", 0.0, 0.0), ("CCCC", None, 0.0), ("ACCC", 1.0, 2 * 0.25 * 1.0 / 1.25),
    ("ABCC", 0.5, 2 * 0.25 * 0.5 / 0.75), ("????", None, None),
])
def test_ratio_metrics_edges(letters, given, f_score):
    metrics = ratio_metrics(_grades(letters))
    assert metrics["correct_given_attempted"].score == (pytest.approx(given) if given is not None else None)
    assert metrics["f_score"].score == (pytest.approx(f_score) if f_score is not None else None)


@given(st.lists(st.sampled_from("ABC?"), min_size=1, max_size=60))
def test_ratio_metrics_match_the_papers_formulas(letters):
    """Whatever the grades: correct / (correct + incorrect), and the harmonic mean of that and is_correct."""
    graded = [letter for letter in letters if letter != "?"]
    correct, incorrect = graded.count("A"), graded.count("B")
    metrics = ratio_metrics(_grades("".join(letters)))
    given = correct / (correct + incorrect) if correct + incorrect else None
    accuracy = correct / len(graded) if graded else None
    assert metrics["correct_given_attempted"].score == (pytest.approx(given) if given is not None else None)
    if accuracy is None:
        assert metrics["f_score"].score is None
    else:
        f_score = 2 * accuracy * given / (accuracy + given) if given else 0.0
        assert metrics["f_score"].score == pytest.approx(f_score)
    assert metrics["f_score"].ungraded == metrics["correct_given_attempted"].ungraded == len(letters) - len(graded)


@given(st.sampled_from("ABC"), st.sampled_from(["", "**", "`", '"', "(", "["]), st.sampled_from(["", ".", ":", " "]))
def test_a_bare_letter_in_any_markup_is_read(letter, wrap, tail):
    closing = {"(": ")", "[": "]"}.get(wrap, wrap)
    assert parse_grade(f"Some reasoning first.\n{wrap}{letter}{closing}{tail}") == letter


def test_ratio_metrics_pool_repeats():
    # mean@2 per sample: (A, B) is half correct, half incorrect; (C, C) not attempted; sums are what count.
    metrics = ratio_metrics({"is_correct": [0.5, 0.0, 1.0], "is_incorrect": [0.5, 0.0, 0.0]})
    assert metrics["correct_given_attempted"].score == pytest.approx(1.5 / 2.0)
    assert metrics["f_score"].score == pytest.approx(2 * 1.5 / (3 + 2.0))


def test_report_computes_derived_metrics_per_subset_from_sums():
    """build_report's hook: the ratios of each subset come from that subset's samples, not averaged."""
    samples = load_samples("chinese_simpleqa", **ARGS["chinese_simpleqa"])
    letters = {"中华文化": "A", "工程、技术与应用科学": "B"}
    nature = iter("AC")
    results = [SampleResult(sample=s, completions=[Completion(text="x")], scores=[Score(values=grade_values(
        letters.get(s.subset) or next(nature)))]) for s in samples]  # type: ignore[arg-type]
    bench = get_benchmark("chinese_simpleqa")()
    report = build_report("chinese_simpleqa", "1", "m", bench.report_metrics(), bench.main_metric, results,
                          bench.subset_list, derived=bench.derived_metrics())
    assert list(report.metrics) == ["is_correct", "is_incorrect", "is_not_attempted", "correct_given_attempted",
                                    "f_score"]
    assert report.main_metric == "f_score" and report.score == pytest.approx(2 * 2 / (4 + 3))
    assert report.metrics["correct_given_attempted"].score == pytest.approx(2 / 3)
    by_subset = {s.name: s.metrics for s in report.subsets}
    assert by_subset["自然与自然科学"]["correct_given_attempted"].score == 1.0
    assert by_subset["自然与自然科学"]["f_score"].score == pytest.approx(2 * 1 / (2 + 1))
    assert by_subset["工程、技术与应用科学"]["f_score"].score == 0.0
    assert by_subset["工程、技术与应用科学"]["correct_given_attempted"].score == 0.0


def test_metric_list_may_name_a_derived_metric():
    bench = get_benchmark("simple_qa")(_dataset_args(metric_list=["f_score"]))
    assert bench.report_metrics() == ["f_score"]
    assert bench.sample_metrics(load_samples("simple_qa", **ARGS["simple_qa"])[0]) == ["is_correct", "is_incorrect"]
    with pytest.raises(ConfigError, match="has no metric 'acc'"):
        get_benchmark("simple_qa")(_dataset_args(metric_list=["acc"])).report_metrics()


def test_without_a_judge_score_is_ungraded_not_wrong():
    bench = get_benchmark("simple_qa")()
    score = bench.score(load_samples("simple_qa", **ARGS["simple_qa"])[0], "1843")
    assert score.values == grade_values(None) and "LLM judge" in (score.explanation or "")


def _dataset_args(**fields):
    from assay.eval.config import DatasetArgs

    return DatasetArgs(**fields)


# ---- end to end: the model is the in-process simulator, the judge a simulator on loopback ----------------------


def _judge_sim(path: Path, name: str, replies: dict[str, str], **extra: object) -> SimServer:
    """A judge answering ``replies`` keyed by the predicted answer its prompt quotes."""
    rows = [{"prompt_contains": f"{PREDICTED[name]}{answer}\n", "response": reply} for answer, reply in replies.items()]
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return SimServer(SimConfig(port=0, replay_path=path, latency_model="fixed", ttft_ms=0, itl_ms=0, seed=1,
                               **extra))  # type: ignore[arg-type]


async def _graded(tmp_path: Path, name: str, replies: list[str]) -> RunResult:
    """A run of ``name`` whose judge gives the i-th answer the i-th reply."""
    async with _judge_sim(tmp_path / "judge.jsonl", name, dict(zip(_answers(name), replies))) as judge:
        return await arun_task(_task(tmp_path, name, judge), show=False)


def _answers(name: str) -> list[str]:
    return [f"It is {s.target}." for s in load_samples(name, **ARGS[name])]


def _task(tmp_path: Path, name: str, judge: SimServer | None, **extra) -> TaskConfig:
    samples = load_samples(name, **ARGS[name])
    replay = write_replay(tmp_path / f"{name}_model.jsonl", samples, _answers(name))
    fields = dict(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=[name],
                  dataset_args={name: ARGS[name]}, work_dir=str(tmp_path / "out"), eval_batch_size=4)
    if judge is not None:
        fields["judge_model_args"] = {"model_id": "judge-m", "api_url": judge.base_url, "max_retries": 0}
    fields.update(extra)
    return TaskConfig(**fields)


def _predictions(run_dir: Path, name: str) -> dict[str, dict]:
    lines = [orjson.loads(line) for line in (run_dir / "predictions" / f"{name}.jsonl").read_bytes().splitlines()]
    return {line["sample"]["id"]: line for line in lines}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("reply,expected,strategy", [("A", 1.0, "auto"), ("B: INCORRECT", 0.0, "auto"),
                                                     ("A", 1.0, "rule_then_llm")])  # no rule: the judge grades all
async def test_all_correct_is_100_and_all_incorrect_0_end_to_end(tmp_path, name, reply, expected, strategy):
    async with _judge_sim(tmp_path / "judge.jsonl", name, {a: reply for a in _answers(name)}) as judge:
        result = await arun_task(_task(tmp_path, name, judge, judge_strategy=strategy), show=False)
        assert judge.stats()["requests_total"] == len(_answers(name))
    report = result.reports[name]
    assert report.main_metric == "f_score" and report.score == expected
    assert report.metrics["is_correct"].score == expected
    assert report.metrics["is_incorrect"].score == 1.0 - expected
    assert report.metrics["correct_given_attempted"].score == expected
    assert report.metrics["is_not_attempted"].score == 0.0
    assert report.failed_samples == 0 and report.num == len(_answers(name))


async def test_simple_qa_mixed_grades_and_a_judge_error(tmp_path):
    result = await _graded(tmp_path, "simple_qa", ["A", "The prediction contradicts the gold.\nB", "C",
                                                    "I would rather not say."])
    report = result.reports["simple_qa"]
    # Graded: A, B, C (the fourth reply has no grade: ungraded, not a wrong or an abstained answer).
    assert report.metrics["is_correct"].score == pytest.approx(1 / 3) and report.metrics["is_correct"].ungraded == 1
    assert report.metrics["is_not_attempted"].score == pytest.approx(1 / 3)
    assert report.metrics["correct_given_attempted"].score == pytest.approx(0.5)
    assert report.score == pytest.approx(2 * 1 / (3 + 2))
    assert report.metrics["f_score"].ungraded == 1
    rows = _predictions(result.run_dir, "simple_qa")
    judged = rows["3"]["scores"][0]
    assert judged["values"]["is_correct"] is None and "no readable grade" in judged["explanation"]
    assert rows["1"]["scores"][0]["metadata"]["judge"]["grade"] == "B"
    assert "Gold answer: Hobart" in rows["1"]["scores"][0]["metadata"]["judge"]["prompt"]
    assert "judge-m" in (report.protocol or "")


async def test_chinese_simpleqa_reports_each_category(tmp_path):
    result = await _graded(tmp_path, "chinese_simpleqa", ["A：【正确】", "B", "【未尝试】", "A"])
    report = result.reports["chinese_simpleqa"]
    subsets = {s.name: s for s in report.subsets}
    assert set(subsets) == {"中华文化", "工程、技术与应用科学", "自然与自然科学"}
    assert subsets["中华文化"].metrics["f_score"].score == 1.0
    assert subsets["工程、技术与应用科学"].metrics["is_incorrect"].score == 1.0
    assert subsets["自然与自然科学"].metrics["is_not_attempted"].score == 0.5
    assert subsets["自然与自然科学"].metrics["correct_given_attempted"].score == 1.0
    assert report.score == pytest.approx(2 * 2 / (4 + 3))
    system = _predictions(result.run_dir, "chinese_simpleqa")
    first = next(iter(system.values()))["scores"][0]["metadata"]["judge"]["prompt"]
    assert "标准答案：" in first


async def test_a_failed_judge_request_is_asked_again_on_resume(tmp_path):
    replies = {answer: "A" for answer in _answers("simple_qa")}
    async with _judge_sim(tmp_path / "judge.jsonl", "simple_qa", replies, api_key="sk-j") as judge:
        task = _task(tmp_path, "simple_qa", judge)
        task.judge_model_args["api_key"] = "sk-wrong"
        first = await arun_task(task, show=False)
        assert first.reports["simple_qa"].metrics["f_score"].ungraded == 4
        assert first.reports["simple_qa"].score is None
        task = _task(tmp_path, "simple_qa", judge, use_cache=str(first.run_dir))
        task.judge_model_args["api_key"] = "sk-j"
        resumed = await arun_task(task, show=False)
    assert resumed.reports["simple_qa"].score == 1.0


@pytest.mark.parametrize("name", NAMES)
async def test_without_a_judge_the_run_is_refused_in_one_line(tmp_path, name):
    with pytest.raises(ConfigError, match=f"{name} with judge_strategy auto needs judge_model_args") as error:
        await arun_task(_task(tmp_path, name, None), show=False)
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match=f"{name} is graded only by an LLM judge: judge_strategy rule"):
        await arun_task(_task(tmp_path, name, None, judge_strategy="rule"), show=False)
    assert not (tmp_path / "out").exists()
