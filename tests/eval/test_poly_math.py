"""PolyMath: the hub's config-per-language, split-per-level layout, the authors' prompt, the levels setting,
the math checker, and DW-ACC (per language and overall) end to end against the simulator."""

from __future__ import annotations

import orjson
import pytest

from assay.errors import ConfigError
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.poly_math import difficulty_weighted, mean_over_languages
from assay.eval.config import DatasetArgs
from assay.types.report import MetricScore

from .conftest import FIXTURES, check_golden, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(120)

ARGS = {"dataset_id": str(FIXTURES / "poly_math"), "subset_list": ["en", "zh"]}


def test_golden_prompt():
    check_golden("poly_math")


def test_reads_a_config_per_language_and_a_split_per_level():
    samples = load_samples("poly_math", **ARGS)
    assert [(s.id, s.subset, s.metadata["level"]) for s in samples] == [
        (f"{level}-{lang}-1", lang, level) for lang in ("en", "zh") for level in ("low", "medium", "high", "top")]
    assert [s.target for s in samples[:4]] == ["12", "5", "1", "$\\frac{4}{5}$"]
    assert (samples[0].messages or [])[-1].text().endswith("?\nNote: Please put the final answer in the $\\boxed{}$.")
    assert (samples[4].messages or [])[-1].text().endswith("？\n注意：请将最终答案放在 $\\boxed{}$ 中。")


def test_levels_setting_selects_splits_and_metrics():
    args = {**ARGS, "extra_params": {"levels": ["top", "low"]}}
    assert [s.id for s in load_samples("poly_math", **args)] == ["low-en-1", "top-en-1", "low-zh-1", "top-zh-1"]
    assert get_benchmark("poly_math")(DatasetArgs(**args)).metrics == ("dw_acc", "acc", "acc_low", "acc_top")
    with pytest.raises(ConfigError, match="extra_params.levels"):
        get_benchmark("poly_math")(DatasetArgs(extra_params={"levels": ["hard"]}))


def test_a_limit_takes_the_levels_in_turn():
    assert [s.id for s in load_samples("poly_math", limit=2, **ARGS)] == [
        "low-en-1", "medium-en-1", "low-zh-1", "medium-zh-1"]


def test_one_file_with_every_language_splits_by_the_ids(tmp_path):
    rows = b"".join((FIXTURES / "poly_math" / lang / f"{level}.jsonl").read_bytes()
                    for lang in ("en", "zh") for level in ("low", "top"))
    (tmp_path / "polymath.jsonl").write_bytes(rows)
    samples = load_samples("poly_math", dataset_id=str(tmp_path / "polymath.jsonl"), subset_list=["zh"])
    assert [(s.id, s.metadata["level"]) for s in samples] == [("low-zh-1", "low"), ("top-zh-1", "top")]


@pytest.mark.parametrize("answer,acc", [
    ("$\\boxed{\\frac{4}{5}}$", 1.0),
    ("$\\boxed{0.8}$", 1.0),
    ("$\\boxed{4/5}$", 1.0),
    ("$\\boxed{\\frac{5}{4}}$", 0.0),
    ("no answer", 0.0),
])
def test_scorer_sets_the_level_accuracy_beside_acc(answer, acc):
    bench = get_benchmark("poly_math")()
    sample = load_samples("poly_math", **ARGS)[3]
    score = bench.score(sample, answer)
    assert score.values == {"acc": acc, "acc_top": acc}
    assert bench.sample_metrics(sample) == ["acc", "acc_top"]


def test_difficulty_weighted_accuracy():
    levels = {f"acc_{level}": MetricScore(score=value, stderr=0.1, num=10)
              for level, value in (("low", 1.0), ("medium", 0.0), ("high", 0.0), ("top", 1.0))}
    weighted = difficulty_weighted(levels, ("low", "medium", "high", "top"))
    assert weighted is not None and weighted.score == pytest.approx(9 / 15) and weighted.num == 40
    assert weighted.stderr == pytest.approx(0.1 * (1 + 4 + 16 + 64) ** 0.5 / 15)
    # A level with no graded answer is left out, the others' weights renormalised.
    partial = difficulty_weighted({k: v for k, v in levels.items() if k != "acc_top"}, ("low", "medium", "high",
                                                                                         "top"))
    assert partial is not None and partial.score == pytest.approx(1 / 7)
    assert difficulty_weighted({}, ("low",)) is None
    overall = mean_over_languages([weighted, MetricScore(score=1.0, stderr=0.0, num=40)])
    assert overall.score == pytest.approx(0.8) and overall.num == 80


def run(tmp_path, make_replay, answer_for) -> object:
    samples = load_samples("poly_math", **ARGS)
    replay = make_replay(samples, [answer_for(sample) for sample in samples])
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=["poly_math"],
                      dataset_args={"poly_math": ARGS}, work_dir=str(tmp_path / "out"), eval_batch_size=4)
    return run_task(task, show=False).reports["poly_math"]


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    report = run(tmp_path, make_replay, lambda s: (gold_answer if kind == "gold" else wrong_answer)(s, "math"))
    assert report.main_metric == "dw_acc" and report.score == expected
    assert report.failed_samples == 0 and report.num == 8
    assert {name: stat.score for name, stat in report.metrics.items()} == {
        "dw_acc": expected, "acc": expected, "acc_low": expected, "acc_medium": expected, "acc_high": expected,
        "acc_top": expected}


def test_dw_acc_weights_the_levels_end_to_end(tmp_path, make_replay):
    # English right on low and top only, Chinese right on all: DW-ACC 9/15 and 1, overall their mean 0.8.
    def answer(sample):
        right = sample.subset == "zh" or sample.metadata["level"] in ("low", "top")
        return (gold_answer if right else wrong_answer)(sample, "math")

    report = run(tmp_path, make_replay, answer)
    assert report.score == pytest.approx(0.8) and report.metrics["dw_acc"].num == 8
    assert report.metrics["acc"].score == pytest.approx(0.75)
    assert report.metrics["acc_medium"].score == pytest.approx(0.5)
    english, chinese = report.subsets
    assert english.metrics["dw_acc"].score == pytest.approx(0.6) and chinese.metrics["dw_acc"].score == 1.0
    assert english.metrics["acc_high"].score == 0.0 and english.metrics["acc_top"].score == 1.0
    written = orjson.loads((next((tmp_path / "out").glob("*/reports/poly_math.json"))).read_bytes())
    assert written["score"] == pytest.approx(0.8) and written["subsets"][0]["metrics"]["dw_acc"]["score"] == \
        pytest.approx(0.6)
