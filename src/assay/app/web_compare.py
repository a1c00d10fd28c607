"""The workbench's Compare view: 2 to 4 eval runs on the samples they share (same benchmark, same sample id).

The numbers are the ones ``assay report compare`` prints: each run after the first is compared with the first
by :func:`assay.eval.compare.compare_runs` (the paired bootstrap per benchmark, and per dataset and task type
inside a collection), so the page and the CLI cannot drift apart. What the CLI leaves out is added here: how
many samples each run holds when the sets differ (the test only sees the shared ones), the failed requests
counted apart from the disagreements (a request that failed says nothing about the model), and a per-sample
list with side-by-side answers. Every text from a run is escaped (:func:`assay.app.web_html.h`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

from assay.app.readers import Outputs
from assay.app.samples import Status, sample_status
from assay.app.web_data import PAGE_SIZE, list_runs, run_line
from assay.app.web_html import h, page

VIEWS_CSS = '<link rel="stylesheet" href="/static/web_views.css">'
from assay.errors import ConfigError
from assay.eval.compare import Comparison, compare_runs
from assay.eval.store import RunStore
from assay.types import SampleResult

MAX_RUNS = 4
LETTERS = "ABCD"
# The per-sample filters: A and B are the first two runs; "both wrong" means every run compared is wrong.
SHOWS: dict[str, str] = {"": "all shared", "a_right_b_wrong": "A right / B wrong",
                         "a_wrong_b_right": "A wrong / B right", "both_wrong": "both wrong",
                         "disagree": "disagree", "failed": "a request failed"}
_LOCK = threading.Lock()
_CACHE: dict[tuple[Any, ...], Any] = {}


@dataclass(frozen=True)
class CompareQuery:
    """The compare page's state as its URL carries it: ``runs=a,b[,c,d]&benchmark=...&show=...&page=&sample=``."""

    runs: tuple[str, ...]
    benchmark: str = ""
    show: str = ""
    page: int = 1
    sample: str | None = None

    @classmethod
    def parse(cls, params: Any) -> CompareQuery:
        names = [n.strip() for n in params.get("runs", "").split(",") if n.strip()]
        names += [n for n in (params.getlist("run") if hasattr(params, "getlist") else []) if n]  # the picker form
        try:
            number = max(1, int(params.get("page", "1")))
        except ValueError:
            number = 1
        return cls(tuple(dict.fromkeys(names)), params.get("benchmark", ""), params.get("show", ""), number,
                   params.get("sample") or None)

    def url(self, **changes: Any) -> str:
        state = replace(self, **changes)
        pairs = [("runs", ",".join(state.runs)), ("benchmark", state.benchmark), ("show", state.show),
                 ("page", "" if state.page == 1 else str(state.page)), ("sample", state.sample or "")]
        return "/compare?" + urlencode([(k, v) for k, v in pairs if v])


@dataclass(frozen=True)
class SampleSet:
    """One benchmark's samples in each run, and the ones every run holds."""

    benchmark: str
    counts: tuple[int, ...]  # per run
    shared: int
    failed: tuple[int, ...]  # per run, among the shared samples: requests that failed (status "error")
    disagree: int  # shared samples every run graded, not all alike (failed ones are not counted here)

    @property
    def differs(self) -> bool:
        return any(c != self.shared for c in self.counts)


@dataclass(frozen=True)
class PairRow:
    """One shared sample: each run's status and main-metric value."""

    sample_id: str
    subset: str
    statuses: tuple[Status, ...]
    values: tuple[float | None, ...]
    question: str


@dataclass(frozen=True)
class CompareView:
    runs: tuple[str, ...]
    models: tuple[str, ...]
    comparisons: list[list[Comparison]]  # per run after the first: that run against the first
    sample_sets: list[SampleSet]
    benchmark: str
    rows: list[PairRow]  # the filtered rows of ``benchmark``
    page: int
    pages: int
    detail: tuple[SampleResult | None, ...] | None
    metrics: tuple[str, ...] = ()  # each run's main metric of ``benchmark``


def _stamp(folder: Path) -> tuple[Any, ...]:
    """What changes when a run's predictions or reports change (for the cache key)."""
    files = sorted([*folder.glob("predictions/*.jsonl"), *folder.glob("reports/*.json")])
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def _cached(key: tuple[Any, ...], make: Any) -> Any:
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    value = make()
    with _LOCK:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def _metric(result: SampleResult, default: str) -> str:
    """A collection's sample is graded on its own benchmark's main metric."""
    meta = result.sample.metadata.get("collection") if isinstance(result.sample.metadata, dict) else None
    return str(meta.get("main_metric") or default) if isinstance(meta, dict) else default


