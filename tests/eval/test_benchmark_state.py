"""A benchmark does not change once built: the judge is part of its construction, and loading or sampling adds
no state to the instance (so two runs, or two calls in any order, see the same benchmark)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from assay.data import DatasetLoader
from assay.eval.benchmarks import benchmark_names, get_benchmark
from assay.eval.config import DatasetArgs
from assay.eval.scoring.judge import JudgeModelConfig, LLMJudge

from .conftest import golden_case_args


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


# The benchmarks whose built instance legitimately learns from the data it loads, and why.
KEEPS_STATE = {
    # A collection is defined by its file: the benchmarks in it (its subsets), their metrics and scorers, and the
    # EvalScope rows it cannot run are known only once the file is read, and the report needs them.
    "data_collection": {"subset_list", "metrics", "heavy_scoring", "_scorers", "skipped"},
}


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def _changed(bench: Any, loader: DatasetLoader) -> tuple[set[str], int]:
    before = copy.deepcopy(vars(bench))
    samples = bench.load(loader, None)
    after = vars(bench)
    return {key for key in set(before) | set(after) if before.get(key, before) != after.get(key, before)}, len(samples)


@pytest.mark.parametrize("name", benchmark_names())
def test_loading_adds_no_state_to_the_benchmark(name):
    bench = get_benchmark(name)(DatasetArgs(**golden_case_args(name)))  # each one's golden prompt case
    changed, loaded = _changed(bench, DatasetLoader(hub="local"))
    assert loaded, f"{name}: its fixture gives no sample"
    assert changed <= KEEPS_STATE.get(name, set()), f"{name}: load() changed {sorted(changed)}"


def test_a_copy_run_as_one_subset_leaves_the_subset_list_as_built(tmp_path):
    rows = [{"question": f"Q{n}?", "choices": ["w", "x", "y", "z"], "answer": 1} for n in range(2)]
    _jsonl(tmp_path / "mmlu" / "test.jsonl", rows)  # no file, folder or column per subject
    bench = get_benchmark("mmlu")(DatasetArgs(dataset_id=str(tmp_path / "mmlu")))
    changed, loaded = _changed(bench, DatasetLoader(hub="local"))
    assert loaded == 2 and not changed and bench.subset_list == list(bench.subsets)


def test_grading_code_leaves_the_benchmark_as_built():
    bench = get_benchmark("humaneval")(DatasetArgs(**golden_case_args("humaneval")))
    sample = bench.load(DatasetLoader(hub="local"), 1)[0]
    before = copy.deepcopy(vars(bench))
    assert bench.score(sample, f"```python\n{sample.metadata['question']}{sample.target}```").values["acc"] == 1.0
    assert vars(bench) == before  # the sandbox is shared per limits, not made on the instance
    assert bench.sandbox() is get_benchmark("humaneval")(DatasetArgs(**golden_case_args("humaneval"))).sandbox()
