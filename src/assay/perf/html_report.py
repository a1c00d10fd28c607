"""``report.html``: one self-contained page of a perf run, beside its JSON files and PNG charts.

A run is often copied off the machine that made it (attached to a ticket, mailed, opened on a laptop without
network), so the page holds everything itself: inline CSS, charts as inline SVG (``assay.perf.svg``), one
tiny inline script (sorting a table by a click on its header, allowed by hash in the page's
Content-Security-Policy, which forbids every other script and any request). It reads only what the run wrote:
``config.yaml`` (credentials already redacted), each plan's summary and ``records.sqlite``. Every text,
including server error messages, is escaped. Its size is bounded whatever the request count: charts are
binned, and the per-request table holds at most ``REQUEST_ROWS`` rows. Nothing in it depends on when it was
written, so ``assay perf rebuild`` of a finished run writes it again byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import sqlite3
from html import escape
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import yaml

from assay.client.config import redact_url, scrub_secrets
from assay.perf import svg
from assay.perf.finish import RECORDS_FILE, read_run_config
from assay.perf.records import read_failures, read_meta, read_notable_requests, read_server_metrics, read_times
from assay.perf.report import significant_digits
from assay.perf.summary import PERCENTILE_METRICS, POOLING_APIS, REPEAT_METRICS, PlanSummary

log = logging.getLogger("assay.perf")

REPORT_FILE = "report.html"
REQUEST_ROWS = 200
MESSAGE_CHARS = 500
_HIST_BINS = 40
_CONFIG_KEYS = ("name", "model", "url", "api", "stream", "dataset", "dataset_path", "tokenizer_path", "parallel",
                "number", "rate", "rate_distribution", "max_tokens", "min_tokens", "slo", "repeats", "num_workers",
                "warmup", "seed", "server_metrics", "extra_args")

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin-top: 18px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; vertical-align: top; }
th { background: #f4f4f4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; }
td.msg { max-width: 520px; word-break: break-word; font-family: monospace; font-size: 12px; }
.warn { background: #fff4d6; border: 1px solid #e8c66a; padding: 6px 10px; margin: 6px 0; }
.muted { color: #666; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; }
nav a { margin-right: 12px; }
"""

# Sorts a table.sortable by the clicked column: numbers by data-value, the rest as text, blanks last.
_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], i = th.cellIndex, dir = th.dataset.dir === "asc" ? -1 : 1;
    th.dataset.dir = dir === 1 ? "asc" : "desc";
    function key(row) {
      var cell = row.cells[i], v = cell.dataset.value;
      return v === undefined ? cell.textContent : parseFloat(v);
    }
    Array.prototype.slice.call(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      if (typeof x === "number" && typeof y === "number") return (x - y) * dir;
      if (typeof x === "number") return -1;
      if (typeof y === "number") return 1;
      return x.localeCompare(y) * dir;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
_CSP = (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{_SCRIPT_HASH}'; "
        "connect-src 'none'; form-action 'none'; base-uri 'none'")


def write_report(folder: Path, summaries: Sequence[PlanSummary]) -> Path | None:
    """Write ``report.html`` into the run ``folder``; a failure to read the records is logged, not raised
    (the run's JSON files are written already, and a report is not worth failing a finished run over)."""
    if not summaries or not folder.is_dir():
        return None
    try:
        page = render_report(folder, summaries)
    except (OSError, sqlite3.Error) as exc:
        log.warning("report.html not written: %s", exc)
        return None
    path = folder / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    return path


def render_report(folder: Path, summaries: Sequence[PlanSummary]) -> str:
    """The whole page of a run whose plans are ``summaries`` (their folders are ``folder / summary.plan``)."""
    config = scrub_secrets(read_run_config(folder))  # redacted when written; a hand-edited file may not be
    model = config.get("model") or next((s for s in (_plan_model(folder, p) for p in summaries) if s), "")
    title = f"assay perf: {folder.name}"
    parts = [f"<h1>{escape(title)}</h1>",
             f'<p class="muted">model {_code(model)} · {len(summaries)} plan{"s" * (len(summaries) != 1)}'
             f'{_started(folder, summaries)}</p>']
    if len(summaries) > 1:
        parts.append("<nav>" + "".join(f'<a href="#{_anchor(s.plan)}">{escape(s.plan)}</a>' for s in summaries)
                     + "</nav>")
    parts.append(_config_section(config))
    if len(summaries) > 1:
        parts.append(_sweep_section(summaries))
    for summary in summaries:
        parts.append(_plan_section(folder / summary.plan, summary))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_CSS}{svg.CSS}</style></head><body>\n"
            + "\n".join(parts) + f"\n<script>{_SCRIPT}</script></body></html>\n")