def _question(result: SampleResult) -> str:
    messages = result.sample.messages or []
    users = [m for m in messages if m.role == "user"]
    text = (users[-1] if users else messages[-1]).text() if messages else (result.sample.prompt or "")
    flat = " ".join(text.split())
    return flat if len(flat) <= 120 else flat[:119] + "…"


def _matches(show: str, statuses: tuple[Status, ...]) -> bool:
    graded = all(s in ("correct", "wrong") for s in statuses)
    if show == "a_right_b_wrong":
        return statuses[0] == "correct" and statuses[1] == "wrong"
    if show == "a_wrong_b_right":
        return statuses[0] == "wrong" and statuses[1] == "correct"
    if show == "both_wrong":
        return all(s == "wrong" for s in statuses)
    if show == "disagree":
        return graded and len(set(statuses)) > 1
    if show == "failed":
        return "error" in statuses
    return True


def _main_metric(store: RunStore, benchmark: str) -> str:
    import orjson

    path = store.reports / f"{benchmark}.json"
    try:
        return str(orjson.loads(path.read_bytes())["main_metric"])
    except (OSError, ValueError, KeyError, TypeError):
        return "acc"


def _benchmark_rows(stores: list[RunStore], benchmark: str) -> tuple[SampleSet, list[PairRow]]:
    results = [store.load_results(benchmark) for store in stores]
    metrics = [_main_metric(store, benchmark) for store in stores]
    shared = [i for i in results[0] if all(i in other for other in results[1:])]
    rows = []
    for sample_id in shared:
        pairs = [sample_status(r[sample_id], _metric(r[sample_id], m)) for r, m in zip(results, metrics)]
        first = results[0][sample_id]
        rows.append(PairRow(sample_id, first.sample.subset, tuple(s for s, _ in pairs), tuple(v for _, v in pairs),
                            _question(first)))
    failed = tuple(sum(1 for row in rows if row.statuses[k] == "error") for k in range(len(stores)))
    disagree = sum(1 for row in rows if _matches("disagree", row.statuses))
    return SampleSet(benchmark, tuple(len(r) for r in results), len(shared), failed, disagree), rows


def _compare(a: Path, b: Path) -> list[Comparison]:
    try:
        return compare_runs(a, b)
    except ConfigError:  # no report in common (a run still going): the table says so, the samples still show
        return []


def compare_view(outputs: Outputs, query: CompareQuery) -> CompareView:
    """Everything the compare page shows (``ConfigError`` for a bad run list or a benchmark not shared)."""
    if not 2 <= len(query.runs) <= MAX_RUNS:
        raise ConfigError(f"compare takes 2 to {MAX_RUNS} runs (runs=a,b), got {len(query.runs)}")
    if query.show not in SHOWS:
        raise ConfigError(f"unknown filter {query.show!r} (one of {', '.join(k for k in SHOWS if k)})")
    lines = [run_line(outputs, run) for run in query.runs]  # each must be a run folder of the outputs
    folders = [outputs.path(run) for run in query.runs]
    stores = [RunStore.existing(folder) for folder in folders]
    stamps = tuple(_stamp(folder) for folder in folders)
    comparisons = [_cached(("cmp", folders[0], folder, stamps[0], stamps[k + 1]),
                           lambda folder=folder: _compare(folders[0], folder))
                   for k, folder in enumerate(folders[1:])]
    names = [sorted(p.stem for p in store.predictions.glob("*.jsonl")) for store in stores]
    shared_names = [n for n in names[0] if all(n in other for other in names[1:])]
    if not shared_names:
        raise ConfigError("these runs have no benchmark in common")
    benchmark = query.benchmark or shared_names[0]
    if benchmark not in shared_names:
        raise ConfigError(f"{benchmark!r} is not a benchmark every run holds ({', '.join(shared_names)})")
    per_benchmark = {name: _cached(("rows", tuple(folders), stamps, name),
                                   lambda name=name: _benchmark_rows(stores, name)) for name in shared_names}
    rows = [row for row in per_benchmark[benchmark][1] if _matches(query.show, row.statuses)]
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    detail = None
    if query.sample is not None:
        results = [_cached(("results", folder, stamp, benchmark), lambda store=store: store.load_results(benchmark))
                   for folder, stamp, store in zip(folders, stamps, stores)]
        if not all(query.sample in r for r in results):
            raise ConfigError(f"{benchmark}: no sample {query.sample!r} shared by these runs")
        detail = tuple(r.get(query.sample) for r in results)
    return CompareView(query.runs, tuple(line.model for line in lines), comparisons,
                       [per_benchmark[n][0] for n in shared_names], benchmark, rows, min(query.page, pages), pages,
                       detail, tuple(_main_metric(store, benchmark) for store in stores))


