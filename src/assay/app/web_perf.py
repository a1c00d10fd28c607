"""The workbench's Perf view: perf runs (``outputs/perf/<run>``), one run's plans, several runs overlaid.

It reads what ``assay perf`` wrote, through the viewer's readers (:mod:`assay.app.perf_think`: ``sweep.json``
or each plan's ``summary.json``) and the perf package's own helpers (``read_run_config``, ``plan_folders``),
and draws its charts with :mod:`assay.perf.svg`, the inline SVG the perf HTML report uses, so the page needs
no plotting library and no request beyond this server. The per-request table pages and sorts in SQL over a
read-only connection to ``records.sqlite`` (``mode=ro``: a page can never write to a run, even while it is
still being written); sort columns come from a fixed list, never from the URL as text. Server error messages
are run data: escaped like every other text. The config shown is ``config.yaml`` with credentials scrubbed
again (it is written redacted; a hand-edited one may not be).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlencode

import yaml

from assay.app.perf_think import PerfRun, list_perf_runs, perf_label, read_perf_run
from assay.app.readers import Outputs
from assay.app.web_compare import VIEWS_CSS
from assay.app.web_html import h, page
from assay.client.config import scrub_secrets
from assay.errors import ConfigError
from assay.perf import svg
from assay.perf.finish import RECORDS_FILE, plan_folders, read_run_config
from assay.perf.summary import PlanSummary

REQUEST_PAGE = 50
MESSAGE_CHARS = 2000
MAX_OVERLAY = 6
# Columns the requests table may be sorted by: URL value -> SQL column (nothing else reaches the query).
SORTS = {"index": "request_index", "start": "start_s", "ttft": "ttft_s", "tpot": "tpot_s", "latency": "latency_s",
         "in": "input_tokens", "out": "output_tokens", "status": "ok", "worker": "worker"}
_LATENCIES = (("TTFT", "ttft_s"), ("TPOT", "tpot_s"), ("ITL", "itl_s"))
_PERCENTILES = ("p50", "p90", "p99")
SVG_CSS_PATH = "/assets/svg.css"


# ---- data -------------------------------------------------------------------------------------------------


def perf_run(outputs: Outputs, run_id: str) -> PerfRun:
    """A listed perf run (``ConfigError`` for any other folder)."""
    if run_id not in list_perf_runs(outputs):
        raise ConfigError(f"{run_id!r}: no such perf run")
    return read_perf_run(outputs, run_id)


def run_config(outputs: Outputs, run_id: str) -> dict[str, Any]:
    return scrub_secrets(read_run_config(outputs.path(run_id)))


@dataclass(frozen=True)
class RequestsQuery:
    run: str
    plan: str = ""
    sort: str = "index"
    descending: bool = False
    errors_only: bool = False
    page: int = 1

    @classmethod
    def parse(cls, params: Any) -> RequestsQuery:
        try:
            number = max(1, int(params.get("page", "1")))
        except ValueError:
            number = 1
        sort = params.get("sort", "index")
        return cls(params.get("run", ""), params.get("plan", ""), sort if sort in SORTS else "index",
                   params.get("desc", "") == "1", params.get("errors", "") == "1", number)

    def url(self, **changes: Any) -> str:
        state = replace(self, **changes)
        pairs = [("run", state.run), ("plan", state.plan), ("sort", "" if state.sort == "index" else state.sort),
                 ("desc", "1" if state.descending else ""), ("errors", "1" if state.errors_only else ""),
                 ("page", "" if state.page == 1 else str(state.page))]
        return "/perf/run?" + urlencode([(k, v) for k, v in pairs if v]) + "#requests"


@dataclass(frozen=True)
class RequestsPage:
    plan: str
    rows: list[dict[str, Any]]
    page: int
    pages: int
    matching: int
    total: int


def _read_only(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    db.row_factory = sqlite3.Row
    return db


def requests_page(outputs: Outputs, query: RequestsQuery, plans: Sequence[str]) -> RequestsPage | None:
    """One page of a plan's requests, sorted in SQL (blanks last, then by id); None when it has no records."""
    folder = outputs.path(query.run)
    found = {p.name: p for p in plan_folders(folder)}
    plan = query.plan or next((p for p in plans if p in found), next(iter(found), ""))
    if query.plan and query.plan not in found:
        raise ConfigError(f"{query.plan!r}: no such plan with records in {query.run}")
    if not plan or not (found[plan] / RECORDS_FILE).is_file():
        return None
    outputs.path(f"{query.run}/{plan}/{RECORDS_FILE}")  # refuses a records file that is a link out of the folder
    column = SORTS[query.sort]
    where = " WHERE ok = 0" if query.errors_only else ""
    db = _read_only(found[plan] / RECORDS_FILE)
    try:
        total = db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        matching = db.execute(f"SELECT COUNT(*) FROM requests{where}").fetchone()[0]
        pages = max(1, math.ceil(matching / REQUEST_PAGE))
        number = min(query.page, pages)
        order = "DESC" if query.descending else "ASC"
        rows = [dict(r) for r in db.execute(
            f"SELECT id, request_index, worker, prompt_index, turn, start_s, ok, error_kind, error_status, "
            f"substr(error_message, 1, {MESSAGE_CHARS}) AS error_message, ttft_s, tpot_s, latency_s, input_tokens, "
            f"output_tokens, finish_reason FROM requests{where} ORDER BY ({column} IS NULL), {column} {order}, id "
            "LIMIT ? OFFSET ?", (REQUEST_PAGE, (number - 1) * REQUEST_PAGE))]
    except sqlite3.Error as exc:
        raise ConfigError(f"{query.run}/{plan}/{RECORDS_FILE}: cannot be read ({exc})") from None
    finally:
        db.close()
    return RequestsPage(plan, rows, number, pages, matching, total)


