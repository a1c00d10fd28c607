"""A benchmark does not change once built: the judge is part of its construction, and loading or sampling adds
no state to the instance (so two runs, or two calls in any order, see the same benchmark)."""

from __future__ import annotations

import copy

from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.eval.scoring.judge import JudgeModelConfig, LLMJudge


def _judge() -> LLMJudge:
    return LLMJudge(JudgeModelConfig(model_id="j", api_url="http://127.0.0.1:9/v1"))


def test_the_judge_is_given_at_construction_and_leaves_the_unjudged_instance_alone():
    cls = get_benchmark("frames")  # rule-graded by default; the judge adds "acc" to its metrics
    plain = cls(DatasetArgs())
    before, class_metrics = copy.copy(vars(plain)), cls.metrics
    judged = plain.with_judge("llm", _judge())
    assert judged is not plain and vars(plain) == before and cls.metrics == class_metrics
    assert judged.llm_judge is not None and judged.judge_mode == "llm" and judged.main_metric == "acc"
    assert "acc" in judged.metrics and judged.scoring_fingerprint()["judge"]["mode"] == "llm"
    assert plain.llm_judge is None and plain.judge_mode == "rule" and "judge" not in plain.scoring_fingerprint()
    assert not hasattr(plain, "use_judge")  # nothing rewrites a built benchmark


def test_a_rule_strategy_drops_the_judge_and_the_judges_own_metrics_stay_fixed():
    math = get_benchmark("gsm8k")(judge_strategy="rule", llm_judge=_judge())
    assert math.llm_judge is None and math.metrics == get_benchmark("gsm8k").metrics
    recall = get_benchmark("gsm8k")(judge_strategy="rule_then_llm", llm_judge=_judge())
    assert recall.judge_mode == "llm_recall" and recall.metrics == ("acc",)
    simple = get_benchmark("simple_qa")(llm_judge=_judge())  # graded A/B/C: no "acc" added
    assert simple.metrics == get_benchmark("simple_qa").metrics and simple.judge_mode == "llm"
    arena = get_benchmark("arena_hard")(llm_judge=_judge())
    assert arena.pairwise is not None and arena.metrics == ("winrate", "pair_winrate")
    assert get_benchmark("arena_hard")().pairwise is None
