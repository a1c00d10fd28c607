"""The workbench's launch form and jobs pages (``--launch``), rendered from ``assay.app.launch``
(the fields) and ``assay.app.jobs`` (the runs).

Every form carries the app's token in a hidden field (the server refuses a POST without it); a secret box
(``api_key``) is a password input that is never filled back in, so a key typed once is not echoed into the page.
The jobs pages work without JavaScript: a running job's page reloads itself every few seconds
(``<meta http-equiv="refresh">``), and a log tail is escaped text in a ``<pre>``.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urlencode

from assay.app.jobs import Job, Jobs
from assay.app.launch import FormField, form_fields
from assay.app.web_html import h, page

KINDS = {"eval": "assay eval", "perf": "assay perf"}
REFRESH_S = 2


def _token_field(token: str) -> str:
    return f'<input type="hidden" name="token" value="{h(token)}">'


def _select(common: str, choices: list[tuple[str, str]], value: str) -> str:
    options = "".join(f'<option value="{h(v)}"{" selected" if v == value else ""}>{h(label)}</option>'
                      for v, label in choices)
    return f"<select {common}>{options}</select>"


def _widget(item: FormField, value: str) -> str:
    name = h(item.name)
    common = f'name="{name}" id="f-{name}" aria-describedby="{name}-error"'
    if item.widget == "secret":  # never filled back in
        return f'<input type="password" {common} autocomplete="off" value="">'
    if item.widget == "bool":
        return _select(common, [("", "default"), ("true", "on"), ("false", "off")], value)
    if item.widget == "select":
        return _select(common, [("", "default"), *((c, c) for c in item.choices)], value)
    if item.widget == "json":
        return f'<textarea {common} rows="2" spellcheck="false" placeholder="JSON">{h(value)}</textarea>'
    hint = ' placeholder="values separated by spaces"' if item.widget == "list" else ""
    mode = ' inputmode="decimal"' if item.widget == "number" else ""
    return f'<input type="text" {common} value="{h(value)}" autocomplete="off"{hint}{mode}>'


def form_page(kind: str, token: str, values: Mapping[str, str] | None = None,
              errors: Mapping[str, str] | None = None) -> str:
    """The launch form of ``kind`` (eval or perf): one row per field of its config model, the CLI's flag and
    help beside it, and the model's error under a field that was refused."""
    values, errors = values or {}, errors or {}
    tabs = " · ".join(f'<b>{h(title)}</b>' if k == kind else f'<a href="/launch?kind={k}">{h(title)}</a>'
                      for k, title in KINDS.items())
    rows = []
    for item in form_fields(kind):
        error = errors.get(item.name, "")
        rows.append(f'<div class="launch-field{" invalid" if error else ""}" data-field="{h(item.name)}">'
                    f'<label for="f-{h(item.name)}"><code>{h(item.flag)}</code></label>'
                    f'{_widget(item, values.get(item.name, ""))}'
                    f'<span class="field-error" id="{h(item.name)}-error" role="alert">{h(error)}</span>'
                    f'<div class="muted small">{h(item.help)}</div></div>')
    general = errors.get("", "")
    top = f'<p class="field-error form-error" role="alert">{h(general)}</p>' if general else ""
    secret_note = ('<p class="muted small">A key typed here goes to the run through its environment: it is not '
                   'written to any file, and is not shown again (type it again after an error).</p>')
    body = (f'<p class="crumbs"><a href="/">Runs</a> / <a href="/jobs">Launched runs</a> / launch: {tabs}</p>'
            f'<p class="muted">The fields of <code>{h(KINDS[kind])}</code> (empty: its default). The run is written '
            f'under the outputs folder.</p>{top}'
            f'<form id="launch-form" method="post" action="/launch">{_token_field(token)}'
            f'<input type="hidden" name="kind" value="{h(kind)}">'
            f'<div class="launch-fields">{"".join(rows)}</div>{secret_note}'
            f'<button type="submit" class="apply">Start {h(KINDS[kind])}</button></form>')
    return page(f"Launch {kind}", body, "launch")


