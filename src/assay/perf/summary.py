"""The summary of one plan (what ``summary.json`` and ``percentiles.json`` hold), built from its records."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
from pydantic import BaseModel, Field

from assay.perf.health import HealthVerdict, judge_health
from assay.perf.metrics import (
    PERCENTILES,
    PooledDistribution,
    RequestColumns,
    finite_mean,
    goodput_mask,
    per_request_rates,
    percentiles,
    plan_duration_s,
    token_source_label,
)
from assay.perf.plans import LoadPlan
from assay.perf.records import read_columns, read_health
from assay.perf.server_metrics import ServerView

# The metrics with a percentile row, in the order the table shows them.
PERCENTILE_METRICS = (
    "ttft_s", "itl_s", "tpot_s", "e2e_latency_s", "input_tokens", "output_tokens", "output_throughput_tps",
    "total_throughput_tps",
)
# Embeddings and rerank generate nothing: no first token, no output tokens.
POOLING_APIS = ("embeddings", "rerank")


class ClientHealth(BaseModel):
    """How the load generator itself fared (see ``assay.perf.health``)."""

    loop_lag_p99_ms: float | None = None
    loop_lag_max_ms: float | None = None
    cpu_mean_fraction: float | None = None
    cpu_max_fraction: float | None = None
    send_lag_p99_ms: float | None = None
    # Open loops (--rate, --trace): how late requests went out against their schedule (send minus due time).
    send_lag_p50_ms: float | None = None
    send_lag_max_ms: float | None = None
    client_bound: bool = False
    warnings: list[str] = Field(default_factory=list)


class RampSummary(BaseModel):
    """A plan's ramp (``--ramp``): what rose (the request rate or the concurrency), from where to where, how."""

    shape: str
    variable: Literal["rate", "parallel"]
    start: float
    target: float
    duration_s: float

    @classmethod
    def of(cls, plan: LoadPlan) -> RampSummary | None:
        ramp = plan.ramp
        if ramp is None:
            return None
        if plan.rate is not None:
            return cls(shape=ramp.shape, variable="rate", start=ramp.start, target=plan.rate,
                       duration_s=ramp.duration_s)
        return cls(shape=ramp.shape, variable="parallel", start=ramp.start, target=float(plan.parallel or 1),
                   duration_s=ramp.duration_s)


class RepeatStat(BaseModel):
    """One metric over a plan's repeats: their mean, its 95% interval (Student's t over the repeats, so it
    says how far another run's mean may fall by chance), and each repeat's own value."""

    mean: float | None
    ci95_low: float | None = None
    ci95_high: float | None = None
    values: list[float | None] = Field(default_factory=list)


class EndpointSummary(BaseModel):
    """One endpoint's share of a plan run against several (--url A --url B). Throughputs are over the whole
    plan's duration, so the endpoints' add up to the plan's."""

    endpoint: str
    total_requests: int
    succeeded_requests: int
    failed_requests: int
    error_kinds: dict[str, int] = Field(default_factory=dict)
    request_throughput_rps: float
    output_throughput_tps: float | None = None
    total_throughput_tps: float | None = None
    mean_ttft_s: float | None = None
    mean_tpot_s: float | None = None
    mean_latency_s: float | None = None
    percentiles: dict[str, dict[str, float | None]] = Field(default_factory=dict)


