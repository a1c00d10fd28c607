"""``assay perf compare RUN_A RUN_B``: two load tests side by side, and whether each difference beats the noise.

Two runs of one load never give the same numbers: the server, the network and the client's machine all
wobble. A difference counts only when it is larger than that wobble, judged one of two ways:

- both plans ran several times (``--repeats``): Welch's t-test on the per-repeat values (Welch, 1947: no
  assumption that both runs are equally noisy), which covers everything that varies from run to run;
- otherwise: a bootstrap of the difference of the statistic itself (a mean, a median, a p99) over the
  requests in ``records.sqlite``, seeded so the output is reproducible. ITL gaps are resampled a whole
  request at a time, since the gaps of one answer move together. This only sees the noise between requests
  of one run, not what changes from one run to the next, so it flags more than repeats would: prefer
  repeats when a difference matters. Run-level rates (throughput, goodput) have one value per run and no
  test without repeats.

A difference is significant at ``ALPHA``: p below it, or (same thing) the 95% interval of B - A excluding 0.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assay.errors import ConfigError
from assay.perf.records import read_columns, read_itl_gaps
from assay.perf.report import significant_digits
from assay.perf.summary import REPEAT_METRICS, Metric, PlanSummary

ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 2000
# Most requests (or ITL gaps) a bootstrap draws from per run; a larger run is subsampled (seeded), which only
# widens the interval a little.
BOOTSTRAP_MAX_VALUES = 20_000
SUMMARY_FILE = "summary.json"
RECORDS_FILE = "records.sqlite"

_TESTS = {
    "welch": "Welch's t-test on the per-repeat values",
    "bootstrap": f"bootstrap of the difference over requests ({BOOTSTRAP_RESAMPLES} resamples, seeded; ITL "
                 "resampled by request)",
    "none": "no test: one value per run (run with --repeats to test it)",
}


@dataclass(frozen=True)
class MetricComparison:
    """One metric of a pair of plans: each run's value, B - A, and the test of it against the noise."""

    metric: str
    label: str
    a: float | None
    b: float | None
    difference: float | None  # b - a
    relative_difference: float | None  # (b - a) / |a|
    test: str  # "welch", "bootstrap" or "none"
    p_value: float | None = None
    ci95: tuple[float, float] | None = None  # of b - a
    significant: bool | None = None  # None: no test was possible
    higher_is_better: bool = False
    note: str | None = None

    @property
    def verdict(self) -> str:
        if self.significant is None:
            return "no test"
        if not self.significant or not self.difference:
            return "within the noise"
        better = (self.difference > 0) == self.higher_is_better
        return f"B {'better' if better else 'worse'} (beyond the noise)"


@dataclass
class PlanComparison:
    """A plan of run A and its counterpart in run B."""

    plan_a: str
    plan_b: str
    repeats_a: int
    repeats_b: int
    metrics: list[MetricComparison] = field(default_factory=list)


@dataclass
class RunComparison:
    run_a: str
    run_b: str
    plans: list[PlanComparison]
    only_in_a: list[str]
    only_in_b: list[str]

    def to_json(self) -> dict[str, Any]:
        plans = []
        for plan in self.plans:
            item = {k: v for k, v in asdict(plan).items() if k != "metrics"}
            item["metrics"] = [{**asdict(m), "verdict": m.verdict,
                                "ci95": None if m.ci95 is None else list(m.ci95)} for m in plan.metrics]
            plans.append(item)
        return {"run_a": self.run_a, "run_b": self.run_b, "alpha": ALPHA, "tests": _TESTS, "plans": plans,
                "only_in_a": self.only_in_a, "only_in_b": self.only_in_b}


# ---- loading and pairing -------------------------------------------------------------------------------


