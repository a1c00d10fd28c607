"""``GET /export/<run>``: one self-contained HTML file of a run's samples, to send to someone or open offline.

Everything the file needs is inside it: the stylesheets, the vendored renderers and KaTeX's woff2 fonts (as
``data:`` URLs), and every sample rendered by the same server code as the workbench's detail pane, so the
texts are escaped the same way and ``render.js`` shows them as sanitized markdown when a sample is opened.
Its own Content-Security-Policy (a ``<meta>``) allows only its inline script and style by hash, fonts from
``data:``, and no network at all: a file passed around cannot call home or run what a model wrote.

Files are capped (:data:`LIMIT` samples, the first ones in file order) so that a 50,000-sample run does not
become a file no browser opens; the page says when it was cut.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from assay.app import web_html
from assay.app.web_data import ExportedBenchmark, RunLine, _question, _snippet
from assay.app.web_html import h
from assay.types import SampleResult

STATIC = Path(__file__).resolve().parent / "static"
LIMIT = 2000
_EXPORT_CSS = """
body.export main { max-width: 70rem; margin: 0 auto; }
details.xsample { border: 1px solid var(--line); border-radius: 6px; margin: .35rem 0; }
details.xsample > summary { cursor: pointer; padding: .35rem .6rem; display: flex; gap: .5rem; align-items: baseline; }
details.xsample > summary .q { color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
details.xsample[open] > summary { border-bottom: 1px solid var(--line); background: var(--soft); }
details.xsample > .body { padding: .4rem .8rem; }
.cut { color: var(--warn); }
"""
# Opening a sample renders its texts (all 2,000 at load would take seconds).
_BOOT_JS = """
document.addEventListener("toggle", function (event) {
  if (event.target.open && window.assayRender) window.assayRender(event.target);
}, true);
"""


def _font_inline(css: str) -> str:
    def data_url(match: re.Match[str]) -> str:
        font = STATIC / "vendor" / "katex" / match.group(1)
        return "url(data:font/woff2;base64," + base64.b64encode(font.read_bytes()).decode() + ")"

    return re.sub(r"url\((fonts/[A-Za-z0-9_-]+\.woff2)\)", data_url, css)


def _script_safe(js: str) -> str:
    r"""``js`` safe inside ``<script>``: only ``</script`` ends it early, and ``<\/`` means the same in any JS string
    or regex. (A ``<!--`` followed by ``<script`` with no ``-->`` between would also confuse the HTML parser; the
    vendored files close each ``<!--`` first, which the offline browser test checks by running them.)"""
    return re.sub("</(script)", r"<\\/\1", js, flags=re.I)


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str]:
    """The inline stylesheet and script (read once: they are files of this package)."""
    css = [_font_inline((STATIC / "vendor" / "katex" / "katex.min.css").read_text(encoding="utf-8"))]
    css += [(STATIC / name).read_text(encoding="utf-8") for name in web_html.RENDER_CSS[1:]]
    css += [(STATIC / "web.css").read_text(encoding="utf-8"), _EXPORT_CSS]
    js = [_script_safe((STATIC / name).read_text(encoding="utf-8")) for name in web_html.RENDER_JS] + [_BOOT_JS]
    return "\n".join(css), ";\n".join(js)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _sample(bench: ExportedBenchmark, row: int, result: SampleResult, status: str, value: float | None) -> str:
    question = h(_snippet(_question(result), 120))
    return (f'<details class="xsample" data-row="{row}" id="{h(bench.name)}-{row}"><summary>'
            f'<b>#{row + 1}</b> <code>{h(result.sample.id)}</code> {web_html._status_badge(status)}'
            f'<span class="muted">{h(result.sample.subset)} · {h(bench.metric)} {web_html._number(value)}</span>'
            f'<span class="q">{question}</span></summary>'
            f'<div class="body">{web_html.sample_body(result, bench.metric)}</div></details>')


def export_page(run: RunLine, benchmarks: list[ExportedBenchmark], limit: int = LIMIT) -> str:
    """The whole file."""
    css, js = _assets()
    policy = (f"default-src 'none'; script-src {_hash(js)}; style-src {_hash(css)}; font-src data:; img-src data:; "
              "base-uri 'none'; form-action 'none'")
    sections = []
    shown = sum(len(b.samples) for b in benchmarks)
    total = sum(b.total for b in benchmarks)
    for bench in benchmarks:
        items = "".join(_sample(bench, row, result, status, value) for row, result, status, value in bench.samples)
        cut = (f' <span class="cut">the first {len(bench.samples)} of {bench.total}</span>'
               if len(bench.samples) < bench.total else f' <span class="muted">{bench.total} samples</span>')
        sections.append(f'<section class="bench"><h2>{h(bench.name)}{cut}</h2>{items}</section>')
    note = (f'<p class="cut">This file holds the first {shown} of {total} samples (at most {limit}): the rest are '
            f'in the run folder\'s predictions.</p>' if shown < total else "")
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{h(policy)}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{h(run.model)} · {h(run.run_id)} · assay</title><style>{css}</style></head>'
            f'<body class="export" data-kind="export"><header class="top"><span class="brand">assay</span>'
            f'<span class="where">{h(run.model)} · {h(run.run_id)}</span></header><main>'
            f'<h1>{h(run.model)}</h1><p class="muted"><code>{h(run.run_id)}</code> · {h(run.status)} · started '
            f'{h(run.started.replace("T", " "))} · open a sample to read it</p>{note}{"".join(sections)}</main>'
            f'<script>{js}</script></body></html>\n')


def export_compare_page(title: str, body: str) -> str:
    """A comparison (``web_compare.export_body``) as one file: the workbench's stylesheets inline, no script
    (samples fold with ``<details>``), the same network-less Content-Security-Policy as a run's export."""
    css = "\n".join([(STATIC / "web.css").read_text(encoding="utf-8"),
                     (STATIC / "web_views.css").read_text(encoding="utf-8"), _EXPORT_CSS])
    policy = f"default-src 'none'; style-src {_hash(css)}; img-src data:; base-uri 'none'; form-action 'none'"
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{h(policy)}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{h(title)} · assay</title><style>{css}</style></head>'
            f'<body class="export" data-kind="export-compare"><header class="top"><span class="brand">assay</span>'
            f'<span class="where">{h(title)}</span></header><main><h1>{h(title)}</h1>{body}</main></body></html>\n')
