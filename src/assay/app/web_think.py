"""The workbench's think pages: ``assay think`` results (``think.json``, ``traces.jsonl``) with their charts.

``/think`` lists the results under the outputs folder; ``/think/result`` shows one as the table the command
printed and a panel per metric (x: difficulty level or subset, one line per model), drawn as inline SVG with
the grid of ``assay.perf.svg``. Every point is a link to the traces it summarises: ``/think/traces`` lists
that model's traces of that level (or subset) from ``traces.jsonl``, each linking to its sample in the eval
run's samples page (the run is the folder ``think.json`` names, when it lies inside the outputs folder).
"""

from __future__ import annotations

from dataclasses import fields
from html import escape
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

import orjson

from assay.app.perf_think import ThinkResult, list_think_results, read_think
from assay.app.readers import Outputs, _inside, _is_eval_run
from assay.app.samples import prediction_index, sample_ids
from assay.app.web_html import h, page
from assay.errors import ConfigError
from assay.perf import svg
from assay.think.metrics import ALL_GROUP, METRIC_TITLES, METRICS, TraceResult, group_sort_key
from assay.think.report import COLUMNS, table_rows

SVG_CSS = '<link rel="stylesheet" href="/assets/svg.css">'  # served by assay.app.web (web_perf.SVG_CSS_PATH)
_CSS = '<link rel="stylesheet" href="/static/web_views.css"><link rel="stylesheet" href="/static/dashboard.css">'
_RATIOS = ("token_efficiency", "accuracy", "outcome_efficiency", "process_efficiency")


# ---- data -------------------------------------------------------------------------------------------------


def think_result(outputs: Outputs, result_id: str) -> ThinkResult:
    """A listed think result (``ConfigError`` for any other folder)."""
    if result_id not in list_think_results(outputs):
        raise ConfigError(f"{result_id!r}: no such think result")
    return read_think(outputs, result_id)


def run_id_of(outputs: Outputs, path: str) -> str | None:
    """The eval run ``think.json`` names by ``path`` (as given to ``assay think``), relative to the outputs
    folder; None when it is not a run inside it. A relative path is tried from the outputs folder, from its
    parent (``assay think --runs outputs/<run>``) and by its last part."""
    given = Path(path).expanduser()
    tries = [given] if given.is_absolute() else [outputs.root / given, outputs.root.parent / given]
    tries.append(outputs.root / given.name)
    for candidate in tries:
        try:
            resolved = candidate.resolve()
        except OSError:
            continue
        if resolved != outputs.root and _inside(outputs.root, resolved) and resolved.is_dir() \
                and _is_eval_run(resolved):
            return resolved.relative_to(outputs.root).as_posix()
    return None


_TRACE_FIELDS = {f.name for f in fields(TraceResult)}


def read_traces(outputs: Outputs, result_id: str, model: str, group: str) -> list[TraceResult]:
    """The traces of ``model`` in ``group`` (``all``: every group), in file order; a line that is not a trace
    (half written, or of another shape) is left out."""
    path = outputs.path(result_id) / "traces.jsonl"
    if not path.is_file() or not _inside(outputs.root, path):
        raise ConfigError(f"{result_id}: no traces.jsonl")
    out = []
    with path.open("rb") as handle:
        for line in handle:
            try:
                item = orjson.loads(line)
                trace = TraceResult(**{k: v for k, v in item.items() if k in _TRACE_FIELDS})
            except (orjson.JSONDecodeError, AttributeError, TypeError):
                continue
            if trace.model == model and (group == ALL_GROUP or str(trace.group) == group):
                out.append(trace)
    return out


def sample_rows(outputs: Outputs, run_id: str, benchmark: str) -> dict[str, int]:
    """Sample id → row in the run's predictions of ``benchmark``: the samples page's ``row``, a position in
    its prediction index (which leaves out blank and torn lines), so a link opens that very sample."""
    try:
        ids = sample_ids(prediction_index(outputs, run_id, benchmark))
    except (ConfigError, OSError):
        return {}
    rows: dict[str, int] = {}
    for row, sample_id in enumerate(ids):
        rows.setdefault(sample_id, row)
    return rows


# ---- charts -----------------------------------------------------------------------------------------------


def traces_href(result_id: str, model: str, group: str) -> str:
    return "/think/traces?" + urlencode({"id": result_id, "model": model, "group": group})