class PlanSummary(BaseModel):
    """The results of one load plan. Times in seconds unless the name says otherwise."""

    plan: str
    api: str = "chat"
    parallel: int | None
    rate: float | None
    number: int
    trace_speed: float | None = Field(default=None, description="A replayed trace's speed factor (--trace-speed).")
    workers: int = 1
    ramp: RampSummary | None = Field(default=None, description="The plan's ramp (--ramp), if it had one.")
    interrupted: bool = False
    duration_s: float
    total_requests: int
    succeeded_requests: int
    failed_requests: int
    error_kinds: dict[str, int] = Field(default_factory=dict)
    request_throughput_rps: float
    input_throughput_tps: float | None = None
    output_throughput_tps: float | None
    total_throughput_tps: float | None
    goodput_rps: float | None = None
    slo_ms: dict[str, float] = Field(default_factory=dict)
    mean_ttft_s: float | None
    median_ttft_s: float | None
    mean_tpot_s: float | None
    median_tpot_s: float | None
    mean_itl_s: float | None
    median_itl_s: float | None
    mean_latency_s: float | None
    median_latency_s: float | None
    mean_input_tokens: float | None
    mean_output_tokens: float | None
    total_input_tokens: int
    total_output_tokens: int
    input_token_source: str
    output_token_source: str
    itl_samples: int
    itl_exact: bool = True
    health: ClientHealth = Field(default_factory=ClientHealth)
    server: ServerView | None = Field(
        default=None, description="The server's own metrics over the plan (--server-metrics), and client minus server.")
    percentiles: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    repeats: int = Field(default=1, description="How many times the plan ran (--repeats); the other fields pool "
                                                "every repeat's requests, laid end to end in time.")
    repeat_stats: dict[str, RepeatStat] = Field(
        default_factory=dict, description="With several repeats: each metric of REPEAT_METRICS over the repeats.")
    endpoints: list[EndpointSummary] | None = Field(
        default=None, description="With several --url: each endpoint's requests, throughput, latency and errors "
                                  "(the other fields cover all endpoints together).")

    def to_json(self) -> dict[str, Any]:
        """What ``summary.json`` and ``sweep.json`` hold; a single run's has no repeat fields (as before
        --repeats existed), a plan without a ramp no ramp field, and a one-endpoint run no endpoint list."""
        exclude = set() if self.repeats > 1 else {"repeats", "repeat_stats"}
        if self.ramp is None:
            exclude.add("ramp")  # files of plans without a ramp stay as they were
        if self.endpoints is None:
            exclude.add("endpoints")
        return self.model_dump(mode="json", exclude=exclude or None)


@dataclass(frozen=True)
class Metric:
    """A plan-level number that repeats and ``assay perf compare`` report: how to read it from a summary,
    and, for latencies, which per-request values it is a statistic of (``records``: ``ttft_s``, ``tpot_s``,
    ``latency_s`` or ``itl_s``; ``stat``: ``mean`` or a percentile such as ``p99``)."""

    key: str
    label: str
    read: Callable[[PlanSummary], float | None]
    higher_is_better: bool = False
    records: str | None = None
    stat: str | None = None


def _latency_metrics(name: str, field: str, label: str) -> list[Metric]:
    metrics = [Metric(f"mean_{name}_s", f"{label} mean (s)", lambda s: getattr(s, f"mean_{name}_s"),
                      records=field, stat="mean")]
    table = {"latency": "e2e_latency_s"}.get(name, f"{name}_s")
    for p in ("p50", "p90", "p99"):
        metrics.append(Metric(f"{p}_{name}_s", f"{label} {p} (s)",
                              lambda s, p=p: s.percentiles.get(table, {}).get(p), records=field, stat=p))
    return metrics


# In the order tables show them.
REPEAT_METRICS: tuple[Metric, ...] = (
    Metric("request_throughput_rps", "Throughput (req/s)", lambda s: s.request_throughput_rps, True),
    Metric("output_throughput_tps", "Output (tok/s)", lambda s: s.output_throughput_tps, True),
    Metric("total_throughput_tps", "Total (tok/s)", lambda s: s.total_throughput_tps, True),
    Metric("goodput_rps", "Goodput (req/s)", lambda s: s.goodput_rps, True),
    *_latency_metrics("ttft", "ttft_s", "TTFT"),
    *_latency_metrics("tpot", "tpot_s", "TPOT"),
    *_latency_metrics("itl", "itl_s", "ITL"),
    *_latency_metrics("latency", "latency_s", "Latency"),
)


def mean_ci95(values: list[float]) -> tuple[float | None, float | None, float | None]:
    """(mean, low, high): the 95% interval of the mean by Student's t with n - 1 degrees of freedom (a
    handful of repeats is far too few for the normal's 1.96); no interval from one value."""
    from assay.eval.scoring.stats import mean_stderr, student_t_quantile

    stat = mean_stderr(values)
    if stat.mean is None or stat.stderr is None:
        return stat.mean, None, None
    half = student_t_quantile(0.975, stat.count - 1) * stat.stderr
    return stat.mean, stat.mean - half, stat.mean + half


def repeat_stats(per_repeat: list[PlanSummary]) -> dict[str, RepeatStat]:
    """Each metric of ``REPEAT_METRICS`` over the repeats' own summaries (metrics no repeat has are left out)."""
    out: dict[str, RepeatStat] = {}
    for metric in REPEAT_METRICS:
        values = [metric.read(s) for s in per_repeat]
        finite = [float(v) for v in values if v is not None and math.isfinite(v)]
        if not finite:
            continue
        mean, low, high = mean_ci95(finite)
        out[metric.key] = RepeatStat(mean=mean, ci95_low=low, ci95_high=high, values=values)
    return out