# ---------------------------------------------------------------- cells and tables


def _num(value: float | int | None, unit: str = "") -> str:
    """Four significant figures (all of an integer), with the value converted to ``unit`` (ms: from s)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if unit == "ms":
        value = value * 1000
    if unit == "%":
        return f"{value:.1%}"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{significant_digits(value)}f}"


def _td(value: Any, unit: str = "", key: str | None = None) -> str:
    """A cell; numbers keep their exact value in ``data-value`` (for sorting, and for tests against the JSON)."""
    attrs = f' data-key="{escape(key)}"' if key else ""
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
        return f"<td{attrs}>{escape('-' if value is None else str(value))}</td>"
    if isinstance(value, float) and not math.isfinite(value):
        return f'<td class="n"{attrs}>-</td>'
    return f'<td class="n"{attrs} data-value="{value!r}">{escape(_num(value, unit))}</td>'


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], *, sortable: bool = False) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    cls = ' class="sortable"' if sortable else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(text: Any) -> str:
    return f"<code>{escape(str(text))}</code>"


def _anchor(plan: str) -> str:
    return "plan-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in plan)


def _config_value(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return " ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)


# ---------------------------------------------------------------- sections


def _plan_model(folder: Path, summary: PlanSummary) -> str:
    records = folder / summary.plan / RECORDS_FILE
    return read_meta(records).get("model", "") if records.is_file() else ""


def _started(folder: Path, summaries: Sequence[PlanSummary]) -> str:
    records = folder / summaries[0].plan / RECORDS_FILE
    started = read_meta(records).get("started") if records.is_file() else None
    return f" · started {escape(started)}" if started else ""


def _config_section(config: dict[str, Any]) -> str:
    if not config:
        return '<h2>Run config</h2><p class="muted">no config.yaml in the run folder</p>'
    rows = [(f"<th>{escape(key)}</th>", f"<td>{escape(_config_value(key, config[key]))}</td>")
            for key in _CONFIG_KEYS if key in config and config[key] not in (None, [], {}, "")]
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return ("<h2>Run config</h2><table><tbody>" + "".join(f"<tr>{k}{v}</tr>" for k, v in rows) + "</tbody></table>"
            f"<details><summary>config.yaml</summary><pre>{escape(text)}</pre></details>")


def _percentile(summary: PlanSummary, metric: str, key: str) -> float | None:
    return summary.percentiles.get(metric, {}).get(key)


def _sweep_section(summaries: Sequence[PlanSummary]) -> str:
    columns: list[tuple[str, Any]] = [
        ("Concurrency", lambda s: _td(s.parallel)), ("Rate (req/s)", lambda s: _td(s.rate)),
        ("Req/s", lambda s: _td(s.request_throughput_rps)), ("Output tok/s", lambda s: _td(s.output_throughput_tps)),
        ("Mean TTFT (ms)", lambda s: _td(s.mean_ttft_s, "ms")),
        ("P99 TTFT (ms)", lambda s: _td(_percentile(s, "ttft_s", "p99"), "ms")),
        ("Mean TPOT (ms)", lambda s: _td(s.mean_tpot_s, "ms")),
        ("P99 TPOT (ms)", lambda s: _td(_percentile(s, "tpot_s", "p99"), "ms")),
        ("Mean latency (s)", lambda s: _td(s.mean_latency_s)),
        ("P99 latency (s)", lambda s: _td(_percentile(s, "e2e_latency_s", "p99"))),
        ("Succeeded", lambda s: _td(s.succeeded_requests)), ("Failed", lambda s: _td(s.failed_requests)),
    ]
    if any(s.goodput_rps is not None for s in summaries):
        columns.append(("Goodput (req/s)", lambda s: _td(s.goodput_rps)))
    rows = [[f'<td><a href="#{_anchor(s.plan)}">{escape(s.plan)}</a></td>', *(cell(s) for _, cell in columns)]
            for s in summaries]
    table = _table(["Plan", *(name for name, _ in columns)], rows, sortable=True)
    return "<h2>Sweep</h2>" + table + "<div>" + "".join(sweep_charts(summaries)) + "</div>"


def sweep_charts(summaries: Sequence[PlanSummary]) -> list[str]:
    """Throughput and latency against the swept load (concurrency, or the rate of open-loop sweeps), as
    ``sweep.png`` draws them: log base 2 on x when the concurrencies span 8 times or more."""
    by_rate = all(s.rate is not None for s in summaries) and len({s.rate for s in summaries}) > 1
    x = [float(s.rate if by_rate else (s.parallel or 0)) for s in summaries]
    xlabel = "request rate (req/s)" if by_rate else "concurrency"
    log2_x = not by_rate and min(x) > 0 and max(x) / min(x) >= 8

    def line(label: str, values: list[float | None], dashed: bool = False) -> svg.Series:
        return svg.Series(label, x, values, dashed=dashed)

    def percentile_lines(metric: str, scale: float) -> list[svg.Series]:
        return [line(key, [None if (v := _percentile(s, metric, key)) is None else v * scale for s in summaries],
                     dashed=key != "p50") for key in ("p50", "p90", "p99")]

    options = dict(xlabel=xlabel, log2_x=log2_x, markers=True)
    return [
        svg.line_panel("Request throughput", [line("", [s.request_throughput_rps for s in summaries])],
                       ylabel="requests/s", **options),
        svg.line_panel("Output throughput", [line("", [s.output_throughput_tps for s in summaries])],
                       ylabel="output tokens/s", **options),
        svg.line_panel("TTFT", percentile_lines("ttft_s", 1000), ylabel="ms", **options),
        svg.line_panel("End-to-end latency", percentile_lines("e2e_latency_s", 1), ylabel="s", **options),
    ]


def _plan_section(plan_dir: Path, summary: PlanSummary) -> str:
    records = plan_dir / RECORDS_FILE
    have_records = records.is_file()
    title = summary.plan + (" (interrupted)" if summary.interrupted else "")
    if summary.repeats > 1:
        title += f" ({summary.repeats} repeats pooled)"
    parts = [f'<section id="{_anchor(summary.plan)}"><h2>{escape(title)}</h2>']
    parts += [f'<div class="warn">{escape(w)}</div>' for w in summary.health.warnings]
    parts.append('<div style="display:flex;gap:24px;flex-wrap:wrap"><div><h3>Summary</h3>'
                 + _summary_table(summary) + "</div><div><h3>Latency</h3>" + _latency_table(summary)
                 + _percentile_details(summary) + "</div></div>")
    repeats = _repeats_table(summary)
    if repeats:
        parts.append(f"<h3>Over {summary.repeats} repeats (mean and 95% t-interval)</h3>" + repeats)
    if summary.server is not None:
        parts.append(_server_section(summary))
    if have_records:
        times = read_times(records)
        histograms = _histograms(summary, times)
        if histograms:
            parts.append("<h3>Distributions (successful requests)</h3><div>" + "".join(histograms) + "</div>")
        series = read_server_metrics(records)
        if series:
            parts.append("<h3>Server and client over the plan</h3><div>"
                         + "".join(server_charts(series, times["done_s"][times["ok"] == 1])) + "</div>")
        parts.append(_errors_section(records))
        parts.append(_requests_section(records, summary))
    else:
        parts.append(f'<p class="muted">no {RECORDS_FILE} in {escape(plan_dir.name)}: no charts or requests</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _summary_table(summary: PlanSummary) -> str:
    s, health = summary, summary.health
    rows: list[tuple[str, str]] = [
        ("Duration (s)", _td(s.duration_s, key="duration_s")),
        ("Concurrency", _td(s.parallel, key="parallel")),
    ]
    if s.rate is not None:
        rows.append(("Request rate (req/s)", _td(s.rate, key="rate")))
    if s.trace_speed is not None:
        rows.append(("Trace replay speed", _td(s.trace_speed, key="trace_speed")))
    if s.workers > 1:
        rows.append(("Load-generator processes", _td(s.workers, key="workers")))
    rows += [
        ("Requests", _td(s.total_requests, key="total_requests")),
        ("Succeeded", _td(s.succeeded_requests, key="succeeded_requests")),
        ("Failed", _td(s.failed_requests, key="failed_requests")),
        ("Request throughput (req/s)", _td(s.request_throughput_rps, key="request_throughput_rps")),
    ]
    if s.goodput_rps is not None:
        slo = " ".join(f"{k}={v:g}" for k, v in s.slo_ms.items())
        rows.append((f"Goodput (req/s, {slo})", _td(s.goodput_rps, key="goodput_rps")))
    rows.append(("Input tokens/s", _td(s.input_throughput_tps, key="input_throughput_tps")))
    if s.api not in POOLING_APIS:
        rows += [("Output tokens/s", _td(s.output_throughput_tps, key="output_throughput_tps")),
                 ("Total tokens/s", _td(s.total_throughput_tps, key="total_throughput_tps")),
                 ("Mean output tokens", _td(s.mean_output_tokens, key="mean_output_tokens"))]
    rows += [("Mean input tokens", _td(s.mean_input_tokens, key="mean_input_tokens")),
             ("Token counts from (input / output)", _td(f"{s.input_token_source} / {s.output_token_source}"))]
    for label, key in (("Arrival lag p50 (ms)", "send_lag_p50_ms"), ("Arrival lag p99 (ms)", "send_lag_p99_ms"),
                       ("Arrival lag max (ms)", "send_lag_max_ms"), ("Event-loop lag p99 (ms)", "loop_lag_p99_ms"),
                       ("Client CPU mean", "cpu_mean_fraction")):
        value = getattr(health, key)
        if value is not None:
            rows.append((label, _td(value, "%" if key.startswith("cpu") else "", key=f"health.{key}")))
    return "<table><tbody>" + "".join(f"<tr><th>{escape(k)}</th>{v}</tr>" for k, v in rows) + "</tbody></table>"


_LATENCIES = (("TTFT", "ttft", "ttft_s", "ttft"), ("TPOT", "tpot", "tpot_s", None), ("ITL", "itl", "itl_s", None),
              ("Latency", "latency", "e2e_latency_s", "e2e"))


def _latency_table(summary: PlanSummary) -> str:
    view = summary.server
    gaps = view.client_minus_server_ms if view is not None else {}
    headers = ["Metric (ms)", "Mean", "p50", "p90", "p99"] + (["Client − server"] if gaps else [])
    rows = []
    for label, name, metric, server_key in _LATENCIES:
        mean = getattr(summary, f"mean_{name}_s")
        cells = [_td(_percentile(summary, metric, p), "ms", key=f"percentiles.{metric}.{p}")
                 for p in ("p50", "p90", "p99")]
        if mean is None and all(_percentile(summary, metric, p) is None for p in ("p50", "p90", "p99")):
            continue
        row = [f"<th>{escape(label)}</th>", _td(mean, "ms", key=f"mean_{name}_s"), *cells]
        if gaps:
            gap = gaps.get(server_key) if server_key else None
            row.append(_td(gap, key=f"server.client_minus_server_ms.{server_key}") if gap is not None else _td(None))
        rows.append(row)
    if not rows:
        return '<p class="muted">no successful request</p>'
    return _table(headers, rows)


def _percentile_details(summary: PlanSummary) -> str:
    metrics = PERCENTILE_METRICS
    if summary.api in POOLING_APIS:
        metrics = tuple(m for m in metrics if m in ("e2e_latency_s", "input_tokens", "total_throughput_tps"))
    keys = list(summary.percentiles.get(metrics[0], {}))
    rows = [[f"<th>{escape(key)}</th>",
             *(_td(_percentile(summary, m, key), "ms" if m.endswith("_s") and m != "e2e_latency_s" else "")
               for m in metrics)] for key in keys]
    headers = ["Percentile", *(m.replace("_s", " (ms)") if m.endswith("_s") and m != "e2e_latency_s"
                               else m.replace("_s", " (s)") if m.endswith("_s") else m for m in metrics)]
    return "<details><summary>All percentiles</summary>" + _table(headers, rows) + "</details>"


def _repeats_table(summary: PlanSummary) -> str:
    if summary.repeats < 2 or not summary.repeat_stats:
        return ""
    rows = []
    for metric in REPEAT_METRICS:
        stat = summary.repeat_stats.get(metric.key)
        if stat is None or stat.mean is None:
            continue
        spread = None
        if stat.ci95_high is not None and stat.mean:
            spread = (stat.ci95_high - stat.mean) / abs(stat.mean)
        values = " ".join(_num(v) for v in stat.values)
        rows.append([f"<th>{escape(metric.label)}</th>", _td(stat.mean, key=f"repeat_stats.{metric.key}.mean"),
                     _td(stat.ci95_low, key=f"repeat_stats.{metric.key}.ci95_low"),
                     _td(stat.ci95_high, key=f"repeat_stats.{metric.key}.ci95_high"),
                     _td(spread, "%") if spread is not None else _td(None), f"<td>{escape(values)}</td>"])
    return _table(["Metric", "Mean", "95% low", "95% high", "±", "Per repeat"], rows)


def _server_section(summary: PlanSummary) -> str:
    view = summary.server
    assert view is not None
    url = redact_url(view.url) or ""
    parts = [f"<h3>Server's own metrics</h3><p>{escape(view.kind)}, {view.scrapes} reads of {_code(url)}</p>"]
    rows = []
    names = {"ttft": "TTFT", "tpot": "TPOT", "e2e": "End-to-end", "queue": "Queue time"}
    for key, latency in view.latency.items():
        gap = view.client_minus_server_ms.get(key)
        rows.append([f"<th>{escape(names.get(key, key))}</th>", _td(latency.count),
                     _td(latency.mean_s, "ms", key=f"server.latency.{key}.mean_s"),
                     *(_td(getattr(latency, f"{p}_s"), "ms") for p in ("p50", "p90", "p99")),
                     _td(gap, key=f"server.client_minus_server_ms.{key}") if gap is not None else _td(None)])
    if rows:
        parts.append(_table(["Server latency (ms)", "Requests", "Mean", "p50", "p90", "p99", "Client − server"],
                            rows))
    gauges = [("Running requests (mean / max)", view.mean_running, view.max_running, ""),
              ("Waiting requests (mean / max)", view.mean_waiting, view.max_waiting, ""),
              ("KV-cache usage (mean / max)", view.mean_kv_cache_usage, view.max_kv_cache_usage, "%")]
    gauge_rows = [[f"<th>{escape(label)}</th>", _td(mean, unit), _td(top, unit)]
                  for label, mean, top, unit in gauges if mean is not None]
    if view.prefix_cache_hit_rate is not None:
        gauge_rows.append(["<th>Prefix-cache hit rate</th>", _td(view.prefix_cache_hit_rate, "%"), _td(None)])
    if view.preemptions is not None:
        gauge_rows.append(["<th>Preemptions</th>", _td(view.preemptions), _td(None)])
    if gauge_rows:
        parts.append(_table(["Server gauge", "Mean", "Max"], gauge_rows))
    return "".join(parts)


def _histograms(summary: PlanSummary, times: dict[str, np.ndarray]) -> list[str]:
    ok = times["ok"] == 1
    panels = [("TTFT", "ttft_s", "ttft_s", 1000, "ms"), ("TPOT", "tpot_s", "tpot_s", 1000, "ms"),
              ("End-to-end latency", "latency_s", "e2e_latency_s", 1, "s")]
    if summary.api in POOLING_APIS:
        panels = panels[2:]
    out = []
    for title, column, metric, scale, unit in panels:
        values = times[column][ok] * scale
        values = values[np.isfinite(values)]
        if not values.size:
            continue
        counts, edges = np.histogram(values, bins=_HIST_BINS if np.ptp(values) > 0 else 1)
        marks = [(p, v * scale) for p in ("p50", "p99") if (v := _percentile(summary, metric, p)) is not None]
        out.append(svg.histogram_panel(title, [float(e) for e in edges], [int(c) for c in counts], xlabel=unit,
                                       marks=marks))
    return out


def server_charts(series: Sequence[tuple[float, str, float]], done_s: np.ndarray) -> list[str]:
    """The server's requests running and waiting and its KV-cache usage over the plan, and the client's
    completed requests per second (finish times binned; wider bins past 1000 of them)."""
    by_quantity: dict[str, tuple[list[float], list[float]]] = {}
    for t_s, quantity, value in series:
        xs, ys = by_quantity.setdefault(quantity, ([], []))
        xs.append(float(t_s))
        ys.append(float(value))
    xlabel = "seconds from the plan's start"
    lines = [svg.Series(f"requests {q}", *svg.thin(*by_quantity[q]), step=True) for q in ("running", "waiting")
             if q in by_quantity]
    out = [svg.line_panel("Server: requests", lines, xlabel=xlabel, ylabel="requests")]
    if "kv_cache" in by_quantity:
        out.append(svg.line_panel("Server: KV-cache usage", [svg.Series("", *svg.thin(*by_quantity["kv_cache"]))],
                                  xlabel=xlabel, ylabel="fraction", y_max=1.0))
    done = done_s[np.isfinite(done_s)]
    if done.size:
        width = max(1.0, math.ceil(float(done.max()) / 1000))
        edges = np.arange(0.0, float(done.max()) + width, width)
        counts, _ = np.histogram(done, bins=edges)
        label = "per second" if width == 1 else f"per second ({width:g} s bins)"
        rates = [float(c) / width for c in counts]
        out.append(svg.line_panel("Client: completed requests", [svg.Series(  # the last bin held to its end
            "", [float(e) for e in edges], rates + rates[-1:], step=True)], xlabel=xlabel, ylabel=label))
    return out


def _errors_section(records: Path) -> str:
    tally = read_failures(records)
    if not tally.total:
        return ""
    rows = [[f"<td>{escape(label)}</td>", _td(count),
             f'<td class="msg">{escape(_shorten(tally.first_message[label]))}</td>']
            for label, count in sorted(tally.counts.items(), key=lambda item: -item[1])]
    return (f"<h3>Errors: {tally.total} of {tally.requests} requests failed</h3>"
            + _table(["Kind", "Requests", "First message from the server"], rows))


def _shorten(text: str, width: int = 1000) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _requests_section(records: Path, summary: PlanSummary) -> str:
    rows = read_notable_requests(records, REQUEST_ROWS, MESSAGE_CHARS)
    if not rows:
        return ""
    repeats = summary.repeats > 1
    failed = sum(1 for r in rows if not r["ok"])
    headers = ["Request", *(["Repeat"] if repeats else []), "Worker", "Prompt", "Turn", "Start (s)", "Status",
               "TTFT (ms)", "TPOT (ms)", "Latency (s)", "In tokens", "Out tokens", "Finish", "Response id",
               *(["Message"] if failed else [])]
    body = []
    for r in rows:
        status = "ok" if r["ok"] else " ".join(str(v) for v in (r["error_kind"], r["error_status"]) if v is not None)
        body.append([_td(r["request_index"]), *([_td(r["repeat"])] if repeats else []), _td(r["worker"]),
                     _td(r["prompt_index"]), _td(r["turn"]), _td(r["start_s"]), _td(status or "failed"),
                     _td(r["ttft_s"], "ms"), _td(r["tpot_s"], "ms"), _td(r["latency_s"]), _td(r["input_tokens"]),
                     _td(r["output_tokens"]), _td(r["finish_reason"]), _td(r["response_id"]),
                     *([f'<td class="msg">{escape(r["error_message"] or "")}</td>'] if failed else [])])
    note = (f"{failed} failed (the first ones) and {len(rows) - failed} slowest successful of "
            f"{summary.total_requests} requests; click a header to sort")
    return f'<h3>Requests worth a look</h3><p class="muted">{escape(note)}</p>' + _table(headers, body, sortable=True)
