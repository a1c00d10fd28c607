"""The Gradio app: Runs, Samples, Compare, Perf and Think tabs over one outputs folder (read only).

Model output is shown in text boxes and plain-text table cells, never as HTML or markdown; only the prompt
(dataset text) is rendered as markdown with LaTeX, after escaping its HTML. The theme uses system fonts and
nothing is fetched from the internet (Gradio's analytics are off: see :func:`serve`).
"""

from __future__ import annotations

import html
import os
from typing import Any, Callable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from assay.app import charts  # noqa: E402
from assay.app.perf_think import (  # noqa: E402
    list_perf_runs,
    list_think_results,
    percentile_rows,
    perf_run_label,
    read_perf_run,
    read_think,
)
from assay.app.readers import Outputs, list_eval_runs, read_eval_run, subset_rows, task_type_scores  # noqa: E402
from assay.app.samples import (  # noqa: E402
    STATUSES,
    SampleFilter,
    SampleView,
    disagreements,
    prediction_index,
    read_sample,
    sample_page,
    score_deltas,
)
from assay.errors import AssayError  # noqa: E402

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False},
         {"left": "\\(", "right": "\\)", "display": False}, {"left": "\\[", "right": "\\]", "display": True}]
PAGE_SIZE = 10
ALL = "(all)"
_PREVIEW = 120


