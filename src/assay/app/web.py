"""``assay app --ui web``: the workbench, a small ASGI app (Starlette on uvicorn) with server-rendered pages.

Read only and local by default: it binds 127.0.0.1, answers only GET and HEAD (anything else gets 405 before
its body is read, so nothing can be uploaded), checks the Host header on loopback (a DNS-rebinding page
cannot read it), sends a Content-Security-Policy that allows only its own scripts, styles and fonts (KaTeX's
layout styles are set through the CSSOM, so no 'unsafe-inline'), and reads only the manifest, reports and
predictions inside run folders of the outputs folder, and the summaries, config and records (over a read-only
SQLite connection) of its perf runs. Its assets are files of this package (``static/``, the vendored renderers
in ``static/vendor/``): no CDN, no build step. ``/export/<run>`` gives a run's samples as one HTML file that
opens offline (``assay.app.web_export``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from assay.app import web_compare, web_dashboard, web_export, web_html, web_perf, web_think
from assay.app.readers import Outputs
from assay.app.web_data import (
    SamplesQuery,
    export_samples,
    list_page,
    list_runs,
    run_line,
    run_reports,
    sample_detail,
)
from assay.errors import ConfigError
from assay.perf import svg

STATIC = Path(__file__).resolve().parent / "static"
_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                 b"font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
                                 b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_LOOPBACK = {"127.0.0.1", "localhost"}
log = logging.getLogger("assay.app")


class _ReadOnlyLocal:
    """ASGI middleware: only GET/HEAD pass (405 otherwise, body unread); on loopback, only loopback Host names;
    security headers on every response."""

    def __init__(self, app: Any, check_host: bool) -> None:
        self.app = app
        self.check_host = check_host

    @staticmethod
    async def _refuse(send: Any, status: int, text: str, extra: list[tuple[bytes, bytes]]) -> None:
        body = text.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
                                *extra, *_HEADERS]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await self._refuse(send, 405, "assay app is read only: only GET and HEAD are answered",
                               [(b"allow", b"GET, HEAD")])
            return
        if self.check_host:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
            if name not in _LOOPBACK:
                await self._refuse(send, 400, "unexpected Host header", [])
                return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status, headers={"cache-control": "no-store"})


def _guarded(call: Callable[[Request], str]) -> Callable[[Request], Response]:
    """A page handler whose ``ConfigError`` (no such run, a name leading out of the folder) or ``OSError`` (a file
    removed while it was read) becomes a 404 page."""

    def endpoint(request: Request) -> Response:
        try:
            return _html(call(request))
        except (ConfigError, OSError) as exc:
            return _html(web_html.error_page(404, str(exc)), 404)

    endpoint.__name__ = call.__name__
    return endpoint


def build_app(outputs: Outputs, check_host: bool = True) -> Any:
    """The ASGI app over ``outputs``."""

    def runs(request: Request) -> str:
        return web_html.runs_page(list_runs(outputs), str(outputs.root))

    def run(request: Request) -> str:
        run_id = request.query_params.get("run", "")
        return web_html.run_page(run_line(outputs, run_id), run_reports(outputs, run_id))

    def _detail(query: SamplesQuery) -> str:
        return web_html.detail_fragment(query, sample_detail(outputs, query)) if query.row is not None \
            else web_html.no_sample()

    def samples(request: Request) -> str:
        query = SamplesQuery.parse(request.query_params)
        listing = list_page(outputs, query)
        try:
            detail = _detail(query)
        except (ConfigError, OSError) as exc:  # a stale link to a row the file no longer has: the list still shows
            detail = f'<p class="error-page">{web_html.h(exc)}</p>'
        return web_html.samples_page(query, listing, detail)

    def list_part(request: Request) -> str:
        query = SamplesQuery.parse(request.query_params)
        return web_html.list_fragment(query, list_page(outputs, query))

    def sample_part(request: Request) -> str:
        return _detail(SamplesQuery.parse(request.query_params))

    def export(request: Request) -> Response:
        run_id = request.path_params["run"]
        bench = request.query_params.get("bench", "")
        try:
            text = web_export.export_page(run_line(outputs, run_id), export_samples(outputs, run_id, bench))
        except (ConfigError, OSError) as exc:
            return _html(web_html.error_page(404, str(exc)), 404)
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in f"{run_id}{'_' + bench if bench else ''}")
        return HTMLResponse(text, headers={"cache-control": "no-store",
                                           "content-disposition": f'attachment; filename="{name}.html"'})

    def export_compare(request: Request) -> Response:
        query = web_compare.CompareQuery.parse(request.query_params)
        try:
            whole, pairs = web_compare.export_view(outputs, query, web_export.LIMIT)
        except (ConfigError, OSError) as exc:
            return _html(web_html.error_page(404, str(exc)), 404)
        title = f"{whole.benchmark}: " + " vs ".join(whole.models)
        text = web_export.export_compare_page(title, web_compare.export_body(whole, pairs, query, web_export.LIMIT))
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in f"compare_{whole.benchmark}")
        return HTMLResponse(text, headers={"cache-control": "no-store",
                                           "content-disposition": f'attachment; filename="{name}.html"'})

    def compare(request: Request) -> str:
        query = web_compare.CompareQuery.parse(request.query_params)
        if len(query.runs) < 2:
            message = "pick at least two runs" if query.runs else ""
            return web_compare.picker_page(outputs, request.query_params, message)
        return web_compare.compare_page(web_compare.compare_view(outputs, query), query)

    def perf(request: Request) -> str:
        return web_perf.list_page(outputs, web_perf.chosen_runs(request.query_params))

    def perf_run(request: Request) -> str:
        return web_perf.run_page(outputs, web_perf.RequestsQuery.parse(request.query_params))

    def svg_css(request: Request) -> Response:
        return Response(svg.CSS, media_type="text/css", headers={"cache-control": "no-store"})

    def progress(request: Request) -> Response:
        return JSONResponse(web_dashboard.progress_json(outputs), headers={"cache-control": "no-store"})

    routes = [Route("/", _guarded(runs)), Route("/run", _guarded(run)), Route("/samples", _guarded(samples)),
              Route("/part/list", _guarded(list_part)), Route("/part/sample", _guarded(sample_part)),
              Route("/export/{run}", export), Route("/export-compare", export_compare),
              Route("/compare", _guarded(compare)), Route("/perf", _guarded(perf)),
              Route("/perf/run", _guarded(perf_run)), Route(web_perf.SVG_CSS_PATH, svg_css),
              Route("/dashboard", _guarded(lambda r: web_dashboard.dashboard_page(outputs))),
              Route(web_dashboard.PROGRESS_PATH, progress),
              Route("/run/setup", _guarded(lambda r: web_dashboard.setup_page(outputs, r.query_params.get("run", "")))),
              Route("/think", _guarded(lambda r: web_think.list_page(outputs))),
              Route("/think/result", _guarded(lambda r: web_think.result_page(outputs, r.query_params.get("id", "")))),
              Route("/think/traces", _guarded(lambda r: web_think.traces_page(outputs, r.query_params))),
              Mount("/static", StaticFiles(directory=str(STATIC), follow_symlink=False), name="static")]
    app = Starlette(routes=routes)
    return _ReadOnlyLocal(app, check_host)


def serve(outputs_dir: str, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the workbench on ``host:port`` until interrupted."""
    import uvicorn

    outputs = Outputs(outputs_dir)
    app = build_app(outputs, check_host=host in _LOOPBACK)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