# ---- charts -----------------------------------------------------------------------------------------------


def _percentile(summary: PlanSummary, metric: str, key: str) -> float | None:
    return summary.percentiles.get(metric, {}).get(key)


def _load_axis(all_summaries: Sequence[PlanSummary]) -> tuple[bool, str, bool]:
    """Whether load is the request rate (open-loop sweeps) or the concurrency, its label, and log2 spacing."""
    by_rate = all(s.rate is not None for s in all_summaries) and len({s.rate for s in all_summaries}) > 1
    xs = [float(s.rate if by_rate else (s.parallel or 0)) for s in all_summaries]
    log2_x = not by_rate and bool(xs) and min(xs) > 0 and max(xs) / min(xs) >= 8
    return by_rate, "request rate (req/s)" if by_rate else "concurrency", log2_x


def perf_charts(runs: Sequence[tuple[str, Sequence[PlanSummary]]]) -> list[str]:
    """Throughput, goodput and TTFT / TPOT / ITL percentiles against load. One run: a line per percentile.
    Several: a line per run, one panel per percentile (p50, p99)."""
    every = [s for _, summaries in runs for s in summaries]
    if not every:
        return []
    by_rate, xlabel, log2_x = _load_axis(every)
    options = dict(xlabel=xlabel, log2_x=log2_x, markers=True)

    def xs(summaries: Sequence[PlanSummary]) -> list[float]:
        return [float(s.rate if by_rate else (s.parallel or 0)) for s in summaries]

    def per_run(label: str, value: Any) -> list[svg.Series]:
        return [svg.Series(name if len(runs) > 1 else "", xs(summaries), [value(s) for s in summaries])
                for name, summaries in runs]

    panels = [svg.line_panel("Request throughput", per_run("", lambda s: s.request_throughput_rps),
                             ylabel="requests/s", **options),
              svg.line_panel("Output throughput", per_run("", lambda s: s.output_throughput_tps),
                             ylabel="output tokens/s", **options)]
    if any(s.goodput_rps is not None for s in every):
        panels.append(svg.line_panel("Goodput (within the SLOs)", per_run("", lambda s: s.goodput_rps),
                                     ylabel="requests/s", **options))

    def ms(value: float | None) -> float | None:
        return None if value is None else value * 1000

    for label, metric in _LATENCIES:
        if len(runs) == 1:
            _, summaries = runs[0]
            series = [svg.Series(key, xs(summaries), [ms(_percentile(s, metric, key)) for s in summaries],
                                 dashed=key != "p50") for key in _PERCENTILES]
            panels.append(svg.line_panel(label, series, ylabel="ms", **options))
        else:
            for key in ("p50", "p99"):
                panels.append(svg.line_panel(f"{label} {key}", per_run(
                    "", lambda s, metric=metric, key=key: ms(_percentile(s, metric, key))), ylabel="ms", **options))
    return panels


# ---- HTML -------------------------------------------------------------------------------------------------