def _guard(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Turn our errors (bad names, paths outside the folder) into a message in the page."""
    def run(*args: Any) -> Any:
        try:
            return handler(*args)
        except AssayError as exc:
            raise gr.Error(str(exc)) from None

    run.__name__ = handler.__name__
    return run


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _bound(text: str | None) -> float | None:
    """A score bound typed by the user: empty means none."""
    if text is None or not str(text).strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise gr.Error(f"score bound {text!r} is not a number") from None


def _preview(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= _PREVIEW else text[:_PREVIEW - 1] + "…"


def runs_frame(outputs: Outputs) -> pd.DataFrame:
    rows = [{"model": r.model, "run": r.run_id, "started": r.started, "status": r.status,
             "datasets": ", ".join(r.datasets),
             "scores": ", ".join(f"{n}={_fmt(s, 3)}" for n, s in r.scores.items())} for r in list_eval_runs(outputs)]
    return pd.DataFrame(rows, columns=["model", "run", "started", "status", "datasets", "scores"])


def _sample_markdown_header(view: SampleView) -> str:
    return (f"**Sample** `{html.escape(view.sample_id)}` · subset `{html.escape(view.subset)}` · "
            f"**{view.status}** · score {_fmt(view.value, 3)}")


def _details(view: SampleView, shown: list[tuple[int, Any]]) -> dict[str, Any]:
    repeats = []
    for i, a in shown:
        repeats.append({"repeat": i, "scores": a.scores, "judge": a.judge, "error": a.error,
                        "finish_reason": a.finish_reason, "prompt_tokens": a.prompt_tokens,
                        "completion_tokens": a.completion_tokens, "reasoning_tokens": a.reasoning_tokens,
                        "latency_s": a.latency_s, "time_to_first_token_s": a.time_to_first_token_s})
    return {"choices": view.choices, "repeats": repeats}


def _joined(shown: list[tuple[int, Any]], pick: Callable[[Any], str | None]) -> str:
    parts = [(i, pick(a) or "") for i, a in shown]
    if len(parts) <= 1:
        return parts[0][1] if parts else ""
    return "\n\n".join(f"--- repeat {i} ---\n{p}" for i, p in parts)


def sample_outputs(view: SampleView | None, repeat: int | str | None = None) -> tuple[Any, ...]:
    """The detail panel's values: header, prompt (escaped markdown), reasoning, answer, extracted, target,
    details; ``repeat`` (1-based) shows that repeat alone, else every repeat one after another."""
    if view is None:
        return "_no sample selected_", "", "", "", "", "", {}
    shown = list(enumerate(view.answers, 1))
    if repeat not in (None, ALL) and 1 <= int(repeat) <= len(shown):
        shown = [shown[int(repeat) - 1]]
    target = view.target if isinstance(view.target, str) else repr(view.target)
    return (_sample_markdown_header(view), html.escape(view.prompt, quote=False),
            _joined(shown, lambda a: a.reasoning) or "(no reasoning)", _joined(shown, lambda a: a.answer),
            _joined(shown, lambda a: a.extracted), target, _details(view, shown))


def repeat_choices(view: SampleView | None) -> list[Any]:
    """The repeat picker's choices for ``view``: all, then each repeat (only when there are several)."""
    count = len(view.answers) if view is not None else 0
    return [ALL, *range(1, count + 1)] if count > 1 else [ALL]



def build_app(outputs: Outputs) -> gr.Blocks:
    """The whole app over ``outputs``."""
    runs = list_eval_runs(outputs)
    run_choices = [(f"{r.model} · {r.run_id}", r.run_id) for r in runs]
    with gr.Blocks(title="assay viewer", analytics_enabled=False) as app:
        gr.Markdown(f"## assay viewer\nReading `{html.escape(str(outputs.root))}` (read only).")
        with gr.Tabs():
            with gr.Tab("Runs", id="runs"):
                _runs_tab(app, outputs, run_choices)
            with gr.Tab("Samples", id="samples"):
                _samples_tab(app, outputs, run_choices)
            with gr.Tab("Compare", id="compare"):
                _compare_tab(outputs, run_choices)
            with gr.Tab("Perf", id="perf"):
                _perf_tab(app, outputs, list_perf_runs(outputs))
            with gr.Tab("Think", id="think"):
                _think_tab(app, outputs, list_think_results(outputs))
    return app


def _first(choices: list[tuple[str, str]]) -> str | None:
    return choices[0][1] if choices else None


def _runs_tab(app: gr.Blocks, outputs: Outputs, run_choices: list[tuple[str, str]]) -> None:
    gr.Dataframe(value=runs_frame(outputs), label="Evaluation runs", interactive=False, elem_id="runs-table")
    run = gr.Dropdown(choices=run_choices, value=_first(run_choices), label="Run", elem_id="runs-run")
    with gr.Row():
        bars = gr.Plot(label="Per dataset", elem_id="runs-bars")
        radar = gr.Plot(label="Radar", elem_id="runs-radar")
    subsets = gr.Dataframe(label="Per subset", interactive=False, elem_id="runs-subsets")

    @_guard
    def show(run_id: str | None) -> tuple[Any, Any, Any]:
        if not run_id:
            return None, None, pd.DataFrame()
        info = read_eval_run(outputs, run_id)
        by_type = task_type_scores(info)
        scored = {n: s for n, s in info.scores.items() if s is not None}
        if len(by_type) >= 3:
            spider = charts.radar(by_type, "Mean score per task type")
        elif len(scored) >= 3:
            spider = charts.radar(scored, "Score per dataset (fewer than 3 task types)")
        else:
            spider = None
        frame = pd.DataFrame([{"dataset": r.benchmark, "subset": r.subset, "metric": r.metric, "num": r.num,
                               "score": _fmt(r.score)} for r in subset_rows(outputs, run_id)])
        return charts.dataset_bars([info]), spider, frame

    run.change(show, inputs=run, outputs=[bars, radar, subsets])
    app.load(show, inputs=run, outputs=[bars, radar, subsets])


def _samples_tab(app: gr.Blocks, outputs: Outputs, run_choices: list[tuple[str, str]]) -> None:
    with gr.Row():
        run = gr.Dropdown(choices=run_choices, value=_first(run_choices), label="Run", elem_id="samples-run")
        dataset = gr.Dropdown(label="Dataset", elem_id="samples-dataset")
        subset = gr.Dropdown(choices=[ALL], value=ALL, label="Subset", elem_id="samples-subset")
    with gr.Row():
        status = gr.Radio([ALL, *STATUSES], value=ALL, label="Outcome", elem_id="samples-status")
        min_score = gr.Textbox(label="Score ≥", placeholder="any", elem_id="samples-min")
        max_score = gr.Textbox(label="Score ≤", placeholder="any", elem_id="samples-max")
        text = gr.Textbox(label="Search text", placeholder="in prompt, answer, reasoning, target",
                          elem_id="samples-text")
    with gr.Row():
        apply = gr.Button("Apply filters", variant="primary", elem_id="samples-apply")
        prev_page = gr.Button("◀ Previous", elem_id="samples-prev")
        page = gr.Number(value=1, precision=0, label="Page", minimum=1, elem_id="samples-page")
        next_page = gr.Button("Next ▶", elem_id="samples-next")
    info = gr.Markdown(elem_id="samples-info")
    table = gr.Dataframe(label="Samples on this page (model output shown as plain text)", interactive=False,
                         wrap=True, elem_id="samples-table")
    with gr.Row():
        pick = gr.Dropdown(label="Open sample", elem_id="samples-pick")
        repeat = gr.Dropdown(choices=[ALL], value=ALL, label="Repeat", elem_id="samples-repeat")
    header = gr.Markdown(elem_id="sample-header")
    prompt = gr.Markdown(label="Prompt", latex_delimiters=LATEX, sanitize_html=True, line_breaks=True,
                         elem_id="sample-prompt",
                         container=True)
    with gr.Accordion("Reasoning", open=False, elem_id="sample-reasoning-accordion"):
        reasoning = gr.Textbox(label="Reasoning", lines=6, max_lines=30, interactive=False,
                               elem_id="sample-reasoning")
    answer = gr.Textbox(label="Answer", lines=4, max_lines=30, interactive=False, elem_id="sample-answer")
    with gr.Row():
        extracted = gr.Textbox(label="Extracted answer", interactive=False, elem_id="sample-extracted")
        target = gr.Textbox(label="Target", interactive=False, elem_id="sample-target")
    details = gr.JSON(label="Scores per metric, judge, tokens, latency", elem_id="sample-details")
    detail_outputs = [header, prompt, reasoning, answer, extracted, target, details]

    @_guard
    def datasets_of(run_id: str | None) -> Any:
        names = list(read_eval_run(outputs, run_id).datasets) if run_id else []
        return gr.update(choices=names, value=names[0] if names else None)

    @_guard
    def subsets_of(run_id: str | None, name: str | None) -> Any:
        subsets = prediction_index(outputs, run_id, name).subsets if run_id and name else []
        return gr.update(choices=[ALL, *subsets], value=ALL)

    @_guard
    def show_page(run_id, name, subset_name, outcome, low, high, needle, number) -> tuple[Any, ...]:  # noqa: ANN001
        if not run_id or not name:
            return "", pd.DataFrame(), gr.update(choices=[], value=None), 1
        flt = SampleFilter(subset=None if subset_name in (None, ALL) else subset_name,
                           status=None if outcome in (None, ALL) else outcome,
                           min_score=_bound(low), max_score=_bound(high), text=needle or None)
        result = sample_page(outputs, run_id, name, flt, int(number or 1), PAGE_SIZE)
        rows = [{"row": v.row, "id": v.sample_id, "subset": v.subset, "outcome": v.status, "score": _fmt(v.value, 3),
                 "answer": _preview(v.answers[0].answer if v.answers else "")} for v in result.samples]
        choices = [(f"{v.sample_id} · {v.status}", v.row) for v in result.samples]
        text_info = (f"{result.matching} of {result.total} samples match · page {result.page} of {result.pages}")
        return (text_info, pd.DataFrame(rows, columns=["row", "id", "subset", "outcome", "score", "answer"]),
                gr.update(choices=choices, value=choices[0][1] if choices else None), result.page)

    def view_of(run_id: str | None, name: str | None, row: int | None) -> SampleView | None:
        return read_sample(outputs, run_id, name, int(row)) if run_id and name and row is not None else None

    @_guard
    def open_sample(run_id: str | None, name: str | None, row: int | None) -> tuple[Any, ...]:
        view = view_of(run_id, name, row)
        return (*sample_outputs(view), gr.update(choices=repeat_choices(view), value=ALL))

    @_guard
    def show_repeat(run_id: str | None, name: str | None, row: int | None, chosen: Any) -> tuple[Any, ...]:
        return sample_outputs(view_of(run_id, name, row), chosen)

    filters = [run, dataset, subset, status, min_score, max_score, text]
    page_outputs = [info, table, pick, page]
    def then_show(event: Any) -> None:
        """After ``event``: show the page, then the first sample on it."""
        event.then(show_page, inputs=[*filters, page], outputs=page_outputs).then(
            open_sample, inputs=[run, dataset, pick], outputs=[*detail_outputs, repeat])

    run.change(datasets_of, inputs=run, outputs=dataset)
    then_show(dataset.change(subsets_of, inputs=[run, dataset], outputs=subset).then(lambda: 1, outputs=page))
    then_show(apply.click(lambda: 1, outputs=page))
    then_show(text.submit(lambda: 1, outputs=page))
    then_show(prev_page.click(lambda n: max(1, int(n or 1) - 1), inputs=page, outputs=page))
    then_show(next_page.click(lambda n: int(n or 1) + 1, inputs=page, outputs=page))
    pick.input(open_sample, inputs=[run, dataset, pick], outputs=[*detail_outputs, repeat])
    repeat.input(show_repeat, inputs=[run, dataset, pick, repeat], outputs=detail_outputs)
    app.load(datasets_of, inputs=run, outputs=dataset)


def _compare_tab(outputs: Outputs, run_choices: list[tuple[str, str]]) -> None:
    second = run_choices[1][1] if len(run_choices) > 1 else None
    with gr.Row():
        run_a = gr.Dropdown(choices=run_choices, value=_first(run_choices), label="Run A", elem_id="compare-a")
        run_b = gr.Dropdown(choices=run_choices, value=second, label="Run B", elem_id="compare-b")
        go = gr.Button("Compare", variant="primary", elem_id="compare-go")
    deltas = gr.Dataframe(label="Scores (main metric): B − A per dataset and subset", interactive=False,
                          elem_id="compare-deltas")
    dataset = gr.Dropdown(label="Dataset for disagreements", elem_id="compare-dataset")
    disagree = gr.Dataframe(label="Samples the runs scored differently (answers as plain text)", interactive=False,
                            wrap=True, elem_id="compare-disagree")

    @_guard
    def compare(a: str | None, b: str | None) -> tuple[Any, Any]:
        if not a or not b:
            return pd.DataFrame(), gr.update(choices=[], value=None)
        rows = [{"dataset": d.benchmark, "subset": d.subset, "metric": d.metric, "A": _fmt(d.score_a),
                 "B": _fmt(d.score_b), "B − A": "-" if d.delta is None else f"{d.delta:+.4f}"}
                for d in score_deltas(outputs, a, b)]
        shared = sorted(set(read_eval_run(outputs, a).datasets) & set(read_eval_run(outputs, b).datasets))
        return pd.DataFrame(rows), gr.update(choices=shared, value=shared[0] if shared else None)

    @_guard
    def differing(a: str | None, b: str | None, name: str | None) -> Any:
        if not a or not b or not name:
            return pd.DataFrame()
        rows = []
        for d in disagreements(outputs, a, b, name, limit=200):
            answer_a = read_sample(outputs, a, name, d.row_a).answers
            answer_b = read_sample(outputs, b, name, d.row_b).answers
            rows.append({"id": d.sample_id, "subset": d.subset, "A": d.status_a, "B": d.status_b,
                         "A answer": _preview(answer_a[0].answer if answer_a else ""),
                         "B answer": _preview(answer_b[0].answer if answer_b else "")})
        return pd.DataFrame(rows, columns=["id", "subset", "A", "B", "A answer", "B answer"])

    go.click(compare, inputs=[run_a, run_b], outputs=[deltas, dataset]).then(
        differing, inputs=[run_a, run_b, dataset], outputs=disagree)
    dataset.input(differing, inputs=[run_a, run_b, dataset], outputs=disagree)


_SUMMARY_FIELDS = (
    "interrupted", "parallel", "rate", "number", "total_requests", "succeeded_requests", "failed_requests", "duration_s",
    "request_throughput_rps", "output_throughput_tps", "total_throughput_tps", "goodput_rps", "mean_ttft_s",
    "median_ttft_s", "mean_tpot_s", "mean_itl_s", "mean_latency_s", "median_latency_s", "mean_input_tokens",
    "mean_output_tokens", "output_token_source",
)


def _perf_tab(app: gr.Blocks, outputs: Outputs, perf_ids: list[str]) -> None:
    labelled = [(perf_run_label(outputs, i), i) for i in perf_ids]  # a killed run is listed, marked incomplete
    chosen = gr.CheckboxGroup(choices=labelled, value=perf_ids[:4], label="Perf runs on the charts",
                              elem_id="perf-runs")
    with gr.Row():
        throughput = gr.Plot(label="Throughput", elem_id="perf-throughput")
        latency = gr.Plot(label="Latency", elem_id="perf-latency")
    ttft = gr.Plot(label="Time to first token", elem_id="perf-ttft")
    with gr.Row():
        run = gr.Dropdown(choices=labelled, value=perf_ids[0] if perf_ids else None, label="Run",
                          elem_id="perf-run")
        plan = gr.Dropdown(label="Plan", elem_id="perf-plan")
    note = gr.Markdown(elem_id="perf-note")
    summary = gr.Dataframe(label="Summary (one column per plan)", interactive=False, elem_id="perf-summary")
    table = gr.Dataframe(label="Percentiles of the chosen plan", interactive=False, elem_id="perf-percentiles")

    @_guard
    def curves(ids: list[str]) -> tuple[Any, Any, Any]:
        runs = [read_perf_run(outputs, i) for i in ids or []]
        return (charts.load_curve(runs, "output_throughput_tps", "Output throughput vs load", "tokens/s"),
                charts.load_curve(runs, "mean_latency_s", "Mean end-to-end latency vs load", "s"),
                charts.load_curve(runs, "mean_ttft_s", "Mean time to first token vs load", "s"))

    @_guard
    def show_run(run_id: str | None) -> tuple[Any, Any, Any]:
        if not run_id:
            return pd.DataFrame(), gr.update(choices=[], value=None), ""
        perf_run = read_perf_run(outputs, run_id)
        plans = perf_run.plans
        frame = pd.DataFrame({"metric": list(_SUMMARY_FIELDS),
                              **{p.plan: [_cell(getattr(p, f)) for f in _SUMMARY_FIELDS] for p in plans}})
        names = [p.plan for p in plans]
        text = ""
        if perf_run.incomplete:
            missing = ", ".join(f"`{html.escape(name)}`" for name in perf_run.unsummarised)
            text = (f"**Incomplete run**: {missing} recorded requests but wrote no summary (killed, or still "
                    f"running). `assay perf rebuild {html.escape(str(outputs.path(run_id)))}` writes the summaries "
                    "from its records.")
        return frame, gr.update(choices=names, value=names[0] if names else None), text

    @_guard
    def show_plan(run_id: str | None, plan_name: str | None) -> Any:
        if not run_id or not plan_name:
            return pd.DataFrame()
        rows = percentile_rows(outputs, run_id, plan_name)
        return pd.DataFrame([{k: _cell(v) for k, v in row.items()} for row in rows])

    chosen.change(curves, inputs=chosen, outputs=[throughput, latency, ttft])
    run.change(show_run, inputs=run, outputs=[summary, plan, note])
    plan.change(show_plan, inputs=[run, plan], outputs=table)
    app.load(curves, inputs=chosen, outputs=[throughput, latency, ttft])
    app.load(show_run, inputs=run, outputs=[summary, plan, note])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _think_tab(app: gr.Blocks, outputs: Outputs, think_ids: list[str]) -> None:
    if not think_ids:
        gr.Markdown("No think results (`think.json`) under this folder. Make some with `assay think`.")
        return
    result = gr.Dropdown(choices=think_ids, value=think_ids[0], label="Think result", elem_id="think-result")
    about = gr.Markdown(elem_id="think-about")
    table = gr.Dataframe(label="Thinking efficiency", interactive=False, elem_id="think-table")
    figure = gr.Image(label="think.png", type="pil", interactive=False, elem_id="think-figure")

    @_guard
    def show(result_id: str | None) -> tuple[Any, Any, Any]:
        if not result_id:
            return "", pd.DataFrame(), None
        from PIL import Image

        from assay.think.report import COLUMNS, table_rows

        think = read_think(outputs, result_id)
        report = think.report
        frame = pd.DataFrame(table_rows(report), columns=["model", "group", *[c[0] for c in COLUMNS]])
        text = (f"Dataset `{html.escape(report.dataset)}` · grouped by {html.escape(report.group_by)} · "
                f"tokens: {html.escape(report.token_source)} · first correct step by "
                f"{html.escape(report.first_correct_by)}")
        image = Image.open(think.figure).convert("RGB") if think.figure else None  # served from Gradio's cache
        return text, frame, image

    result.change(show, inputs=result, outputs=[about, table, figure])
    app.load(show, inputs=result, outputs=[about, table, figure])


class _RefuseUploads:
    """ASGI middleware: a POST to any ``.../upload`` path gets 403 before its body is read.

    No component of the viewer takes a file, but Gradio serves ``POST /gradio_api/upload`` for every app and
    stores whatever it is sent, of any size, in its cache folder; a read-only viewer refuses it.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/upload"):
            body = b"assay app is read only: uploads are refused"
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def serve(outputs_dir: str, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True) -> Any:
    """Start the app on ``host:port``; ``block=False`` returns once it listens (for tests and benches).

    Read only: uploads are refused (403) and Gradio's own file-size cap is zero besides.
    """
    from starlette.middleware import Middleware

    outputs = Outputs(outputs_dir)
    app = build_app(outputs)
    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "SFMono-Regular", "monospace"])  # no web fonts
    app.queue(default_concurrency_limit=4)
    app.launch(server_name=host, server_port=port, share=False, inbrowser=False, prevent_thread_lock=not block,
               quiet=True, ssr_mode=False, mcp_server=False, theme=theme, footer_links=[],
               blocked_paths=[str(outputs.root)], show_error=True, max_file_size=0,
               app_kwargs={"middleware": [Middleware(_RefuseUploads)]})
    return app