def load_run(folder: str | Path) -> dict[str, tuple[PlanSummary, Path]]:
    """A run folder's plans by name: each one's summary and folder. ``ConfigError`` (one line) when the
    folder is missing or holds no readable summary."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ConfigError(f"{folder}: no such run folder")
    plans: dict[str, tuple[PlanSummary, Path]] = {}
    for plan_dir in sorted(p for p in path.iterdir() if (p / SUMMARY_FILE).is_file()):
        try:
            summary = PlanSummary.model_validate_json((plan_dir / SUMMARY_FILE).read_bytes())
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"{plan_dir / SUMMARY_FILE}: unreadable ({first})") from None
        plans[summary.plan] = (summary, plan_dir)
    if not plans:
        raise ConfigError(f"{folder}: no plan folder with {SUMMARY_FILE} (not an assay perf run folder? a killed "
                          "run needs `assay perf rebuild` first)")
    return plans


def pair_plans(a: dict[str, Any], b: dict[str, Any], load_of: dict[str, tuple]) -> list[tuple[str, str]]:
    """Plans of the same name first; then, among the rest, plans of the same load (concurrency and rate)
    when it is unique on both sides (e.g. the same load with another --number)."""
    pairs = [(name, name) for name in a if name in b]
    rest_a = [n for n in a if n not in b]
    rest_b = [n for n in b if n not in a]
    for name in rest_a:
        load = load_of[name]
        same_a = [n for n in rest_a if load_of[n] == load]
        same_b = [n for n in rest_b if load_of[n] == load]
        if len(same_a) == 1 and len(same_b) == 1:
            pairs.append((name, same_b[0]))
    return pairs


# ---- tests ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DifferenceTest:
    difference: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def welch_t_test(a: list[float], b: list[float]) -> DifferenceTest | None:
    """Welch's unequal-variances t-test of mean(b) - mean(a), with the Welch-Satterthwaite degrees of
    freedom; None with fewer than two values on a side."""
    from assay.eval.scoring.stats import student_t_quantile, student_t_sf_two_sided

    if len(a) < 2 or len(b) < 2:
        return None
    diff = float(np.mean(b) - np.mean(a))
    va, vb = float(np.var(a, ddof=1)) / len(a), float(np.var(b, ddof=1)) / len(b)
    se2 = va + vb
    if se2 == 0.0:  # every repeat identical on both sides: any difference is real
        return DifferenceTest(diff, diff, diff, 0.0 if diff else 1.0)
    dof = se2 ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    se = math.sqrt(se2)
    half = student_t_quantile(1 - ALPHA / 2, dof) * se
    return DifferenceTest(diff, diff - half, diff + half, student_t_sf_two_sided(diff / se, dof))


@dataclass
class Sample:
    """One run's per-request values of a metric: ``values`` end to end, ``counts[i]`` of them belonging to
    request i (None: one value per request). The bootstrap resamples requests."""

    values: np.ndarray
    counts: np.ndarray | None = None

    @property
    def units(self) -> int:
        return int(self.values.size if self.counts is None else self.counts.size)

    def limited(self, rng: np.random.Generator, limit: int) -> Sample:
        """At most ``limit`` values, keeping whole requests (a seeded subsample)."""
        if self.values.size <= limit:
            return self
        if self.counts is None:
            return Sample(rng.choice(self.values, size=limit, replace=False))
        keep_n = max(2, int(self.counts.size * limit / self.values.size))
        keep = np.sort(rng.choice(self.counts.size, size=keep_n, replace=False))
        starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        return Sample(self.values[_ranges(starts[keep], self.counts[keep])], self.counts[keep])

    def resampled_stats(self, rng: np.random.Generator, resamples: int, stats: list[str]) -> np.ndarray:
        """(resamples, len(stats)): each statistic (``mean`` or ``pNN``) of each bootstrap resample."""
        out = np.empty((resamples, len(stats)))
        if self.counts is None:
            n = self.values.size
            chunk = max(1, 2_000_000 // n)
            for start in range(0, resamples, chunk):
                stop = min(resamples, start + chunk)
                drawn = self.values[rng.integers(0, n, size=(stop - start, n))]
                out[start:stop] = _stats(drawn, stats)
            return out
        starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        for i in range(resamples):
            picked = rng.integers(0, self.counts.size, size=self.counts.size)
            out[i] = _stats(self.values[_ranges(starts[picked], self.counts[picked])][None, :], stats)[0]
        return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start..start+length of every (start, length), end to end (vectorised)."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(total)


def _stats(matrix: np.ndarray, stats: list[str]) -> np.ndarray:
    """Each row's statistics, one column per name in ``stats``."""
    columns = []
    for stat in stats:
        if stat == "mean":
            columns.append(matrix.mean(axis=1))
        else:
            columns.append(np.percentile(matrix, float(stat[1:]), axis=1))
    return np.stack(columns, axis=1)


