"""``assay app --ui web``: the workbench, a small ASGI app (Starlette on uvicorn) with server-rendered pages.

Read only and local by default: it binds 127.0.0.1, answers only GET and HEAD (anything else gets 405 before
its body is read, so nothing can be uploaded), checks the Host header on loopback (a DNS-rebinding page
cannot read it), sends a Content-Security-Policy that allows only its own scripts, styles and fonts (KaTeX's
layout styles are set through the CSSOM, so no 'unsafe-inline'), and reads only the manifest, reports and
predictions inside run folders of the outputs folder, and the summaries, config and records (over a read-only
SQLite connection) of its perf runs. Its assets are files of this package (``static/``, the vendored renderers
in ``static/vendor/``): no CDN, no build step. ``/export/<run>`` gives a run's samples as one HTML file that
opens offline (``assay.app.web_export``).

With ``launch`` (``assay app --launch``, off by default) it also starts eval and perf runs (``assay.app.launch``
parses the form, ``assay.app.jobs`` runs them, ``assay.app.web_launch`` renders the pages): then, and only on
those routes, it takes a POST, which must carry the process's token and come from its own origin. Off loopback
every request must carry the token.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, AsyncIterator, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from assay.app import web_compare, web_dashboard, web_export, web_html, web_launch, web_perf, web_think
from assay.app.jobs import Jobs
from assay.app.launch import parse_form
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
    # Not no-referrer: under it Chromium sends `Origin: null` with a form's POST, and a launch is refused without
    # its own origin; same-origin still tells other sites nothing.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
_LOOPBACK = {"127.0.0.1", "localhost"}
LAUNCH_POSTS = frozenset({"/launch", "/jobs/cancel"})  # the only routes that take a POST (with --launch)
MAX_FORM_BYTES = 64 * 1024
TOKEN_COOKIE = "assay_token"
log = logging.getLogger("assay.app")


class _ReadOnlyLocal:
    """ASGI middleware: only GET/HEAD pass (405 otherwise, body unread), but for the launch routes when launching
    is on; on loopback, only loopback Host names; off loopback, the token on every request; security headers on
    every response.

    A POST to a launch route must come from the app's own pages: same origin (``Origin``, else ``Referer``, must
    name this host), a urlencoded form of at most 64 KiB, and the token in the ``X-Assay-Token`` header or the
    form's ``token`` field (compared in constant time). All of it is checked here, before any endpoint runs; the
    parsed form is handed on in ``scope["state"]["form"]``.
    """

    def __init__(self, app: Any, check_host: bool, token: str = "", launch: bool = False,
                 require_token: bool = False) -> None:
        self.app = app
        self.check_host = check_host
        self.token = token
        self.launch = launch and bool(token)
        self.require_token = require_token

    @staticmethod
    async def _refuse(send: Any, status: int, text: str, extra: list[tuple[bytes, bytes]]) -> None:
        body = text.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
                                *extra, *_HEADERS]})
        await send({"type": "http.response.body", "body": body})

    def _token_ok(self, given: str | None) -> bool:
        return bool(self.token) and given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        method = scope["method"]
        if method not in ("GET", "HEAD") and not (method == "POST" and self.launch and scope["path"] in LAUNCH_POSTS):
            await self._refuse(send, 405, "assay app is read only: only GET and HEAD are answered",
                               [(b"allow", b"GET, HEAD")])
            return
        if self.check_host:
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
            if name not in _LOOPBACK:
                await self._refuse(send, 400, "unexpected Host header", [])
                return
        if self.require_token:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
            in_cookie = cookie[TOKEN_COOKIE].value if TOKEN_COOKIE in cookie else None
            in_query = (query.get("token") or [None])[0]
            if self._token_ok(in_query) and method in ("GET", "HEAD"):
                # Keep the token out of the address bar and history: a cookie carries it from now on.
                rest = urlencode([(k, v) for k, values in query.items() if k != "token" for v in values])
                location = scope["path"] + (f"?{rest}" if rest else "")
                await self._refuse(send, 303, "see other", [
                    (b"location", location.encode()),
                    (b"set-cookie", f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode())])
                return
            if not (self._token_ok(headers.get(b"x-assay-token", b"").decode("latin-1") or None)
                    or self._token_ok(in_cookie)):
                await self._refuse(send, 403, "this app needs its token: open the URL `assay app` printed at "
                                              "start-up (…/?token=…)", [])
                return
        if method == "POST":
            refused = await self._check_post(scope, receive, headers, host)
            if refused is not None:
                await self._refuse(send, refused[0], refused[1], [])
                return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _check_post(self, scope: dict[str, Any], receive: Any, headers: dict[bytes, bytes],
                          host: str) -> tuple[int, str] | None:
        """None when the POST may go on (its form is then in the scope's state), else (status, why)."""
        origin = headers.get(b"origin", b"").decode("latin-1")
        referer = headers.get(b"referer", b"").decode("latin-1")
        source = origin or referer
        if not source or source == "null" or urlsplit(source).netloc != host:
            return 403, "refused: a launch must come from this app's own pages (Origin / Referer)"
        kind = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return 415, "a launch is a urlencoded form"
        try:
            length = int(headers.get(b"content-length", b"-1"))
        except ValueError:
            length = -1
        if length < 0:
            return 411, "a launch needs a Content-Length"
        if length > MAX_FORM_BYTES:
            return 413, "the form is too large"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_FORM_BYTES:
                return 413, "the form is too large"
            if not message.get("more_body"):
                break
        try:
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            return 400, "the form is not UTF-8"
        given = headers.get(b"x-assay-token", b"").decode("latin-1") or form.get("token")
        if not self._token_ok(given):
            return 403, "refused: the form's token is missing or wrong (reload the page: the app was restarted?)"
        scope.setdefault("state", {})["form"] = form
        return None


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


def new_token() -> str:
    """The per-process secret that a POST (and, off loopback, every request) must carry."""
    return secrets.token_urlsafe(24)


def build_app(outputs: Outputs, check_host: bool = True, *, launch: bool = False, token: str | None = None,
              require_token: bool | None = None) -> Any:
    """The ASGI app over ``outputs``. ``launch``: serve the launch form and jobs pages and take their POSTs;
    ``token``: the secret those POSTs carry (a new one if None); ``require_token`` (default: when the Host is not
    checked, i.e. off loopback): every request must carry it (a ``?token=`` link sets a cookie)."""
    token = token or new_token()
    jobs = Jobs(outputs.root) if launch else None

    def runs(request: Request) -> str:
        return web_html.runs_page(list_runs(outputs), str(outputs.root), launch=jobs is not None)

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

    def launch_form(request: Request) -> Response:
        if jobs is None:
            return _html(web_launch.disabled_page(), 404)
        kind = request.query_params.get("kind", "eval")
        if kind not in web_launch.KINDS:
            return _html(web_html.error_page(404, f"no such kind of run: {kind!r} (eval or perf)"), 404)
        return _html(web_launch.form_page(kind, token))

    def launch_post(request: Request) -> Response:
        form: dict[str, str] = request.scope["state"]["form"]  # checked by the middleware, token included
        assert jobs is not None
        kind = form.get("kind", "")
        if kind not in web_launch.KINDS:
            return _html(web_html.error_page(400, f"no such kind of run: {kind!r} (eval or perf)"), 400)
        parsed = parse_form(kind, form)
        if parsed.errors:
            return _html(web_launch.form_page(kind, token, form, parsed.errors), 400)
        job = jobs.start(kind, parsed)
        log.info("launched %s job %s", kind, job.job_id)
        return RedirectResponse("/job?" + urlencode({"id": job.job_id}), 303)

    def jobs_list(request: Request) -> Response:
        if jobs is None:
            return _html(web_launch.disabled_page(), 404)
        return _html(web_launch.jobs_page(jobs, token))

    def job(request: Request) -> Response:
        if jobs is None:
            return _html(web_launch.disabled_page(), 404)
        try:
            found = jobs.get(request.query_params.get("id", ""))
        except ConfigError as exc:
            return _html(web_html.error_page(404, str(exc)), 404)
        return _html(web_launch.job_page(jobs, found, token))

    def cancel(request: Request) -> Response:
        assert jobs is not None
        try:
            found = jobs.cancel(request.scope["state"]["form"].get("job", ""))
        except ConfigError as exc:
            return _html(web_html.error_page(404, str(exc)), 404)
        return RedirectResponse("/job?" + urlencode({"id": found.job_id}), 303)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        if jobs is not None:  # the app stops: so do the runs it started (each marks itself interrupted)
            jobs.stop_all()

    launch_routes = [Route("/launch", launch_form, methods=["GET"]), Route("/launch", launch_post, methods=["POST"]),
                     Route("/jobs", jobs_list), Route("/job", job), Route("/jobs/cancel", cancel, methods=["POST"])]
    routes = [*launch_routes,
              Route("/", _guarded(runs)), Route("/run", _guarded(run)), Route("/samples", _guarded(samples)),
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
    app = Starlette(routes=routes, lifespan=lifespan)
    return _ReadOnlyLocal(app, check_host, token, launch, not check_host if require_token is None else require_token)


def serve(outputs_dir: str, host: str = "127.0.0.1", port: int = 7860, *, launch: bool = False,
          token: str | None = None) -> None:
    """Serve the workbench on ``host:port`` until interrupted (``launch``, ``token``: see :func:`build_app`)."""
    import uvicorn

    outputs = Outputs(outputs_dir)
    app = build_app(outputs, check_host=host in _LOOPBACK, launch=launch, token=token)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