def linked_panel(result: ThinkResult, metric: str, groups: list[str], models: list[str], group_label: str) -> str:
    """One metric against the groups (categories, evenly spaced), a line per model, each point a link to the
    traces it is the mean of."""
    title = METRIC_TITLES[metric]
    values = {(r.model, r.group): getattr(r, metric) for r in result.report.rows}
    series = [svg.Series(model, list(range(1, len(groups) + 1)), [values.get((model, g)) for g in groups])
              for model in models]
    ys = [float(y) for s in series for y in s.ys if y is not None]
    if not groups or not ys:
        return svg.line_panel(title, [], xlabel=group_label, ylabel="")
    frame = svg._Frame([0.5, len(groups) + 0.5], ys, log2_x=False, y_max=1.0 if metric in _RATIOS else None)
    body = svg._axes(frame, [], title, group_label, "")
    bottom = frame.py(frame.y_low)
    for i, group in enumerate(groups, start=1):
        px = frame.px(i)
        body.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{bottom:.1f}" y2="{bottom + 4:.1f}" class="axis"/>')
        body.append(f'<text x="{px:.1f}" y="{bottom + 15:.1f}" class="xl">{escape(group[:14])}</text>')
    legend = []
    for k, s in enumerate(series):
        colour = svg.COLOURS[k % len(svg.COLOURS)]
        d = svg._path(frame, s)
        if d:
            body.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
        for x, group, y in zip(s.xs, groups, s.ys):
            if y is None:
                continue
            tip = f"{s.label} · {group}: {y:.4g} (open its traces)"
            body.append(f'<a class="point" href="{escape(traces_href(result.result_id, s.label, group))}" '
                        f'data-model="{escape(s.label)}" data-group="{escape(group)}" data-value="{y!r}">'
                        f'<title>{escape(tip)}</title><circle cx="{frame.px(x):.1f}" cy="{frame.py(float(y)):.1f}" '
                        f'r="4" fill="{colour}"/></a>')
        legend.append((s.label, colour, False))
    body += svg._legend(legend)
    return svg._svg(title, body)


# ---- pages ------------------------------------------------------------------------------------------------


