"""The summary of one plan (what ``summary.json`` and ``percentiles.json`` hold), built from its records."""

from __future__ import annotations

from pathlib import Path

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


class PlanSummary(BaseModel):
    """The results of one load plan. Times in seconds unless the name says otherwise."""

    plan: str
    api: str = "chat"
    parallel: int | None
    rate: float | None
    number: int
    trace_speed: float | None = Field(default=None, description="A replayed trace's speed factor (--trace-speed).")
    workers: int = 1
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
        trace_speed=plan.trace_speed if plan.arrivals_s is not None else None,
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