def bootstrap_differences(a: Sample, b: Sample, stats: list[str], *, seed: int = 0,
                          resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, DifferenceTest] | None:
    """For each statistic, the bootstrap distribution of stat(B) - stat(A) (A and B resampled independently):
    its 95% percentile interval, and as p-value the two-sided share of it on the far side of 0. None when a
    side has fewer than two requests."""
    if a.units < 2 or b.units < 2:
        return None
    rng = np.random.default_rng(seed)
    a, b = a.limited(rng, BOOTSTRAP_MAX_VALUES), b.limited(rng, BOOTSTRAP_MAX_VALUES)
    observed = _stats(b.values[None, :], stats)[0] - _stats(a.values[None, :], stats)[0]
    diffs = b.resampled_stats(rng, resamples, stats) - a.resampled_stats(rng, resamples, stats)
    out = {}
    for j, stat in enumerate(stats):
        column = diffs[:, j]
        low, high = np.quantile(column, [ALPHA / 2, 1 - ALPHA / 2])
        p = min(1.0, 2 * min(float(np.mean(column <= 0)), float(np.mean(column >= 0))))
        out[stat] = DifferenceTest(float(observed[j]), float(low), float(high), p)
    return out


# ---- comparing -----------------------------------------------------------------------------------------


class _Requests:
    """A plan's per-request values from its records, read once and only when a bootstrap needs them."""

    def __init__(self, plan_dir: Path) -> None:
        self.path = plan_dir / RECORDS_FILE
        self._samples: dict[str, Sample] | None = None

    def sample(self, name: str) -> Sample | None:
        if self._samples is None:
            self._samples = {}
            if not self.path.is_file():
                return None
            try:
                columns, _ = read_columns(self.path)
                gaps, counts = read_itl_gaps(self.path)
            except (sqlite3.DatabaseError, OSError) as exc:
                raise ConfigError(f"{self.path}: unreadable ({exc})") from None
            ok = columns.ok.astype(bool)
            for key in ("ttft_s", "tpot_s", "latency_s"):
                values = getattr(columns, key)[ok]
                self._samples[key] = Sample(values[np.isfinite(values)])
            self._samples["itl_s"] = Sample(gaps, counts)
        return self._samples.get(name)


def _value(summary: PlanSummary, metric: Metric, use_repeats: bool) -> float | None:
    if use_repeats:
        stat = summary.repeat_stats.get(metric.key)
        return None if stat is None else stat.mean
    value = metric.read(summary)
    return None if value is None or not math.isfinite(value) else float(value)


def compare_plans(sa: PlanSummary, dir_a: Path, sb: PlanSummary, dir_b: Path, *, seed: int = 0) -> PlanComparison:
    """Every metric of ``REPEAT_METRICS`` that both plans have, each tested against the noise."""
    use_repeats = sa.repeats >= 2 and sb.repeats >= 2
    out = PlanComparison(sa.plan, sb.plan, sa.repeats, sb.repeats)
    requests_a, requests_b = _Requests(dir_a), _Requests(dir_b)
    boots: dict[str, dict[str, DifferenceTest] | None] = {}
    for metric in REPEAT_METRICS:
        a, b = _value(sa, metric, use_repeats), _value(sb, metric, use_repeats)
        if a is None or b is None:
            continue
        diff = b - a
        relative = diff / abs(a) if a else None
        result: DifferenceTest | None = None
        note = None
        if use_repeats:
            test = "welch"
            values_a = [v for v in sa.repeat_stats[metric.key].values if v is not None]
            values_b = [v for v in sb.repeat_stats[metric.key].values if v is not None]
            result = welch_t_test(values_a, values_b)
        elif metric.records is None:
            test = "none"
        else:
            test = "bootstrap"
            if metric.records not in boots:
                sample_a, sample_b = requests_a.sample(metric.records), requests_b.sample(metric.records)
                stats = [m.stat for m in REPEAT_METRICS if m.records == metric.records and m.stat]
                boots[metric.records] = None if sample_a is None or sample_b is None else bootstrap_differences(
                    sample_a, sample_b, stats, seed=seed)  # type: ignore[arg-type]
            found = boots[metric.records]
            result = None if found is None else found.get(metric.stat or "")
            if found is None:
                note = f"no {RECORDS_FILE} with two or more requests on both sides"
        if result is None:
            out.metrics.append(MetricComparison(metric.key, metric.label, a, b, diff, relative, test,
                                                higher_is_better=metric.higher_is_better, note=note))
            continue
        out.metrics.append(MetricComparison(
            metric.key, metric.label, a, b, diff, relative, test, p_value=result.p_value,
            ci95=(result.ci_low, result.ci_high), significant=result.significant,
            higher_is_better=metric.higher_is_better))
    return out