# ---- HTML -------------------------------------------------------------------------------------------------


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _comparison_table(view: CompareView) -> str:
    rows = []
    for k, found in enumerate(view.comparisons, start=1):
        for c in found:
            cls = " significant" if c.significant else ""
            rows.append(f'<tr class="comparison{cls}" data-benchmark="{h(c.benchmark)}" data-run="{k}">'
                        f"<td>{LETTERS[k]} − A</td><td>{h(c.benchmark)}</td><td>{h(c.metric)}</td>"
                        f'<td class="num">{c.num}</td>'
                        f'<td class="num" data-value="{c.score_a!r}">{c.score_a:.4f}</td>'
                        f'<td class="num" data-value="{c.score_b!r}">{c.score_b:.4f}</td>'
                        f'<td class="num diff" data-value="{c.difference!r}">{c.difference:+.4f}</td>'
                        f'<td class="num ci" data-low="{c.ci95[0]!r}" data-high="{c.ci95[1]!r}">'
                        f"[{c.ci95[0]:+.4f}, {c.ci95[1]:+.4f}]</td>"
                        f'<td class="num p" data-value="{c.p_value!r}">{_p(c.p_value)}</td>'
                        f"<td>{h(c.verdict.replace('B', LETTERS[k]) if c.difference > 0 else c.verdict)}</td></tr>")
    body = "".join(rows) or '<tr><td colspan="10" class="empty">No benchmark graded in both runs.</td></tr>'
    return ('<table id="compare-table" class="grid"><thead><tr><th>Pair</th><th>Benchmark / group</th><th>Metric</th>'
            "<th>n</th><th>A</th><th>other run</th><th>other − A</th><th>95% CI</th><th>p</th><th>Verdict</th></tr>"
            f"</thead><tbody>{body}</tbody></table>"
            '<p class="muted small">Paired bootstrap over the samples both runs graded (10,000 resamples, seeded), '
            "as <code>assay report compare</code>; beyond the noise = the 95% interval excludes 0. In a "
            "collection, rows per dataset, per task type and for the whole collection.</p>")


def _sets_section(view: CompareView, query: CompareQuery) -> str:
    warnings, rows = [], []
    letters = LETTERS[:len(view.runs)]
    for s in view.sample_sets:
        if s.differs:
            counts = ", ".join(f"{letter} {count}" for letter, count in zip(letters, s.counts))
            warnings.append(f'<p class="warning sample-sets" data-benchmark="{h(s.benchmark)}">{h(s.benchmark)}: '
                            f"the runs hold different sample sets ({h(counts)}); compared on the {s.shared} "
                            "samples they share.</p>")
        link = h(query.url(benchmark=s.benchmark, show="", page=1, sample=None))
        chosen = " selected" if s.benchmark == view.benchmark else ""
        rows.append(f'<tr class="sample-set{chosen}" data-benchmark="{h(s.benchmark)}"><td><a href="{link}">'
                    f"{h(s.benchmark)}</a></td>" + "".join(f'<td class="num">{c}</td>' for c in s.counts) +
                    f'<td class="num shared">{s.shared}</td><td class="num disagree">{s.disagree}</td>' +
                    "".join(f'<td class="num failed">{f}</td>' for f in s.failed) + "</tr>")
    head = ("<tr><th>Benchmark</th>" + "".join(f"<th>samples {x}</th>" for x in letters) +
            "<th>shared</th><th>disagree</th>" + "".join(f"<th>failed {x}</th>" for x in letters) + "</tr>")
    return ("".join(warnings) + f'<table id="sets-table" class="grid"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table><p class="muted small">Disagree: shared samples every run '
            "graded, not all with the same outcome. A failed request (no answer) is counted under failed, not "
            "as a disagreement.</p>")


_BADGE = {"correct": "correct", "wrong": "incorrect", "error": "failed", "ungraded": "ungraded"}


def _badge(status: str) -> str:
    return f'<span class="badge status-{h(status)}">{h(_BADGE.get(status, status))}</span>'


