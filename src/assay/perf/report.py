"""Console tables (like EvalScope's "Benchmarking summary" and "Percentile results") and the JSON files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import orjson
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from assay.perf.metrics import finite_mean, plan_duration_s
from assay.perf.records import read_columns
from assay.perf.summary import PERCENTILE_METRICS, POOLING_APIS, REPEAT_METRICS, PlanSummary, percentile_rows

_PERCENTILE_HEADERS = {
    "ttft_s": "TTFT (s)", "itl_s": "ITL (s)", "tpot_s": "TPOT (s)", "e2e_latency_s": "Latency (s)",
    "input_tokens": "Input tokens", "output_tokens": "Output tokens", "output_throughput_tps": "Output (tok/s)",
    "total_throughput_tps": "Total (tok/s)",
}


def _num(value: float | int | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value)}"
    return f"{value:.{digits}f}"


def summary_table(summary: PlanSummary) -> Table:
    """The "Benchmarking summary" of one plan."""
    title = f"Benchmarking summary: {summary.plan}" + (" (interrupted)" if summary.interrupted else "")
    if summary.repeats > 1:
        title += f" ({summary.repeats} repeats pooled)"
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("Key", style="cyan", no_wrap=True)
    table.add_column("Value", justify="right")
    rows: list[tuple[str, str]] = [
        ("Time taken for tests (s)", _num(summary.duration_s, 3)),
        ("Number of concurrency", "-" if summary.parallel is None else str(summary.parallel)),
    ]
    if summary.rate is not None:
        rows.append(("Request rate (req/s)", _num(summary.rate, 2)))
    if summary.trace_speed is not None:
        rows.append(("Trace replay speed", f"{summary.trace_speed:g}x"))
    if summary.ramp is not None:
        ramp = summary.ramp
        unit = "req/s" if ramp.variable == "rate" else "in flight"
        rows.append(("Ramp", f"{ramp.shape}, {ramp.start:g} → {ramp.target:g} {unit} in {ramp.duration_s:g} s"))
    if summary.workers > 1:
        rows.append(("Load-generator processes", str(summary.workers)))
    rows += [
        ("Total requests", str(summary.total_requests)),
        ("Succeeded requests", str(summary.succeeded_requests)),
        ("Failed requests", str(summary.failed_requests)),
        ("Request throughput (req/s)", _num(summary.request_throughput_rps, 3)),
    ]
    if summary.goodput_rps is not None:
        slo = " ".join(f"{k}={v:g}" for k, v in summary.slo_ms.items())
        rows.append((f"Goodput (req/s, {slo})", _num(summary.goodput_rps, 3)))
    if summary.api in POOLING_APIS:
        # Embeddings and rerank: one JSON body each, nothing generated.
        rows += [
            ("Input token throughput (tok/s)", _num(summary.input_throughput_tps, 2)),
            ("Average latency (s)", _num(summary.mean_latency_s)),
            ("Average input tokens per request", _num(summary.mean_input_tokens, 1)),
            ("Input token counts from", summary.input_token_source),
        ]
    else:
        rows += [
            ("Input token throughput (tok/s)", _num(summary.input_throughput_tps, 2)),
            ("Output token throughput (tok/s)", _num(summary.output_throughput_tps, 2)),
            ("Total token throughput (tok/s)", _num(summary.total_throughput_tps, 2)),
            ("Average latency (s)", _num(summary.mean_latency_s)),
            ("Average time to first token (s)", _num(summary.mean_ttft_s)),
            ("Average time per output token (s)", _num(summary.mean_tpot_s, 5)),
            ("Average inter-token latency (s)", _num(summary.mean_itl_s, 5)),
            ("Average input tokens per request", _num(summary.mean_input_tokens, 1)),
            ("Average output tokens per request", _num(summary.mean_output_tokens, 1)),
            ("Token counts from (input / output)", f"{summary.input_token_source} / {summary.output_token_source}"),
        ]
    health = summary.health
    if health.send_lag_p50_ms is not None:
        rows.append(("Arrival lag p50 / p99 / max (ms)", " / ".join(
            _num(v, 1) for v in (health.send_lag_p50_ms, health.send_lag_p99_ms, health.send_lag_max_ms))))
    for kind, count in sorted(summary.error_kinds.items()):
        rows.append((f"Errors: {kind}", str(count)))
    for key, value in rows:
        table.add_row(key, value)
    return table


def percentile_table(summary: PlanSummary) -> Table:
    """The "Percentile results" of one plan (ITL pooled over all chunk gaps)."""
    table = Table(title=f"Percentile results: {summary.plan}", header_style="bold")
    table.add_column("Percentile", style="cyan")
    rows = percentile_rows(summary)
    metrics = PERCENTILE_METRICS
    if summary.api in POOLING_APIS:  # no first token and no output: only latency and input columns
        metrics = tuple(m for m in metrics if m in ("e2e_latency_s", "input_tokens", "total_throughput_tps"))
    for metric in metrics:
        header = _PERCENTILE_HEADERS[metric]
        table.add_column("Input (tok/s)" if metric == "total_throughput_tps" and summary.api in POOLING_APIS
                         else header, justify="right")
    for row in rows:
        cells = [str(row["percentile"]).replace("p", "") + "%"]
        for metric in metrics:
            value = row[metric]
            digits = 1 if metric.endswith("tokens") or metric.endswith("tps") else 4
            cells.append(_num(value if isinstance(value, (int, float)) else None, digits))
        table.add_row(*cells)
    return table


def _p(summary: PlanSummary, metric: str, key: str = "p99") -> float | None:
    return summary.percentiles.get(metric, {}).get(key)


def sweep_table(summaries: Sequence[PlanSummary]) -> Table:
    """One row per plan of a sweep."""
    table = Table(title="Sweep comparison", header_style="bold")
    columns: list[tuple[str, Callable[[PlanSummary], str]]] = [
        ("Conc.", lambda s: "-" if s.parallel is None else str(s.parallel)),
        ("Rate", lambda s: "-" if s.rate is None else f"{s.rate:g}"),
        ("Req/s", lambda s: _num(s.request_throughput_rps, 2)),
        ("Out tok/s", lambda s: _num(s.output_throughput_tps, 1)),
        ("Avg lat (s)", lambda s: _num(s.mean_latency_s, 3)),
        ("P99 lat (s)", lambda s: _num(_p(s, "e2e_latency_s"), 3)),
        ("Avg TTFT (s)", lambda s: _num(s.mean_ttft_s, 3)),
        ("P99 TTFT (s)", lambda s: _num(_p(s, "ttft_s"), 3)),
        ("Avg TPOT (s)", lambda s: _num(s.mean_tpot_s, 4)),
        ("P99 TPOT (s)", lambda s: _num(_p(s, "tpot_s"), 4)),
        ("Success", lambda s: f"{s.succeeded_requests}/{s.total_requests}"),
    ]
    if any(s.api in POOLING_APIS for s in summaries):
        columns.insert(3, ("In tok/s", lambda s: _num(s.input_throughput_tps, 1)))
    if any(s.goodput_rps is not None for s in summaries):
        columns.append(("Goodput", lambda s: _num(s.goodput_rps, 2)))
    for name, _ in columns:
        table.add_column(name, justify="right")
    for summary in summaries:
        table.add_row(*(render(summary) for _, render in columns))
    return table


def warnings_text(summary: PlanSummary) -> Text | None:
    """The load generator's health warnings, plainly, or None."""
    if not summary.health.warnings:
        return None
    text = Text()
    for warning in summary.health.warnings:
        text.append("warning: ", style="bold yellow")
        text.append(warning + "\n")
    return text


