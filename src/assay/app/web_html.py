"""The web workbench's HTML, rendered on the server from the records of ``assay.app.web_data``.

Every text that comes from a run (model answers, reasoning, prompts, ids, folder names, server messages) goes
through :func:`h` and lands in a ``<pre>`` or a table cell as text: a ``<script>`` in an answer is shown, never
run (the Content-Security-Policy set by ``assay.app.web`` would refuse it anyway). The pages work without
JavaScript; ``static/web.js`` only makes the samples page fetch its list and detail fragments in place, and
``static/render.js`` shows the texts in a ``<div class="rich">`` (answers, reasoning, prompts, judge notes) as
sanitized markdown with math, keeping the escaped ``<pre>`` as the raw view.
"""

from __future__ import annotations

import html
from typing import Any, Iterable
from urllib.parse import parse_qsl, quote, urlencode

import orjson

from assay.app.web_data import (
    STATUS_LABELS,
    BenchmarkLine,
    ListPage,
    Neighbour,
    RunLine,
    SampleDetail,
    SamplesQuery,
)
from assay.types import Completion, SampleResult, Score
from assay.types.report import BenchmarkReport


def h(value: Any) -> str:
    """``value`` as HTML text (quotes escaped too, so it is safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _duration(value: float | None) -> str:
    if value is None:
        return ""
    minutes, seconds = divmod(int(round(value)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


# The vendored renderers (static/vendor/VENDOR.md), in load order; render.js uses them, web.js calls render.js.
RENDER_CSS = ("vendor/katex/katex.min.css", "vendor/highlight/github.min.css")
RENDER_JS = ("vendor/markdown-it/markdown-it.min.js", "vendor/dompurify/purify.min.js", "vendor/katex/katex.min.js",
             "vendor/highlight/highlight.min.js", "render.js")


def page(title: str, body: str, kind: str) -> str:
    """A whole page around ``body`` (already HTML); only the samples page loads the renderers."""
    styles = "".join(f'<link rel="stylesheet" href="/static/{name}">' for name in RENDER_CSS) \
        if kind == "samples" else ""
    scripts = "".join(f'<script src="/static/{name}" defer></script>' for name in RENDER_JS) \
        if kind == "samples" else ""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{h(title)} · assay</title>{styles}<link rel="stylesheet" href="/static/web.css">'
            f'{scripts}<script src="/static/web.js" defer></script></head>'
            f'<body data-kind="{h(kind)}"><header class="top"><a class="brand" href="/">assay</a>'
            f'<span class="where">{h(title)}</span></header><main>{body}</main></body></html>\n')


def error_page(status: int, message: str) -> str:
    return page(f"{status}", f'<p class="error-page">{h(message)}</p><p><a href="/">All runs</a></p>', "error")


# ---- runs -------------------------------------------------------------------------------------------------


def _score_cell(line: BenchmarkLine) -> str:
    if line.score is None:
        return '<span class="muted">no report</span>'
    spread = f' <span class="pm">± {line.stderr:.3f}</span>' if line.stderr is not None else ""
    ci = (f' <span class="ci" title="95% interval">[{line.ci95[0]:.3f}, {line.ci95[1]:.3f}]</span>'
          if line.ci95 else "")
    return f'<span class="score">{line.score:.3f}</span>{spread}{ci} <span class="muted">{h(line.metric)}</span>'


def _samples_href(run_id: str, bench: str) -> str:
    return "/samples?" + h(SamplesQuery(run_id, bench).url_params())


def runs_page(runs: list[RunLine], root: str, launch: bool = False) -> str:
    launch_links = (' · <a href="/launch?kind=eval" id="launch-link">launch a run</a> · '
                    '<a href="/jobs">launched runs</a>' if launch else "")
    if not runs:
        empty = f'<p class="empty">No eval runs under <code>{h(root)}</code> yet.{launch_links}</p>'
        return page("Runs", empty, "runs")
    rows = []
    for run in runs:
        lines = run.benchmarks or [BenchmarkLine("–", None, None, None, None, None, None, None, None, False)]
        span = f' rowspan="{len(lines)}"' if len(lines) > 1 else ""
        run_href = "/run?" + h(SamplesQuery(run.run_id, "").url_params())
        for i, line in enumerate(lines):
            cells = []
            if i == 0:
                cells.append(f'<td{span}><a class="run-link" href="{run_href}">{h(run.model)}</a>'
                             f'<div class="muted small">{h(run.run_id)}</div></td>')
            bench = (f'<a href="{_samples_href(run.run_id, line.name)}">{h(line.name)}</a>' if line.has_predictions
                     else h(line.name))
            failed = "" if line.failed is None else str(line.failed)
            truncated = "" if line.truncated is None else str(line.truncated)
            cells += [f"<td>{bench}</td>", f"<td>{_score_cell(line)}</td>",
                      f'<td class="num">{"" if line.samples is None else line.samples}</td>',
                      f'<td class="num{" warn" if line.failed else ""}">{failed}</td>',
                      f'<td class="num{" warn" if line.truncated else ""}">{truncated}</td>']
            if i == 0:
                cells += [f'<td{span}><span class="status status-{h(run.status)}">{h(run.status)}</span></td>',
                          f'<td{span}>{h(run.started.replace("T", " "))}'
                          f'<div class="muted small">{h(_duration(run.duration_s))}</div></td>']
            rows.append(f'<tr class="run-row" data-href="{run_href}">{"".join(cells)}</tr>')
    table = ('<table id="runs-table" class="grid"><thead><tr><th>Model</th><th>Benchmark</th><th>Score</th>'
             '<th>Samples</th><th>Failed</th><th>Truncated</th><th>Status</th><th>Started</th></tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table>')
    note = (f'<p class="muted">{len(runs)} runs under <code>{h(root)}</code> · <a href="/compare">compare runs</a>'
            f' · <a href="/perf">perf runs</a> · <a href="/dashboard">dashboard</a> · <a href="/think">think</a>'
            f'{launch_links}</p>')
    return page("Runs", note + table, "runs")


def run_page(run: RunLine, reports: dict[str, BenchmarkReport]) -> str:
    head = (f'<h1>{h(run.model)}</h1><p class="muted"><code>{h(run.run_id)}</code> · '
            f'<span class="status status-{h(run.status)}">{h(run.status)}</span> · started '
            f'{h(run.started.replace("T", " "))} {h(_duration(run.duration_s))} · {export_link(run.run_id)} · '
            f'<a class="setup-link" href="/run/setup?{h(urlencode({"run": run.run_id}))}">protocol and config</a></p>')
    if run.error:
        head += f'<pre class="server-error">{h(run.error)}</pre>'
    sections = []
    for line in run.benchmarks:
        report = reports.get(line.name)
        link = (f' <a class="open-samples" href="{_samples_href(run.run_id, line.name)}">samples →</a>'
                if line.has_predictions else "")
        body = f"<h2>{h(line.name)}{link}</h2><p>{_score_cell(line)}</p>"
        if report is not None:
            facts = [("samples", report.num), ("repeats", report.repeats), ("failed", report.failed_samples),
                     ("failed scored as", report.failed_scored_as), ("truncated", report.truncated_answers),
                     ("unfinished reasoning", report.unfinished_reasoning), ("no answer", report.no_answer)]
            body += "".join(f'<span class="chip">{h(k)}: {h(v)}</span>' for k, v in facts)
            if report.protocol:
                body += f'<pre class="protocol">{h(report.protocol)}</pre>'
            metrics = sorted({m for s in report.subsets for m in s.metrics})
            if report.subsets:
                header = "".join(f"<th>{h(m)}</th>" for m in metrics)
                rows = "".join(
                    f'<tr><td>{h(s.name)}</td><td class="num">{s.num}</td>' +
                    "".join(f'<td class="num">{_number(s.metrics[m].score if m in s.metrics else None)}</td>'
                            for m in metrics) + "</tr>" for s in report.subsets)
                body += (f'<table class="grid subsets"><thead><tr><th>Subset</th><th>n</th>{header}</tr></thead>'
                         f"<tbody>{rows}</tbody></table>")
        sections.append(f'<section class="bench">{body}</section>')
    return page(run.model, head + "".join(sections), "run")


# ---- samples ----------------------------------------------------------------------------------------------


def _options(values: Iterable[tuple[str, str]], chosen: str) -> str:
    return "".join(f'<option value="{h(v)}"{" selected" if v == chosen else ""}>{h(label)}</option>'
                   for v, label in values)


def _field_error(name: str, errors: dict[str, str]) -> str:
    message = errors.get(name, "")
    return f'<span class="field-error" id="{name}-error" role="alert">{h(message)}</span>'


def filters_form(query: SamplesQuery, listing: ListPage) -> str:
    subsets = [("", "all")] + [(s, s) for s in listing.subsets]
    if query.subset and query.subset not in listing.subsets:
        subsets.append((query.subset, query.subset))
    bad_min = " invalid" if "min" in listing.errors else ""
    return (f'<form id="filters" method="get" action="/samples"><input type="hidden" name="run" value="{h(query.run)}">'
            f'<input type="hidden" name="bench" value="{h(query.bench)}">'
            f'<label>Status <select name="status">{_options(STATUS_LABELS.items(), query.status)}</select>'
            f'{_field_error("status", listing.errors)}</label>'
            f'<label>Subset <select name="subset">{_options(subsets, query.subset)}</select></label>'
            f'<label>{h(listing.metric)} ≥ <input name="min" class="min{bad_min}" inputmode="decimal" size="6" '
            f'value="{h(query.min_score)}" autocomplete="off">{_field_error("min", listing.errors)}</label>'
            f'<label class="grow">Search <input type="search" name="q" value="{h(query.text)}" '
            f'placeholder="prompt, answer, reasoning, id" autocomplete="off"></label>'
            f'<button type="submit" class="apply">Apply</button></form>')


def _status_badge(status: str) -> str:
    return f'<span class="badge status-{h(status)}">{h(STATUS_LABELS.get(status, status))}</span>'


def _pager(query: SamplesQuery, listing: ListPage) -> str:
    def link(number: int, label: str) -> str:
        if number < 1 or number > listing.pages or number == listing.page:
            return f'<span class="off">{label}</span>'
        return f'<a href="/samples?{h(query.url_params(page=number, row=None))}" data-page="{number}">{label}</a>'

    state = "".join(f'<input type="hidden" name="{name}" value="{h(value)}">'
                    for name, value in parse_qsl(query.url_params(page=None, row=None)))
    goto = (f'<form class="goto" method="get" action="/samples">{state}<label>go to # <input name="goto" '
            f'type="number" min="1" size="6" autocomplete="off"></label></form>')
    return (f'<nav class="pager">{link(1, "« first")}{link(listing.page - 1, "‹ prev")}'
            f'<span class="at">page {listing.page} of {listing.pages}</span>'
            f'{link(listing.page + 1, "next ›")}{link(listing.pages, "last »")}{goto}</nav>')


def list_fragment(query: SamplesQuery, listing: ListPage) -> str:
    """The list pane: counts, one page of rows, the pager (the fragment the page script swaps in)."""
    rows = []
    for item in listing.rows:
        selected = " selected" if item.row == query.row else ""
        href = "/samples?" + h(query.url_params(page=listing.page, row=item.row))
        rows.append(f'<tr class="sample-row{selected}" data-row="{item.row}">'
                    f'<td class="num"><a href="{href}">{item.row + 1}</a></td><td>{h(item.sample_id)}</td>'
                    f'<td>{h(item.subset)}</td><td>{_status_badge(item.status)}</td>'
                    f'<td class="num">{_number(item.value, 2)}</td><td class="text">{h(item.question)}</td>'
                    f'<td class="text">{h(item.answer)}</td></tr>')
    body = "".join(rows) or '<tr><td colspan="7" class="empty">No sample matches these filters.</td></tr>'
    errors = h(orjson.dumps(listing.errors).decode())
    return (f'<div class="list" data-page="{listing.page}" data-pages="{listing.pages}" '
            f'data-matching="{listing.matching}" data-errors="{errors}">'
            f'<p class="list-info" id="list-info">{listing.matching} of {listing.total} samples match</p>'
            '<table id="samples-table" class="grid samples"><thead><tr><th>#</th><th>id</th><th>subset</th>'
            f'<th>status</th><th>{h(listing.metric)}</th><th>question</th><th>answer</th></tr></thead>'
            f'<tbody>{body}</tbody></table>{_pager(query, listing)}</div>')


def _pre(text: Any, cls: str = "text") -> str:
    if text is not None and not isinstance(text, str):
        text = orjson.dumps(text, option=orjson.OPT_INDENT_2).decode()
    return f'<pre class="{cls}">{h(text)}</pre>' if text else f'<pre class="{cls} none">(empty)</pre>'


def _rich(text: Any, cls: str = "text") -> str:
    """``text`` escaped in a ``<pre>``, marked for ``static/render.js`` to show as markdown (the ``<pre>`` stays as
    the raw view, and is all a reader without JavaScript sees)."""
    if not text or not isinstance(text, str):
        return _pre(text, cls)
    return f'<div class="rich">{_pre(text, cls)}</div>'


def _shown(result: SampleResult) -> Any:
    """How the prompt and answers of ``result`` are shown: as markdown for a chat, but as raw text where the model
    continued a raw prompt (``sample.prompt``: HumanEval's Codex protocol, base models), since that text is code
    or a document, whose ``#``, ``_`` and indents markdown would mangle."""
    return _pre if result.sample.prompt else _rich


def _messages(result: SampleResult) -> str:
    sample = result.sample
    show = _shown(result)
    if not sample.messages:
        return f'<div class="msg role-prompt"><div class="role">prompt</div>{show(sample.prompt)}</div>'
    parts = []
    for message in sample.messages:
        images = sum(1 for p in message.content if p.get("type") != "text") if isinstance(message.content, list) \
            else 0
        extra = f'<span class="chip">{images} non-text parts</span>' if images else ""
        calls = _pre(message.tool_calls, "tool-calls") if message.tool_calls else ""
        parts.append(f'<div class="msg role-{h(message.role)}"><div class="role">{h(message.role)}{extra}</div>'
                     f"{show(message.text())}{calls}</div>")
    return "".join(parts)


def _chips(completion: Completion) -> str:
    usage, timings = completion.usage, completion.timings
    chips = [("prompt tokens", usage.prompt_tokens), ("completion tokens", usage.completion_tokens),
             ("reasoning tokens", usage.reasoning_tokens), ("latency", _seconds(timings.latency_s)),
             ("TTFT", _seconds(timings.time_to_first_token_s)), ("finish", completion.finish_reason)]
    return "".join(f'<span class="chip" data-chip="{h(k)}">{h(k)}: <b>{h("–" if v is None else v)}</b></span>'
                   for k, v in chips)


def _badges(completion: Completion, score: Score | None, metric: str) -> str:
    badges = []
    if completion.truncated:
        badges.append('<span class="badge warn" data-badge="truncated">truncated</span>')
    if score is not None and score.metadata.get("unfinished_reasoning"):
        badges.append('<span class="badge warn" data-badge="unfinished">unfinished reasoning</span>')
    if completion.error is not None:
        status = f" {completion.error.status}" if completion.error.status else ""
        badges.append(f'<span class="badge bad" data-badge="error">error{h(status)}: {h(completion.error.kind)}'
                      f' — {h(completion.error.message)}</span>')
    if score is None or score.values.get(metric) is None:
        badges.append('<span class="badge muted" data-badge="ungraded">ungraded</span>')
    return "".join(badges)


def _completion(result: SampleResult, i: int, metric: str) -> str:
    completion = result.completions[i]
    score = result.scores[i] if i < len(result.scores) else None
    title = f"Answer {i + 1} of {len(result.completions)}" if len(result.completions) > 1 else "Answer"
    reasoning = ""
    if completion.reasoning:
        tokens = completion.usage.reasoning_tokens
        count = f"{tokens} tokens" if tokens is not None else "tokens not reported"
        reasoning = (f'<details class="reasoning"><summary>Reasoning · {h(count)}</summary>'
                     f'{_rich(completion.reasoning, "text reasoning-text")}</details>')
    extracted = None if score is None else score.extracted
    grade = (f'<div class="grade"><div><h4>Extracted</h4>{_pre(extracted, "text extracted")}</div>'
             f'<div><h4>Target</h4>{_pre(result.sample.target, "text target")}</div></div>')
    values = ""
    if score is not None and score.values:
        values = ('<table class="grid values"><tbody>' + "".join(
            f'<tr><td>{h(k)}</td><td class="num">{_number(v)}</td></tr>' for k, v in score.values.items())
            + "</tbody></table>")
    explanation = ""
    if score is not None:
        judge = score.metadata.get("judge")
        for label, value in (("Explanation", score.explanation), ("Judge", judge)):
            if value:  # a judge's prose as markdown; a structured verdict as its JSON
                shown = _rich(value, "text explanation") if isinstance(value, str) else _pre(value, "text explanation")
                explanation += f'<h4>{label}</h4>{shown}'
    calls = ""
    if completion.tool_calls:
        calls = "<h4>Tool calls</h4>" + _pre([c.model_dump(mode="json") for c in completion.tool_calls],
                                              "text tool-calls")
    return (f'<section class="completion"><h3>{h(title)}</h3><div class="badges">{_badges(completion, score, metric)}'
            f'</div><div class="chips">{_chips(completion)}</div>{reasoning}'
            f'{_shown(result)(completion.text, "text answer")}{calls}{grade}{_checklist(result, score)}{values}'
            f'{explanation}'
            '</section>')


def _checklist(result: SampleResult, score: Score | None) -> str:
    """IFEval-style per-instruction verdicts (``metadata["instructions"]``: id, strict, loose) as a checklist,
    each with the arguments the sample gave that instruction."""
    items = score.metadata.get("instructions") if score is not None else None
    if not isinstance(items, list) or not items:
        return ""
    arguments = result.sample.metadata.get("kwargs")
    arguments = arguments if isinstance(arguments, list) and len(arguments) == len(items) else [None] * len(items)
    rows = []
    for item, args in zip(items, arguments):
        if not isinstance(item, dict):
            continue
        strict, loose = item.get("strict"), item.get("loose")
        cls = "pass" if strict else ("loose" if loose else "fail")
        mark = "✓" if strict else ("≈" if loose else "✗")
        shown = ", ".join(f"{k}={v!r}" for k, v in args.items()) if isinstance(args, dict) and args else ""
        rows.append(f'<li class="check {cls}" data-instruction="{h(item.get("id"))}"><span class="mark">{mark}</span>'
                    f' <code>{h(item.get("id"))}</code> <span class="muted">strict {"✓" if strict else "✗"} · '
                    f'loose {"✓" if loose else "✗"}</span>'
                    + (f' <span class="args">{h(shown)}</span>' if shown else "") + "</li>")
    passed = sum(1 for item in items if isinstance(item, dict) and item.get("strict"))
    return (f'<h4>Instructions · {passed} of {len(items)} followed (strict)</h4>'
            f'<ul class="checklist">{"".join(rows)}</ul>')


def _step(query: SamplesQuery, neighbour: Neighbour | None, label: str, cls: str) -> str:
    if neighbour is None:
        return f'<span class="off {cls}">{label}</span>'
    href = "/samples?" + h(query.url_params(page=neighbour.page, row=neighbour.row))
    return f'<a class="{cls}" href="{href}" data-row="{neighbour.row}" data-page="{neighbour.page}">{label}</a>'


def sample_body(result: SampleResult, metric: str) -> str:
    """A sample's prompt, choices and answers (the detail pane and the exported file share it)."""
    choices = ""
    if result.sample.choices:
        choices = ('<h3>Choices</h3><ol class="choices" type="A">' +
                   "".join(f"<li>{h(c)}</li>" for c in result.sample.choices) + "</ol>")
    completions = "".join(_completion(result, i, metric) for i in range(len(result.completions)))
    if not completions:
        completions = '<p class="muted">No answer recorded.</p>' + _pre(result.sample.target, "text target")
    return f'<section class="prompt"><h3>Prompt</h3>{_messages(result)}</section>{choices}{completions}'


def export_link(run_id: str, bench: str = "") -> str:
    query = "?" + h(urlencode({"bench": bench})) if bench else ""
    return (f'<a class="export" href="/export/{h(quote(run_id, safe=""))}{query}" download '
            'title="one HTML file of the samples that opens offline">export HTML</a>')


def detail_fragment(query: SamplesQuery, detail: SampleDetail) -> str:
    """The detail pane of one sample."""
    result = detail.result
    return (f'<article class="sample" id="sample" data-row="{detail.row}">'
            f'<header class="sample-head"><h2>#{detail.row + 1} <code class="sample-id">{h(result.sample.id)}</code>'
            f'</h2>{_status_badge(detail.status)}<span class="chip">subset: <b>{h(result.sample.subset)}</b></span>'
            f'<span class="chip">{h(detail.metric)}: <b>{_number(detail.value)}</b></span>'
            f'<nav class="steps">{_step(query, detail.previous, "‹ prev (k)", "prev")}'
            f'{_step(query, detail.next, "next (j) ›", "next")}</nav></header>'
            f'{sample_body(result, detail.metric)}</article>')


def samples_page(query: SamplesQuery, listing: ListPage, detail: str) -> str:
    title = f"{query.bench} · {query.run}"
    back = f'<a href="/run?{h(SamplesQuery(query.run, "").url_params())}">{h(query.run)}</a>'
    body = (f'<p class="crumbs"><a href="/">Runs</a> / {back} / <b>{h(query.bench)}</b> · '
            f'{export_link(query.run, query.bench)}</p>'
            f'<div class="samples-layout" id="samples-app"><section class="list-pane">'
            f'{filters_form(query, listing)}<div id="list">{list_fragment(query, listing)}</div></section>'
            f'<section class="detail-pane" id="detail">{detail}</section></div>')
    return page(title, body, "samples")


def no_sample() -> str:
    return '<p class="muted placeholder">Pick a sample (click a row, or j / k).</p>'