def _sample_list(view: CompareView, query: CompareQuery) -> str:
    letters = LETTERS[:len(view.runs)]
    options = "".join(f'<option value="{h(k)}"{" selected" if k == query.show else ""}>{h(v)}</option>'
                      for k, v in SHOWS.items())
    hidden = (f'<input type="hidden" name="runs" value="{h(",".join(view.runs))}">'
              f'<input type="hidden" name="benchmark" value="{h(view.benchmark)}">')
    form = (f'<form id="compare-filters" method="get" action="/compare">{hidden}<label>Show <select name="show">'
            f'{options}</select></label><button type="submit">Apply</button></form>')
    shown = view.rows[(view.page - 1) * PAGE_SIZE: view.page * PAGE_SIZE]
    rows = []
    for row in shown:
        selected = " selected" if row.sample_id == query.sample else ""
        href = h(query.url(benchmark=view.benchmark, page=view.page, sample=row.sample_id))
        rows.append(f'<tr class="pair-row{selected}" data-id="{h(row.sample_id)}"><td><a href="{href}">'
                    f"{h(row.sample_id)}</a></td><td>{h(row.subset)}</td>" +
                    "".join(f"<td>{_badge(s)}</td>" for s in row.statuses) +
                    f'<td class="text">{h(row.question)}</td></tr>')
    body = "".join(rows) or f'<tr><td colspan="{3 + len(letters)}" class="empty">No shared sample matches.</td></tr>'

    def step(number: int, label: str) -> str:
        if number < 1 or number > view.pages or number == view.page:
            return f'<span class="off">{label}</span>'
        return f'<a href="{h(query.url(benchmark=view.benchmark, page=number, sample=None))}">{label}</a>'

    pager = (f'<nav class="pager">{step(view.page - 1, "‹ prev")}<span class="at">page {view.page} of '
             f'{view.pages}</span>{step(view.page + 1, "next ›")}</nav>')
    head = "<tr><th>id</th><th>subset</th>" + "".join(f"<th>{x}</th>" for x in letters) + "<th>question</th></tr>"
    return (f'<h2>Samples of {h(view.benchmark)}</h2>{form}<p class="list-info" id="pair-info">{len(view.rows)} '
            f'shared samples match</p><table id="pairs-table" class="grid samples"><thead>{head}</thead>'
            f"<tbody>{body}</tbody></table>{pager}")


def _text(value: Any, cls: str) -> str:
    text = "" if value is None else str(value)
    return f'<pre class="{cls}">{h(text)}</pre>' if text else f'<pre class="{cls} none">(empty)</pre>'


def _side(letter: str, run: str, model: str, metric: str, result: SampleResult | None) -> str:
    if result is None:
        return f'<section class="side"><h3>{letter}</h3><p class="muted">not in this run</p></section>'
    status, value = sample_status(result, _metric(result, metric))
    parts = [f'<section class="side" data-letter="{letter}"><h3>{letter} · {h(model)}</h3>'
             f'<p class="muted small">{h(run)}</p><p>{_badge(status)} <span class="chip">score: '
             f'<b>{"–" if value is None else f"{value:.3f}"}</b></span></p>']
    for i, completion in enumerate(result.completions):
        score = result.scores[i] if i < len(result.scores) else None
        if len(result.completions) > 1:
            parts.append(f"<h4>Answer {i + 1} of {len(result.completions)}</h4>")
        if completion.error is not None:
            parts.append(f'<p class="badge bad">request failed: {h(completion.error.kind)} — '
                         f"{h(completion.error.message)}</p>")
        if completion.reasoning:
            parts.append(f'<details class="reasoning"><summary>Reasoning</summary>'
                         f'{_text(completion.reasoning, "text reasoning-text")}</details>')
        parts.append(_text(completion.text, "text answer"))
        if score is not None:
            values = ", ".join(f"{k}={'–' if v is None else f'{v:.3f}'}" for k, v in score.values.items())
            parts.append(f'<p class="small">extracted: <code>{h(score.extracted)}</code> · {h(values)}</p>')
    parts.append("</section>")
    return "".join(parts)


def _detail(view: CompareView) -> str:
    assert view.detail is not None
    first = next(r for r in view.detail if r is not None)
    sample = first.sample
    prompt = "".join(f'<div class="msg role-{h(m.role)}"><div class="role">{h(m.role)}</div>'
                     f'{_text(m.text(), "text")}</div>' for m in sample.messages or []) or _text(sample.prompt, "text")
    sides = "".join(_side(LETTERS[k], run, model, metric, result) for k, (run, model, metric, result)
                    in enumerate(zip(view.runs, view.models, view.metrics, view.detail)))
    return (f'<article class="pair-detail" id="pair-detail" data-id="{h(sample.id)}"><h2>Sample '
            f'<code>{h(sample.id)}</code></h2><section class="prompt"><h3>Prompt</h3>{prompt}'
            f'<h4>Target</h4>{_text(sample.target, "text target")}</section>'
            f'<div class="sides sides-{len(view.runs)}">{sides}</div></article>')