def server_text(summary: PlanSummary) -> Text | None:
    """The server's own view in a few lines: its latencies beside the client's, its queue and cache."""
    view = summary.server
    if view is None:
        return None
    lines = [f"Server's own metrics ({view.kind}, {view.scrapes} reads of {view.url}):"]
    for key, label in (("ttft", "TTFT"), ("e2e", "end-to-end"), ("tpot", "TPOT"), ("queue", "queue time")):
        latency = view.latency.get(key)
        if latency is None or latency.mean_s is None:
            continue
        line = f"  {label}: mean {latency.mean_s * 1000:.1f} ms over {latency.count} requests"
        if latency.p99_s is not None:
            line += f", p99 ~{latency.p99_s * 1000:.1f} ms"
        if key in view.client_minus_server_ms:
            line += f"; client minus server {view.client_minus_server_ms[key]:+.1f} ms"
        lines.append(line)
    gauges = []
    if view.mean_running is not None:
        gauges.append(f"running mean {view.mean_running:.1f} max {view.max_running:g}")
    if view.mean_waiting is not None:
        gauges.append(f"waiting mean {view.mean_waiting:.1f} max {view.max_waiting:g}")
    if view.mean_kv_cache_usage is not None:
        gauges.append(f"KV cache mean {view.mean_kv_cache_usage:.0%} max {view.max_kv_cache_usage:.0%}")
    if view.prefix_cache_hit_rate is not None:
        gauges.append(f"prefix-cache hits {view.prefix_cache_hit_rate:.0%}")
    if view.preemptions is not None:
        gauges.append(f"preemptions {view.preemptions:g}")
    if gauges:
        lines.append("  " + "; ".join(gauges))
    return Text("\n".join(lines))


