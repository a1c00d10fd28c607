"""The statistics reports need: means with standard errors, pass@k, pass^k, maj@k, mean@k, paired comparisons.

"Could not grade" (None) is never folded into 0: it is counted apart (``ungraded``) and left out of
the mean, as the STYLE guide asks. Paired comparisons follow Miller (2024), "Adding Error Bars to
Evals: A Statistical Approach to Language Model Evaluations": two runs on the same questions are
compared through their per-question differences, which cancels the questions' own variance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MeanStat",
    "PairedComparison",
    "mean_at_k",
    "mean_stderr",
    "pass_at_k",
    "pass_hat_k",
    "majority_index",
    "mean_pass_at_k",
    "paired_bootstrap",
    "paired_sign_test",
    "paired_t_test",
]

Value = float | int | bool | None


@dataclass(frozen=True)
class MeanStat:
    """A mean over graded values. ``stderr`` is the sample standard deviation over sqrt(count), None
    with fewer than two values; ``ungraded`` counts the values that could not be graded (None)."""

    mean: float | None
    stderr: float | None
    count: int
    ungraded: int = 0


def mean_stderr(values: Sequence[Value]) -> MeanStat:
    """Mean and standard error of the mean of ``values``; None values are counted apart."""
    graded = [float(v) for v in values if v is not None]
    ungraded = len(values) - len(graded)
    if not graded:
        return MeanStat(None, None, 0, ungraded)
    mean = math.fsum(graded) / len(graded)
    if len(graded) < 2:
        return MeanStat(mean, None, 1, ungraded)
    variance = math.fsum((v - mean) ** 2 for v in graded) / (len(graded) - 1)
    return MeanStat(mean, math.sqrt(variance / len(graded)), len(graded), ungraded)


def weighted_mean_stderr(values: Sequence[Value], weights: Sequence[float]) -> MeanStat:
    """The pooled mean sum(w*v)/sum(w) of per-sample fractions ``values`` over ``weights`` units each (e.g.
    IFEval: passed instructions / all instructions), with the ratio estimator's standard error (samples as
    clusters); None values are counted apart."""
    pairs = [(float(v), float(w)) for v, w in zip(values, weights, strict=True) if v is not None]
    ungraded = len(values) - len(pairs)
    total = math.fsum(w for _, w in pairs)
    if not pairs or total <= 0:
        return MeanStat(None, None, 0, ungraded)
    mean = math.fsum(v * w for v, w in pairs) / total
    n = len(pairs)
    if n < 2:
        return MeanStat(mean, None, 1, ungraded)
    spread = math.fsum((w * (v - mean)) ** 2 for v, w in pairs)
    return MeanStat(mean, math.sqrt(n / (n - 1) * spread) / total, n, ungraded)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with ``c`` correct out of ``n`` samples.

    Chen et al. (2021), "Evaluating Large Language Models Trained on Code", eq. 1:
    1 - C(n-c, k) / C(n, k), computed as a product, 1 - prod_{i=n-c+1}^{n} (1 - k/i), which stays
    finite where the binomials overflow a float.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k for one problem with ``c`` correct out of ``n`` samples: the chance that k samples drawn without
    replacement are all correct, C(c, k) / C(n, k).

    Yao et al. (2024), "tau-bench", eq. 1: pass@k asks whether a model *can* solve a problem, pass^k whether it
    does so *reliably*; it falls with k where pass@k rises. Exact integers (``math.comb``), so no overflow.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass^k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    return math.comb(c, k) / math.comb(n, k)


def majority_index(answers: Sequence[object]) -> int | None:
    """The index of the first of ``answers`` that holds the most frequent answer (maj@k, self-consistency: Wang et
    al., 2023), or None when no answer is given (None). Ties go to the answer that came first, so the vote does not
    depend on anything but the order of the repeats.
    """
    counts: dict[object, int] = {}
    first: dict[object, int] = {}
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        counts[answer] = counts.get(answer, 0) + 1
        first.setdefault(answer, index)
    if not counts:
        return None
    best = max(counts.values())
    return min(first[answer] for answer, count in counts.items() if count == best)


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> MeanStat:
    """pass@k averaged over problems, from (samples, correct) per problem, with its standard error."""
    return mean_stderr([pass_at_k(n, c, k) for n, c in counts])


def mean_at_k(scores: Sequence[Sequence[Value]]) -> MeanStat:
    """mean@k: each problem's mean over its k repeats, averaged over problems.

    The standard error is taken over problems (repeats of one problem are not independent draws of
    the benchmark). A problem whose repeats were all ungraded counts as ungraded.
    """
    per_problem = [mean_stderr(repeats).mean for repeats in scores]
    return mean_stderr(per_problem)


@dataclass(frozen=True)
class PairedComparison:
    """``candidate`` minus ``baseline`` on shared samples.

    ``significant`` says whether the confidence interval excludes 0 (the difference exceeds the
    noise at that confidence). ``count`` pairs were compared; ``dropped`` had a None on either side.
    """

    difference: float
    ci_low: float
    ci_high: float
    p_value: float | None
    significant: bool
    count: int
    dropped: int
    method: str


def _pairs(baseline: Sequence[Value], candidate: Sequence[Value]) -> tuple[np.ndarray, int]:
    if len(baseline) != len(candidate):
        raise ValueError(f"paired samples differ in length: {len(baseline)} vs {len(candidate)}")
    kept = [(float(b), float(c)) for b, c in zip(baseline, candidate) if b is not None and c is not None]
    if not kept:
        raise ValueError("no sample was graded in both runs")
    differences = np.array([c - b for b, c in kept], dtype=float)
    return differences, len(baseline) - len(kept)


def paired_bootstrap(
    baseline: Sequence[Value],
    candidate: Sequence[Value],
    *,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> PairedComparison:
    """Percentile bootstrap (Efron & Tibshirani, 1993) of the mean paired difference, seeded.

    The p-value is the two-sided share of resampled means on the far side of 0.
    """
    differences, dropped = _pairs(baseline, candidate)
    rng = np.random.default_rng(seed)
    n = len(differences)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)  # bound memory: chunk x n indices at a time
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        indices = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = differences[indices].mean(axis=1)
    alpha = 1.0 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    p_value = min(1.0, 2 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0))))
    return PairedComparison(
        float(differences.mean()), float(low), float(high), p_value,
        bool(low > 0 or high < 0), n, dropped, "bootstrap",
    )


def _regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) by Lentz's continued fraction (Numerical Recipes, 3rd ed., section 6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _regularized_beta(1.0 - x, b, a)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-14:
            break
    return math.exp(log_front) * result / a


def student_t_sf_two_sided(t: float, dof: float) -> float:
    """P(|T| >= |t|) for Student's t with ``dof`` degrees of freedom."""
    return _regularized_beta(dof / (dof + t * t), dof / 2, 0.5)