def list_page(outputs: Outputs) -> str:
    """Every think result under the outputs folder."""
    found = list_think_results(outputs)
    if not found:
        return page("Think", '<p class="empty">No think results (<code>think.json</code>) under this folder. '
                             'Make some with <code>assay think</code>.</p>', "think")
    rows = []
    for result_id in found:
        try:
            report = read_think(outputs, result_id).report
        except ConfigError as exc:
            rows.append(f'<tr><td>{h(result_id)}</td><td colspan="3" class="error">{h(exc)}</td></tr>')
            continue
        href = "/think/result?" + h(urlencode({"id": result_id}))
        rows.append(f'<tr><td><a href="{href}">{h(result_id)}</a></td><td>{h(report.dataset)}</td>'
                    f'<td>{h(", ".join(report.runs))}</td><td>{h(report.group_by)}</td></tr>')
    table = ('<table id="think-results" class="grid"><thead><tr><th>Result</th><th>Dataset</th><th>Models</th>'
             f'<th>By</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
    return page("Think", _CSS + table, "think")


def result_page(outputs: Outputs, result_id: str) -> str:
    """One think result: how it was measured, its table and its charts."""
    result = think_result(outputs, result_id)
    report = result.report
    models = list(dict.fromkeys(r.model for r in report.rows))
    groups = sorted({r.group for r in report.rows if r.group != ALL_GROUP}, key=group_sort_key)
    group_label = "difficulty level" if report.group_by == "level" else report.group_by
    about = [f"dataset {h(report.dataset)}", f"tokens: {h(report.token_source)}",
             f"first correct step: {h(report.first_correct_by)}", f"steps: {h(report.split)}"]
    if report.split_fallbacks:
        about.append(f"{report.split_fallbacks} traces fell back to paragraphs")
    runs = []
    for model, path in report.runs.items():
        run_id = run_id_of(outputs, path)
        link = (f'<a href="/run?{h(urlencode({"run": run_id}))}">{h(run_id)}</a>' if run_id
                else f'<code>{h(path)}</code> (not under this outputs folder)')
        runs.append(f"<li>{h(model)}: {link}</li>")
    head = ("".join(f"<th>{h(name)}</th>" for name in ("Model", report.group_by.capitalize()))
            + "".join(f"<th>{h(c[0])}</th>" for c in COLUMNS))
    body = []
    for row, cells in zip(report.rows, table_rows(report)):
        href = h(traces_href(result_id, row.model, row.group))
        tds = "".join(f'<td class="num" data-field="{h(field)}">{h(text)}</td>'
                      for (_, field, _), text in zip(COLUMNS, cells[2:]))
        body.append(f'<tr class="think-row" data-model="{h(row.model)}" data-group="{h(row.group)}">'
                    f'<td>{h(row.model)}</td><td><a href="{href}">{h(row.group)}</a></td>{tds}</tr>')
    notes = []
    for model, counts in report.unusable.items():
        skipped = ", ".join(f"{n} {why}" for why, n in counts.items() if n)
        if skipped:
            notes.append(f"<li>{h(model)}: not analysed: {h(skipped)}</li>")
    panels = "".join(linked_panel(result, metric, groups, models, group_label) for metric in METRICS)
    parts = [_CSS, SVG_CSS, f'<h1>Thinking efficiency on {h(report.dataset)}</h1>',
             f'<p class="muted">{" · ".join(about)} · <a href="/think">all think results</a></p>',
             f'<ul class="think-runs">{"".join(runs)}</ul>',
             f'<table id="think-table" class="grid think-table"><thead><tr>{head}</tr></thead>'
             f'<tbody>{"".join(body)}</tbody></table>',
             f'<ul class="muted small">{"".join(notes)}</ul>' if notes else "",
             '<p class="muted small">T̂, T−T̂, T̂/T: over the traces that reach the answer (Never: the rest). '
             'Click a point or a group to see its traces.</p>',
             f'<div class="charts" id="think-charts">{panels}</div>']
    return page(f"Think: {result_id}", "".join(parts), "think")


def _sample_href(run_id: str, benchmark: str, row: int | None, subset: str = "") -> str:
    params = {"run": run_id, "bench": benchmark}
    if subset:
        params["subset"] = subset
    if row is not None:
        params["row"] = str(row)
    return "/samples?" + h(urlencode(params))


def _value(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def traces_page(outputs: Outputs, params: Mapping[str, str]) -> str:
    """The traces behind one point: a model's traces of one level or subset, each linked to its sample."""
    result_id, model, group = params.get("id", ""), params.get("model", ""), params.get("group", ALL_GROUP)
    result = think_result(outputs, result_id)
    report = result.report
    if model not in report.runs:
        raise ConfigError(f"{model!r}: not a model of {result_id}")
    traces = read_traces(outputs, result_id, model, group)
    run_id = run_id_of(outputs, report.runs[model])
    rows_by_id = sample_rows(outputs, run_id, report.dataset) if run_id else {}
    lines = []
    for trace in traces:
        row = rows_by_id.get(trace.sample_id)
        sample = (f'<a class="sample-link" href="{_sample_href(run_id, report.dataset, row)}">{h(trace.sample_id)}</a>'
                  if run_id and row is not None else h(trace.sample_id))
        lines.append(f'<tr class="trace-row" data-sample="{h(trace.sample_id)}"><td>{sample}</td>'
                     f'<td class="num">{trace.repeat}</td><td>{h(trace.group)}</td>'
                     f'<td class="num">{h(_value(trace.correct))}</td><td class="num">{trace.reasoning_tokens}</td>'
                     f'<td class="num">{h(_value(trace.first_correct_tokens))}</td>'
                     f'<td class="num">{h(_value(trace.first_correct_step))}</td>'
                     f'<td class="num">{trace.step_count}</td>'
                     f'<td class="num">{trace.thought_count}</td><td>{h(trace.split)}</td></tr>')
    back = "/think/result?" + h(urlencode({"id": result_id}))
    where = f"{report.group_by} {group}" if group != ALL_GROUP else "all groups"
    links = [f'<a href="{back}">the think result</a>']
    if run_id:
        subset = group if report.group_by == "subset" and group != ALL_GROUP else ""
        links.append(f'<a id="samples-filtered" href="{_sample_href(run_id, report.dataset, None, subset)}">'
                     f'the run\'s samples{" of this subset" if subset else ""}</a>')
    else:
        links.append(f'run <code>{h(report.runs[model])}</code> is not under this outputs folder')
    parts = [_CSS, f'<h1>{h(model)} · {h(where)}</h1>',
             f'<p class="muted">{len(traces)} traces of {h(report.dataset)} · {" · ".join(links)}</p>',
             '<table id="traces-table" class="grid"><thead><tr><th>Sample</th><th>Repeat</th><th>Group</th>'
             '<th>Correct</th><th>T</th><th>T̂</th><th>First correct step</th><th>Steps</th><th>Thoughts</th>'
             f'<th>Split</th></tr></thead><tbody>{"".join(lines)}</tbody></table>']
    return page(f"Traces of {model}", "".join(parts), "think")