def significant_digits(value: float) -> int:
    """Four significant figures, whatever the unit (tokens per second or seconds per token)."""
    magnitude = abs(value)
    return 2 if magnitude >= 100 or magnitude == 0 else max(2, 3 - int(math.floor(math.log10(magnitude))))


def repeats_table(summary: PlanSummary) -> Table | None:
    """Each metric over the plan's repeats: mean, 95% interval, and the repeats' own values; None for one run."""
    if summary.repeats < 2 or not summary.repeat_stats:
        return None
    table = Table(title=f"Over {summary.repeats} repeats: {summary.plan} (mean, 95% t-interval)", header_style="bold")
    for name in ("Metric", "Mean", "95% CI", "±", "Per repeat"):
        table.add_column(name, justify="left" if name in ("Metric", "Per repeat") else "right", overflow="fold")
    for metric in REPEAT_METRICS:
        stat = summary.repeat_stats.get(metric.key)
        if stat is None or stat.mean is None:
            continue
        digits = significant_digits(stat.mean)
        interval, spread = "-", "-"
        if stat.ci95_low is not None and stat.ci95_high is not None:
            interval = f"[{stat.ci95_low:.{digits}f}, {stat.ci95_high:.{digits}f}]"
            if stat.mean:
                spread = f"{(stat.ci95_high - stat.mean) / abs(stat.mean):.1%}"
        values = " ".join("-" if v is None else f"{v:.{digits}f}" for v in stat.values)
        table.add_row(metric.label, f"{stat.mean:.{digits}f}", interval, spread, values)
    return table


def repeat_line(records: Path, repeat: int, repeats: int) -> str:
    """One line after each repeat of a plan, so a long series shows how the repeats spread as it goes."""
    columns, _ = read_columns(records, repeat=repeat)
    ok = columns.ok.astype(bool)
    duration = plan_duration_s(columns)
    rps = ok.sum() / duration if duration > 0 else 0.0
    ttft = finite_mean(np.where(ok, columns.ttft_s, np.nan))
    latency = finite_mean(np.where(ok, columns.latency_s, np.nan))
    return (f"repeat {repeat + 1}/{repeats}: {int(ok.sum())}/{columns.total} succeeded, {rps:.3f} req/s, "
            f"mean TTFT {_num(ttft)} s, mean latency {_num(latency)} s")


def endpoint_table(summary: PlanSummary) -> Table | None:
    """One row per endpoint of a plan run against several (--url A --url B); None for one endpoint."""
    if not summary.endpoints:
        return None
    table = Table(title=f"Per endpoint: {summary.plan}", show_header=True, header_style="bold")
    generates = summary.api not in POOLING_APIS
    headers = ["Endpoint", "Requests", "Failed", "Req/s"]
    headers += ["Output (tok/s)", "TTFT p50 (s)", "TTFT p99 (s)"] if generates else []
    headers += ["Latency p50 (s)", "Latency p99 (s)", "Errors"]
    for header in headers:
        table.add_column(header, justify="left" if header in ("Endpoint", "Errors") else "right",
                         style="cyan" if header == "Endpoint" else None)
    for part in summary.endpoints:
        latency = part.percentiles.get("e2e_latency_s", {})
        ttft = part.percentiles.get("ttft_s", {})
        row = [part.endpoint, str(part.total_requests), str(part.failed_requests),
               _num(part.request_throughput_rps, 3)]
        if generates:
            row += [_num(part.output_throughput_tps, 2), _num(ttft.get("p50")), _num(ttft.get("p99"))]
        errors = ", ".join(f"{kind}: {count}" for kind, count in sorted(part.error_kinds.items())) or "-"
        row += [_num(latency.get("p50")), _num(latency.get("p99")), errors]
        table.add_row(*row)
    return table


def plan_report(summary: PlanSummary) -> RenderableType:
    """Everything printed after one plan."""
    parts: list[RenderableType] = [summary_table(summary), percentile_table(summary)]
    endpoints = endpoint_table(summary)
    if endpoints is not None:
        parts.append(endpoints)
    repeats = repeats_table(summary)
    if repeats is not None:
        parts.append(repeats)
    server = server_text(summary)
    if server is not None:
        parts.append(server)
    warning = warnings_text(summary)
    if warning is not None:
        parts.append(warning)
    return Group(*parts)


def write_json(path: Path, data: object) -> None:
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))


def write_plan_files(plan_dir: Path, summary: PlanSummary) -> None:
    """``summary.json`` and ``percentiles.json`` of one plan."""
    write_json(plan_dir / "summary.json", summary.to_json())
    write_json(plan_dir / "percentiles.json", percentile_rows(summary))