def student_t_quantile(probability: float, dof: float) -> float:
    """The t with P(T <= t) = ``probability`` (bisection on the distribution function)."""
    target = 2 * (1 - probability)  # two-sided tail mass beyond t, for probability > 0.5
    low, high = 0.0, 1e3
    for _ in range(200):
        middle = (low + high) / 2
        if student_t_sf_two_sided(middle, dof) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def paired_t_test(
    baseline: Sequence[Value], candidate: Sequence[Value], *, confidence: float = 0.95
) -> PairedComparison:
    """Paired t-test on per-sample differences (Student, 1908); the interval uses the t quantile."""
    differences, dropped = _pairs(baseline, candidate)
    n = len(differences)
    mean = float(differences.mean())
    if n < 2:
        return PairedComparison(mean, -math.inf, math.inf, None, False, n, dropped, "t-test")
    stderr = float(differences.std(ddof=1)) / math.sqrt(n)
    if stderr == 0.0:
        significant = mean != 0.0
        return PairedComparison(mean, mean, mean, 0.0 if significant else 1.0, significant, n, dropped, "t-test")
    half_width = student_t_quantile(1 - (1 - confidence) / 2, n - 1) * stderr
    p_value = student_t_sf_two_sided(mean / stderr, n - 1)
    low, high = mean - half_width, mean + half_width
    return PairedComparison(mean, low, high, p_value, bool(low > 0 or high < 0), n, dropped, "t-test")


def paired_sign_test(
    baseline: Sequence[Value], candidate: Sequence[Value], *, confidence: float = 0.95
) -> PairedComparison:
    """Exact two-sided sign test on the samples where the runs differ (ties dropped).

    For 0/1 scores this is McNemar's exact test. The interval is the t-test's, for scale.
    """
    differences, dropped = _pairs(baseline, candidate)
    wins, losses = int(np.sum(differences > 0)), int(np.sum(differences < 0))
    trials = wins + losses
    if trials == 0:
        p_value = 1.0
    else:
        tail = sum(math.comb(trials, i) for i in range(min(wins, losses) + 1)) / 2**trials
        p_value = min(1.0, 2 * tail)
    t_result = paired_t_test(baseline, candidate, confidence=confidence)
    return PairedComparison(
        t_result.difference, t_result.ci_low, t_result.ci_high, p_value,
        p_value < 1 - confidence, t_result.count, dropped, "sign-test",
    )