def _num(value: Any, scale: float = 1.0, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return '<td class="num">–</td>'
    text = f"{value:,}" if isinstance(value, int) and scale == 1 else f"{value * scale:,.{digits}f}"
    return f'<td class="num" data-value="{value!r}">{text}</td>'


def _summary_table(summaries: Sequence[PlanSummary], run_id: str | None, table_id: str) -> str:
    head = ("<tr><th>Plan</th><th>Concurrency</th><th>Rate</th><th>Requests</th><th>OK</th><th>Failed</th>"
            "<th>Req/s</th><th>Output tok/s</th><th>Goodput req/s</th>" +
            "".join(f"<th>{label} {p} (ms)</th>" for label, _ in _LATENCIES for p in _PERCENTILES) + "</tr>")
    rows = []
    for s in summaries:
        name = h(s.plan) + (' <span class="badge warn">interrupted</span>' if s.interrupted else "")
        if run_id is not None:
            link = h(RequestsQuery(run_id, s.plan).url())
            name = f'<a href="{link}">{name}</a>'
        cells = [_num(s.parallel), _num(s.rate), _num(s.total_requests), _num(s.succeeded_requests),
                 _num(s.failed_requests), _num(s.request_throughput_rps), _num(s.output_throughput_tps),
                 _num(s.goodput_rps)]
        cells += [_num(_percentile(s, metric, p), 1000) for _, metric in _LATENCIES for p in _PERCENTILES]
        rows.append(f'<tr class="plan-row" data-plan="{h(s.plan)}"><td>{name}</td>{"".join(cells)}</tr>')
    return (f'<table id="{h(table_id)}" class="grid perf-summary"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _charts(panels: list[str]) -> str:
    return f'<link rel="stylesheet" href="{SVG_CSS_PATH}"><div class="charts">{"".join(panels)}</div>'


def _requests_table(query: RequestsQuery, found: RequestsPage, plans: Sequence[str]) -> str:
    query = replace(query, plan=found.plan)
    heads = [("index", "request"), ("worker", "worker"), ("start", "start (s)"), ("status", "status"),
             ("ttft", "TTFT (ms)"), ("tpot", "TPOT (ms)"), ("latency", "latency (s)"), ("in", "in tokens"),
             ("out", "out tokens")]
    cells = []
    for key, label in heads:
        descending = not query.descending if key == query.sort else False
        mark = (" ▼" if query.descending else " ▲") if key == query.sort else ""
        href = h(query.url(sort=key, descending=descending, page=1))
        cells.append(f'<th><a class="sort" data-sort="{key}" href="{href}">'
                     f"{h(label)}{mark}</a></th>")
    rows = []
    for r in found.rows:
        if r["ok"]:
            status = '<span class="badge status-correct">ok</span>'
        else:
            code = " ".join(str(v) for v in (r["error_kind"], r["error_status"]) if v is not None) or "failed"
            status = f'<span class="badge status-error">{h(code)}</span>'
        message = f'<tr class="error-row"><td colspan="10"><pre class="text error-message">{h(r["error_message"])}' \
                  "</pre></td></tr>" if not r["ok"] and r["error_message"] else ""
        rows.append(f'<tr class="request-row" data-index="{h(r["request_index"])}">{_num(r["request_index"])}'
                    f'{_num(r["worker"])}{_num(r["start_s"], digits=3)}<td>{status}</td>{_num(r["ttft_s"], 1000)}'
                    f'{_num(r["tpot_s"], 1000)}{_num(r["latency_s"], digits=3)}{_num(r["input_tokens"])}'
                    f'{_num(r["output_tokens"])}<td>{h(r["finish_reason"])}</td></tr>{message}')
    body = "".join(rows) or '<tr><td colspan="10" class="empty">No request matches.</td></tr>'
    options = "".join(f'<option value="{h(p)}"{" selected" if p == found.plan else ""}>{h(p)}</option>'
                      for p in plans)
    form = (f'<form id="requests-form" method="get" action="/perf/run"><input type="hidden" name="run" '
            f'value="{h(query.run)}"><label>Plan <select name="plan">{options}</select></label>'
            f'<label><input type="checkbox" name="errors" value="1"{" checked" if query.errors_only else ""}> '
            f"failed only</label><button type=\"submit\">Show</button></form>")

    def step(number: int, label: str) -> str:
        if number < 1 or number > found.pages or number == found.page:
            return f'<span class="off">{label}</span>'
        return f'<a href="{h(query.url(page=number))}" data-page="{number}">{label}</a>'

    pager = (f'<nav class="pager">{step(1, "« first")}{step(found.page - 1, "‹ prev")}<span class="at">page '
             f'{found.page} of {found.pages}</span>{step(found.page + 1, "next ›")}'
             f'{step(found.pages, "last »")}</nav>')
    return (f'<section id="requests"><h2>Requests of {h(found.plan)}</h2>{form}<p class="list-info" '
            f'id="requests-info">{found.matching} of {found.total} requests</p><table id="requests-table" '
            f'class="grid requests"><thead><tr>{"".join(cells)}<th>finish</th></tr></thead><tbody>{body}</tbody>'
            f"</table>{pager}</section>")


def run_page(outputs: Outputs, query: RequestsQuery) -> str:
    """One perf run: its plans, charts against load, the requests of one plan and its config."""
    run = perf_run(outputs, query.run)
    parts = [VIEWS_CSS + '<p class="crumbs"><a href="/">Runs</a> / <a href="/perf">Perf</a> / '
             f'<b>{h(run.run_id)}</b></p>',
             f"<h1>{h(perf_label(run.run_id))}</h1>"]
    if run.incomplete:
        parts.append(f'<p class="warning">Plans without a summary: {h(", ".join(run.unsummarised))} (killed or still '
                     f"running); <code>assay perf rebuild {h(outputs.path(run.run_id))}</code> writes them.</p>")
    if run.plans:
        parts.append(_summary_table(run.plans, run.run_id, "perf-summary"))
        parts.append(_charts(perf_charts([(perf_label(run.run_id), run.plans)])))
    # The plans in the order they ran, then any without a summary yet (killed, or still running): their records
    # can be read all the same.
    names = list(dict.fromkeys([s.plan for s in run.plans] + [p.name for p in plan_folders(outputs.path(run.run_id))]))
    found = requests_page(outputs, query, names)
    if found is not None:
        parts.append(_requests_table(query, found, names))
    config = run_config(outputs, run.run_id)
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True) if config else "(no config.yaml)"
    parts.append(f'<h2>Run config</h2><pre class="text config" id="run-config">{h(text)}</pre>')
    return page(perf_label(run.run_id), "".join(parts), "perf")


def list_page(outputs: Outputs, chosen: Sequence[str]) -> str:
    """The perf runs, with a form to overlay several; with ``chosen`` (runs=a,b) their plans and charts together."""
    if len(chosen) > MAX_OVERLAY:
        raise ConfigError(f"at most {MAX_OVERLAY} perf runs at once")
    runs = [perf_run(outputs, run_id) for run_id in chosen]
    parts = [VIEWS_CSS + '<p class="crumbs"><a href="/">Runs</a> / Perf</p>']
    if runs:
        parts.append(_charts(perf_charts([(perf_label(r.run_id), r.plans) for r in runs])))
        for k, r in enumerate(runs):
            link = h(RequestsQuery(r.run_id).url().split("#")[0])
            parts.append(f'<h2><a href="{link}">{h(r.run_id)}</a></h2>' + _summary_table(r.plans, r.run_id,
                                                                                        f"perf-summary-{k}"))
    listed = list_perf_runs(outputs)
    if not listed:
        parts.append(f'<p class="empty">No perf runs under <code>{h(outputs.root / "perf")}</code> yet.</p>')
        return page("Perf", "".join(parts), "perf")
    rows = []
    for i, run_id in enumerate(listed):
        try:
            run = read_perf_run(outputs, run_id)
        except (ConfigError, OSError):
            continue
        best = max((s.output_throughput_tps or 0 for s in run.plans), default=None)
        state = '<span class="badge warn">incomplete</span>' if run.incomplete else ""
        checked = " checked" if run_id in chosen else ""
        link = h(RequestsQuery(run_id).url().split("#")[0])
        rows.append(f'<tr class="perf-run" data-run="{h(run_id)}"><td><input type="checkbox" name="run" '
                    f'value="{h(run_id)}" id="perf-{i}"{checked}></td><td><a href="{link}">{h(run_id)}</a> {state}</td>'
                    f'<td class="num">{len(run.plans)}</td>{_num(best)}</tr>')
    parts.append('<h2>Perf runs</h2><form id="perf-pick" method="get" action="/perf"><table id="perf-runs" '
                 'class="grid"><thead><tr><th></th><th>Run</th><th>Plans</th><th>Best output tok/s</th></tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table><button type="submit">Overlay the chosen runs</button></form>')
    return page("Perf", "".join(parts), "perf")


def chosen_runs(params: Any) -> list[str]:
    names = [n.strip() for n in params.get("runs", "").split(",") if n.strip()]
    names += [n for n in (params.getlist("run") if hasattr(params, "getlist") else []) if n]
    return list(dict.fromkeys(names))