def summarize(
    plan: LoadPlan,
    columns: RequestColumns,
    itl: PooledDistribution,
    *,
    slo_ms: dict[str, float] | None = None,
    health_samples: np.ndarray | None = None,
    workers: int = 1,
    interrupted: bool = False,
    api: str = "chat",
) -> PlanSummary:
    """The summary of one plan from its per-request columns (pure: no I/O).

    For ``api`` embeddings or rerank nothing is generated: total token throughput is the input's.
    """
    generates = api not in POOLING_APIS
    ok = columns.ok.astype(bool)
    succeeded = int(ok.sum())
    duration = plan_duration_s(columns)
    per_s = (lambda x: x / duration) if duration > 0 else (lambda x: 0.0)
    out_tokens = np.where(ok, columns.output_tokens, np.nan)
    in_tokens = np.where(ok, columns.input_tokens, np.nan)
    have_out = bool(np.isfinite(out_tokens).any())
    have_in = bool(np.isfinite(in_tokens).any())
    total_out = int(np.nansum(out_tokens)) if have_out else 0
    total_in = int(np.nansum(in_tokens)) if have_in else 0
    ok_only = {name: np.where(ok, getattr(columns, name), np.nan) for name in ("ttft_s", "tpot_s", "latency_s")}
    out_rate, total_rate = per_request_rates(columns, generates=generates)
    goodput = None
    if slo_ms:
        goodput = per_s(float(goodput_mask(columns, slo_ms).sum()))
    verdict: HealthVerdict = judge_health(
        health_samples if health_samples is not None else np.empty((0, 3)), columns.send_lag_s,
        open_loop=plan.open_loop)
    table = {
        "ttft_s": percentiles(ok_only["ttft_s"]),
        "itl_s": itl.percentiles(),
        "tpot_s": percentiles(ok_only["tpot_s"]),
        "e2e_latency_s": percentiles(ok_only["latency_s"]),
        "input_tokens": percentiles(in_tokens),
        "output_tokens": percentiles(out_tokens),
        "output_throughput_tps": percentiles(out_rate),
        "total_throughput_tps": percentiles(total_rate),
    }
    return PlanSummary(
        plan=plan.name, api=api, parallel=plan.parallel, rate=plan.rate, number=plan.number, workers=workers,
        trace_speed=plan.trace_speed if plan.arrivals_s is not None else None, ramp=RampSummary.of(plan),
        interrupted=interrupted, duration_s=duration, total_requests=columns.total, succeeded_requests=succeeded,
        failed_requests=columns.total - succeeded, error_kinds=columns.error_kinds,
        request_throughput_rps=per_s(succeeded),
        input_throughput_tps=per_s(total_in) if have_in else None,
        output_throughput_tps=per_s(total_out) if have_out else None,
        total_throughput_tps=per_s(total_in + total_out) if have_out or (have_in and not generates) else None,
        goodput_rps=goodput, slo_ms=dict(slo_ms or {}),
        mean_ttft_s=finite_mean(ok_only["ttft_s"]), median_ttft_s=table["ttft_s"]["p50"],
        mean_tpot_s=finite_mean(ok_only["tpot_s"]), median_tpot_s=table["tpot_s"]["p50"],
        mean_itl_s=itl.mean(), median_itl_s=table["itl_s"]["p50"],
        mean_latency_s=finite_mean(ok_only["latency_s"]), median_latency_s=table["e2e_latency_s"]["p50"],
        mean_input_tokens=finite_mean(in_tokens), mean_output_tokens=finite_mean(out_tokens),
        total_input_tokens=total_in, total_output_tokens=total_out,
        input_token_source=token_source_label(columns.input_token_sources),
        output_token_source=token_source_label(columns.output_token_sources),
        itl_samples=itl.count, itl_exact=itl.exact,
        health=ClientHealth(
            loop_lag_p99_ms=verdict.loop_lag_p99_ms, loop_lag_max_ms=verdict.loop_lag_max_ms,
            cpu_mean_fraction=verdict.cpu_mean_fraction, cpu_max_fraction=verdict.cpu_max_fraction,
            send_lag_p99_ms=verdict.send_lag_p99_ms, send_lag_p50_ms=verdict.send_lag_p50_ms,
            send_lag_max_ms=verdict.send_lag_max_ms, client_bound=verdict.client_bound, warnings=verdict.warnings),
        percentiles=table,
    )


