"""maj@k and pass^k beside pass@k and mean@k: the formulas against hand-computed values, and the report rows."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.errors import ConfigError
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.eval.report import build_report, markdown_table, metric_values, repeat_metric
from assay.eval.scoring.stats import majority_index, mean_stderr, pass_at_k, pass_hat_k
from assay.types import Completion, Sample, SampleResult, Score
from assay.types.completion import ErrorInfo


def _result(sample_id: str, answers: list[object], target: str = "5", failed: tuple[int, ...] = ()) -> SampleResult:
    """A sample answered once per entry of ``answers`` (None: no answer found), graded against ``target``."""
    completions, scores = [], []
    for index, answer in enumerate(answers):
        if index in failed:
            completions.append(Completion(error=ErrorInfo(kind="http_status", status=500, message="boom")))
            scores.append(Score(values={"acc": None}))
            continue
        completions.append(Completion(text=f"answer {answer}"))
        right = answer is not None and str(answer).strip() == target
        scores.append(Score(values={"acc": float(right)}, extracted=answer))
    return SampleResult(sample=Sample(id=sample_id, target=target), completions=completions, scores=scores)


def test_pass_hat_k_by_hand():
    assert pass_hat_k(4, 2, 2) == pytest.approx(1 / 6)  # C(2,2)/C(4,2)
    assert pass_hat_k(4, 3, 2) == pytest.approx(3 / 6)
    assert pass_hat_k(4, 4, 4) == 1.0 and pass_hat_k(4, 3, 4) == 0.0
    assert pass_hat_k(5, 2, 1) == pytest.approx(2 / 5)  # pass^1 is the mean, as pass@1 is
    assert pass_hat_k(64, 60, 64) == 0.0 and pass_hat_k(64, 64, 32) == 1.0
    with pytest.raises(ValueError):
        pass_hat_k(3, 1, 4)


@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_hat_k_never_exceeds_the_mean_nor_pass_at_k(case):
    n, c, k = case
    assert 0.0 <= pass_hat_k(n, c, k) <= c / n + 1e-12 <= pass_at_k(n, c, k) + 2e-12
    assert pass_hat_k(n, c, k) == pytest.approx(math.prod((c - i) / (n - i) for i in range(k)))


def test_majority_index_breaks_ties_by_first_occurrence():
    assert majority_index(["5", "5", "7", "5"]) == 0
    assert majority_index(["7", "5", "5", "7"]) == 0  # 7 and 5 tie; 7 came first
    assert majority_index(["5", "7", "7"]) == 1
    assert majority_index([None, "3", None, None]) == 1  # no answer does not vote
    assert majority_index([None, None]) is None and majority_index([]) is None


def test_maj_at_k_and_pass_hat_k_per_sample():
    results = [
        _result("a", ["5", "5", "7", "5"]),  # majority 5, right: maj@4 = 1; c=3 of 4
        _result("b", ["7", "5", "5", "7"]),  # tie 7/5, 7 first, wrong: maj@4 = 0; c=2 of 4
        _result("c", [None, "5", None, "7"]),  # the only votes tie; 5 first: right
        _result("d", [None, None, None, None]),  # nothing to vote on: the first repeat's grade (wrong)
    ]
    assert metric_values(results, "maj@4") == [1.0, 0.0, 1.0, 0.0]
    assert metric_values(results, "maj@2") == [1.0, 0.0, 1.0, 0.0]  # first two repeats only: b has 7, 5
    assert metric_values(results, "maj@1") == [1.0, 0.0, 0.0, 0.0]
    assert metric_values(results, "pass^2") == pytest.approx([3 / 6, 1 / 6, 0.0, 0.0])
    assert metric_values(results, "pass^4") == [0.0, 0.0, 0.0, 0.0]
    assert metric_values(results, "pass@2") == pytest.approx([1.0, 5 / 6, 3 / 6, 0.0])  # c: one right of 4


def test_answers_are_compared_with_whitespace_normalised():
    assert metric_values([_result("a", [" 7", "5", "7 "], target="7")], "maj@3") == [1.0]


def test_a_failed_repeat_is_left_out_unless_failures_count_as_wrong():
    result = _result("a", ["5", "5", "5", "7"], failed=(0,))
    assert metric_values([result], "maj@4") == [None]  # three graded repeats: too few for k=4
    assert metric_values([result], "maj@3") == [1.0]  # 5, 5, 7
    assert metric_values([result], "pass^2") == pytest.approx([1 / 3])  # c=2 of n=3
    # With --ignore-errors the failure is a wrong answer (c=2 of n=4) that does not vote.
    assert metric_values([result], "maj@4", failures_as_zero=True) == [1.0]
    assert metric_values([result], "pass^2", failures_as_zero=True) == pytest.approx([1 / 6])
    assert metric_values([_result("b", ["5", "7", "7"], failed=(1, 2))], "maj@3", failures_as_zero=True) == [1.0]


def test_the_report_adds_maj_and_pass_hat_beside_pass_at_k_with_standard_errors():
    results = [_result("a", ["5", "5", "7", "5"]), _result("b", ["5", "5", "5", "5"]),
               _result("c", ["7", "7", "5", "7"])]
    report = build_report("toy", "1", "m", ["acc"], "acc", results, repeats=4)
    assert list(report.metrics) == ["acc", "pass@4", "maj@4", "pass^4"]
    assert report.metrics["maj@4"].score == pytest.approx(2 / 3)
    assert report.metrics["maj@4"].stderr == pytest.approx(mean_stderr([1, 1, 0]).stderr) == pytest.approx(1 / 3)
    assert report.metrics["pass^4"].score == pytest.approx(1 / 3)  # only b is right all four times
    assert report.metrics["pass^4"].stderr == pytest.approx(1 / 3)
    assert report.metrics["pass@4"].score == 1.0 and report.metrics["acc"].score == pytest.approx(8 / 12)
    table = markdown_table([report])
    assert "| m | toy | maj@4 | default | 3 | 0.6667 ± 0.3333 |" in table
    assert "pass^k: all k right" in table
    single = build_report("toy", "1", "m", ["acc"], "acc", results, repeats=1)
    assert list(single.metrics) == ["acc"]  # one answer each: nothing over repeats


def test_metric_list_may_ask_for_other_k():
    assert repeat_metric("maj@16") == ("maj@", 16) and repeat_metric("pass^3") == ("pass^", 3)
    assert repeat_metric("base_pass@1") is None and repeat_metric("maj@0") is None
    bench = get_benchmark("gsm8k")(DatasetArgs(metric_list=["acc", "maj@2", "pass^2"]))
    assert bench.report_metrics() == ["acc", "maj@2", "pass^2"]
    results = [_result("a", ["5", "7", "5", "5"]), _result("b", ["7", "7", "5", "5"])]
    report = build_report("gsm8k", "1", "m", bench.report_metrics(), "acc", results, repeats=4,
                          applies=lambda result, metric: metric in bench.sample_metrics(result.sample))
    assert list(report.metrics) == ["acc", "maj@2", "pass^2", "pass@4", "maj@4", "pass^4"]
    assert report.metrics["maj@2"].score == pytest.approx(0.5)  # a: 5 (first), b: 7
    assert report.metrics["pass^2"].score == pytest.approx((3 / 6 + 1 / 6) / 2)
    with pytest.raises(ConfigError, match="no metric 'maj@x'"):
        get_benchmark("gsm8k")(DatasetArgs(metric_list=["maj@x"])).report_metrics()