def _status(job: Job) -> str:
    return f'<span class="status status-{h(job.status)}" data-status="{h(job.status)}">{h(job.status)}</span>'


def _cancel_form(job: Job, token: str) -> str:
    if job.returncode is not None or job.cancelled:
        return ""
    return (f'<form class="cancel" method="post" action="/jobs/cancel">{_token_field(token)}'
            f'<input type="hidden" name="job" value="{h(job.job_id)}">'
            '<button type="submit" class="cancel">Cancel</button></form>')


def _run_cell(jobs: Jobs, job: Job) -> str:
    link = jobs.run_link(job)
    return f'<a class="run-folder" href="{h(link)}">{h(job.run_dir.name)}</a>' if link and job.run_dir else \
        '<span class="muted">not yet</span>'


def jobs_page(jobs: Jobs, token: str) -> str:
    """Every run launched by this app process, newest first."""
    listed = jobs.all()
    rows = "".join(
        f'<tr class="job-row" data-job="{h(job.job_id)}"><td><a href="/job?{h(urlencode({"id": job.job_id}))}">'
        f'{h(job.job_id)}</a></td><td>{h(job.kind)}</td><td>{h(job.label)}</td><td>{_status(job)}</td>'
        f'<td>{_run_cell(jobs, job)}<div class="muted small">{h(job.progress())}</div></td>'
        f'<td>{h(job.started.isoformat(sep=" ", timespec="seconds"))}</td>'
        f'<td>{_cancel_form(job, token)}</td></tr>' for job in listed)
    table = ('<table id="jobs-table" class="grid"><thead><tr><th>Job</th><th>Kind</th><th>Model</th><th>Status</th>'
             f'<th>Run folder</th><th>Started</th><th></th></tr></thead><tbody>{rows}</tbody></table>'
             if listed else '<p class="empty">Nothing launched from this app yet.</p>')
    body = (f'<p class="crumbs"><a href="/">Runs</a> / <b>Launched runs</b> · launch '
            f'<a href="/launch?kind=eval">eval</a> · <a href="/launch?kind=perf">perf</a></p>{table}')
    return _refreshing(page("Launched runs", body, "jobs"), any(j.returncode is None for j in listed))


def job_page(jobs: Jobs, job: Job, token: str) -> str:
    """One launched run: status, exit code, run folder, the command (no secret in it) and its log tail."""
    code = "" if job.returncode is None else f' · exit code {job.returncode}'
    body = (f'<p class="crumbs"><a href="/">Runs</a> / <a href="/jobs">Launched runs</a> / <b>{h(job.job_id)}</b></p>'
            f'<h1>{h(job.kind)} · {h(job.label)}</h1><p>{_status(job)}{h(code)} · run folder: {_run_cell(jobs, job)}'
            f' · started {h(job.started.isoformat(sep=" ", timespec="seconds"))}</p>'
            f'<p class="progress" id="progress">{h(job.progress())}</p>{_cancel_form(job, token)}'
            f'<p class="muted small"><code>{h(" ".join(job.command))}</code></p>'
            f'<h2>Log</h2><pre class="text log" id="log">{h(job.log_tail()) or "(nothing yet)"}</pre>')
    return _refreshing(page(f"Job {job.job_id}", body, "job"), job.returncode is None)


def _refreshing(text: str, running: bool) -> str:
    if not running:
        return text
    return text.replace('<meta charset="utf-8">', f'<meta charset="utf-8"><meta http-equiv="refresh" '
                                                  f'content="{REFRESH_S}">', 1)


def disabled_page() -> str:
    return page("Launch", '<p class="empty">Launching runs is off: start the app with <code>assay app --launch'
                          '</code> to start eval and perf runs from here.</p><p><a href="/">All runs</a></p>', "launch")