def summarize_endpoint(endpoint: str, columns: RequestColumns, *, duration_s: float,
                       api: str = "chat") -> EndpointSummary:
    """One endpoint's share of a plan from its requests' columns (pure), rates over the plan's ``duration_s``."""
    ok = columns.ok.astype(bool)
    succeeded = int(ok.sum())
    per_s = (lambda x: x / duration_s) if duration_s > 0 else (lambda x: 0.0)
    out_tokens = np.where(ok, columns.output_tokens, np.nan)
    in_tokens = np.where(ok, columns.input_tokens, np.nan)
    have_out, have_in = bool(np.isfinite(out_tokens).any()), bool(np.isfinite(in_tokens).any())
    total_out = float(np.nansum(out_tokens)) if have_out else 0.0
    total_in = float(np.nansum(in_tokens)) if have_in else 0.0
    ok_only = {name: np.where(ok, getattr(columns, name), np.nan) for name in ("ttft_s", "tpot_s", "latency_s")}
    generates = api not in POOLING_APIS
    return EndpointSummary(
        endpoint=endpoint, total_requests=columns.total, succeeded_requests=succeeded,
        failed_requests=columns.total - succeeded, error_kinds=columns.error_kinds,
        request_throughput_rps=per_s(succeeded),
        output_throughput_tps=per_s(total_out) if have_out else None,
        total_throughput_tps=per_s(total_in + total_out) if have_out or (have_in and not generates) else None,
        mean_ttft_s=finite_mean(ok_only["ttft_s"]), mean_tpot_s=finite_mean(ok_only["tpot_s"]),
        mean_latency_s=finite_mean(ok_only["latency_s"]),
        percentiles={"ttft_s": percentiles(ok_only["ttft_s"]), "tpot_s": percentiles(ok_only["tpot_s"]),
                     "e2e_latency_s": percentiles(ok_only["latency_s"])},
    )


def laid_end_to_end(parts: list[RequestColumns]) -> RequestColumns:
    """The repeats of a plan as one run: each repeat's times (seconds from its own start) shifted to begin
    where the one before ended, so the pooled duration is the sum of theirs and pooled throughput is all the
    work over all the time."""
    shifted: list[RequestColumns] = []
    elapsed = 0.0
    for part in parts:
        start = float(np.nanmin(part.start_s)) if np.isfinite(part.start_s).any() else 0.0
        offset = elapsed - start
        shifted.append(replace(part, start_s=part.start_s + offset, done_s=part.done_s + offset))
        elapsed += plan_duration_s(part)

    def join(name: str) -> np.ndarray:
        arrays = [getattr(p, name) for p in shifted]
        return np.concatenate(arrays) if arrays else np.empty(0)

    def add(name: str) -> dict[str, int]:
        total: Counter[str] = Counter()
        for p in shifted:
            total.update(getattr(p, name))
        return dict(total)

    return RequestColumns(
        **{f.name: join(f.name) for f in fields(RequestColumns) if f.type in ("np.ndarray", np.ndarray)},
        error_kinds=add("error_kinds"), input_token_sources=add("input_token_sources"),
        output_token_sources=add("output_token_sources"))


def summarize_records(plan: LoadPlan, records: str | Path, *, slo_ms: dict[str, float] | None = None,
                      workers: int = 1, interrupted: bool = False, api: str = "chat") -> PlanSummary:
    """Read a plan's ``records.sqlite`` and summarise it (flat memory for any number of requests)."""
    columns, itl = read_columns(records)
    return summarize(plan, columns, itl, slo_ms=slo_ms, health_samples=read_health(records), workers=workers,
                     interrupted=interrupted, api=api)


def percentile_rows(summary: PlanSummary) -> list[dict[str, float | None | str]]:
    """``percentiles.json``: one row per percentile (``"p50"``) with every metric, as EvalScope's table."""
    rows = []
    for p in PERCENTILES:
        key = f"p{p}"
        row: dict[str, float | None | str] = {"percentile": key}
        for metric in PERCENTILE_METRICS:
            row[metric] = summary.percentiles.get(metric, {}).get(key)
        rows.append(row)
    return rows