def compare_runs(run_a: str | Path, run_b: str | Path, *, seed: int = 0) -> RunComparison:
    """The plans both runs have (by name, else by load), each compared metric by metric."""
    plans_a, plans_b = load_run(run_a), load_run(run_b)
    load_of = {name: (s.parallel, s.rate) for plans in (plans_a, plans_b) for name, (s, _) in plans.items()}
    pairs = pair_plans(plans_a, plans_b, load_of)
    if not pairs:
        raise ConfigError(f"{run_a} and {run_b} have no plan in common (neither by name nor by load): "
                          f"A has {', '.join(plans_a)}; B has {', '.join(plans_b)}")
    compared = [compare_plans(*plans_a[na], *plans_b[nb], seed=seed) for na, nb in pairs]
    paired_a, paired_b = {na for na, _ in pairs}, {nb for _, nb in pairs}
    return RunComparison(str(run_a), str(run_b), compared, [n for n in plans_a if n not in paired_a],
                         [n for n in plans_b if n not in paired_b])


# ---- console -------------------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.{significant_digits(value)}f}"


def comparison_tables(result: RunComparison) -> list[Any]:
    """One table per pair of plans, then the notes saying which test each row used."""
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    used: set[str] = set()
    for plan in result.plans:
        name = plan.plan_a if plan.plan_a == plan.plan_b else f"{plan.plan_a} vs {plan.plan_b}"
        title = f"{name}: A {plan.repeats_a} repeat(s), B {plan.repeats_b} repeat(s)"
        table = Table(title=title, header_style="bold")
        for column in ("Metric", "A", "B", "B - A", "B / A - 1", "95% CI of B - A", "p", "Test", "Verdict"):
            table.add_column(column, justify="left" if column in ("Metric", "Test", "Verdict") else "right",
                             overflow="fold")
        for m in plan.metrics:
            used.add(m.test)
            interval = "-" if m.ci95 is None else f"[{_fmt(m.ci95[0])}, {_fmt(m.ci95[1])}]"
            p = "-" if m.p_value is None else ("<0.001" if m.p_value < 0.001 else f"{m.p_value:.3f}")
            style = "bold" if m.significant else None
            table.add_row(m.label, _fmt(m.a), _fmt(m.b), _fmt(m.difference),
                          "-" if m.relative_difference is None else f"{m.relative_difference:+.1%}",
                          interval, p, m.test, m.verdict, style=style)
        parts.append(table)
    lines = [f"A = {result.run_a}", f"B = {result.run_b}",
             f"beyond the noise: p < {ALPHA} (the 95% interval of B - A excludes 0)"]
    lines += [f"{test}: {_TESTS[test]}" for test in ("welch", "bootstrap", "none") if test in used]
    if "bootstrap" in used:
        lines.append("bootstrap sees only the spread between requests of one run, not between runs: "
                     "use --repeats on both runs for a test that does")
    if result.only_in_a:
        lines.append(f"only in A (not compared): {', '.join(result.only_in_a)}")
    if result.only_in_b:
        lines.append(f"only in B (not compared): {', '.join(result.only_in_b)}")
    parts.append(Text("\n".join(lines)))
    return parts