def compare_page(view: CompareView, query: CompareQuery) -> str:
    legend = "".join(f'<li><b>{LETTERS[k]}</b> {h(model)} <span class="muted small">{h(run)}</span></li>'
                     for k, (run, model) in enumerate(zip(view.runs, view.models)))
    export = "/export-compare?" + query.url(sample=None, page=1).split("?", 1)[1]
    body = (f'{VIEWS_CSS}<p class="crumbs"><a href="/">Runs</a> / <a href="/compare">Compare</a> · '
            f'<a class="export" href="{h(export)}">export HTML</a></p><ul class="legend">'
            f"{legend}</ul><h2>Paired differences</h2>{_comparison_table(view)}<h2>Sample sets</h2>"
            f'{_sets_section(view, query)}<div class="compare-layout"><section class="list-pane">'
            f'{_sample_list(view, query)}</section><section class="detail-pane" id="detail">'
            f'{_detail(view) if view.detail else "<p class=muted>Pick a sample to see the answers side by side.</p>"}'
            "</section></div>")
    return page("Compare", body, "compare")


def picker_page(outputs: Outputs, params: Mapping[str, str], message: str = "") -> str:
    """The compare page without (enough) runs: pick 2 to 4 runs."""
    runs = list_runs(outputs)
    rows = "".join(f'<tr><td><input type="checkbox" name="run" value="{h(r.run_id)}" id="pick-{i}"></td>'
                   f'<td><label for="pick-{i}">{h(r.model)}</label></td><td>{h(r.run_id)}</td>'
                   f'<td>{h(", ".join(b.name for b in r.benchmarks))}</td></tr>' for i, r in enumerate(runs))
    note = f'<p class="error-page">{h(message)}</p>' if message else ""
    body = (f'{VIEWS_CSS}<p class="crumbs"><a href="/">Runs</a> / Compare</p>{note}<form id="compare-pick" '
            f'method="get" action="/compare"><p>Pick 2 to {MAX_RUNS} runs: the first ticked in this list (newest '
            'first) is A; or give <code>runs=a,b</code> in the URL.</p><table class="grid"><thead><tr>'
            f"<th></th><th>Model</th><th>Run</th><th>Benchmarks</th></tr></thead><tbody>{rows}</tbody></table>"
            '<button type="submit">Compare</button></form>')
    return page("Compare", body, "compare")


# ---- export -----------------------------------------------------------------------------------------------


def export_view(outputs: Outputs, query: CompareQuery, limit: int) -> tuple[CompareView, list[CompareView]]:
    """The comparison of ``query`` (every filtered row, not a page) and, per row up to ``limit``, the view of
    that sample side by side: what ``/export/compare`` writes into one file."""
    whole = compare_view(outputs, replace(query, sample=None, page=1))
    results = [RunStore.existing(outputs.path(run)).load_results(whole.benchmark) for run in whole.runs]
    # Each pair is the whole view with that sample's results as its detail (all _detail reads), not the view
    # computed again per row.
    pairs = [replace(whole, detail=tuple(r.get(row.sample_id) for r in results)) for row in whole.rows[:limit]]
    return whole, pairs


def export_body(whole: CompareView, pairs: list[CompareView], query: CompareQuery, limit: int) -> str:
    """The comparison as static HTML: the paired differences, the sample sets, then each shared sample (of the
    filter) folded, its prompt once and each run's answer beside the others."""
    legend = "".join(f'<li><b>{LETTERS[k]}</b> {h(model)} <span class="muted small">{h(run)}</span></li>'
                     for k, (run, model) in enumerate(zip(whole.runs, whole.models)))
    items = []
    for row, pair in zip(whole.rows, pairs):
        marks = " ".join(_badge(status) for status in row.statuses)
        items.append(f'<details class="xsample"><summary><code>{h(row.sample_id)}</code> {marks} '
                     f'<span class="q">{h(row.question[:120])}</span></summary><div class="body">{_detail(pair)}'
                     "</div></details>")
    shown = (f'<p class="cut">The first {len(pairs)} of {len(whole.rows)} samples (at most {limit}).</p>'
             if len(pairs) < len(whole.rows) else "")
    label = SHOWS.get(query.show, query.show) or "all shared samples"
    return (f'<ul class="legend">{legend}</ul><h2>Paired differences</h2>{_comparison_table(whole)}'
            f"<h2>Sample sets</h2>{_sets_section(whole, query)}<h2>{h(whole.benchmark)}: {h(label)}</h2>"
            f'{shown}{"".join(items)}')
