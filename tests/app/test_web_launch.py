"""Launching runs from the workbench (``assay app --launch``), over a real uvicorn server on loopback.

The runs are real: a tiny ``--eval-type sim`` eval of two gsm8k fixture samples, and a long ``assay perf --sim``
that is cancelled. The safety rules are checked from outside, as a page of another site would meet them: a POST
without the token, with a wrong one, from a foreign Origin or with none is refused; off loopback even a GET needs
the token. A key typed in the form must never be written or shown.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

import orjson
import pytest

# Before the workbench test modules are imported: they skip themselves without the extra, leaving no
# names to import.
pytest.importorskip("starlette", reason="starlette is not installed (the `app` extra)")
pytest.importorskip("uvicorn", reason="uvicorn is not installed (the `app` extra)")

from tests.app import test_web
from tests.app.running import free_port, running_app, screenshot

pytestmark = pytest.mark.timeout(180)
pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")

GSM8K = Path(__file__).resolve().parents[1] / "eval" / "fixtures" / "gsm8k"
API_KEY = "sk-launch-test-0123456789abcdef"
browser_page = test_web.browser_page  # the fixture: headless Chromium, nothing but loopback reachable


class Client:
    """Plain HTTP to the app, redirects not followed, with the app's Origin on POSTs unless told otherwise."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlparse(url)
        self.host, self.port, self.token = parts.hostname, parts.port, token
        self.origin = f"http://{parts.netloc}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, str]:
        status, _, text = self.request("GET", path)
        return status, text

    def post(self, path: str, fields: dict[str, str], *, token: str | None = "", origin: str | None = "",
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        """``token``/``origin``: "" for the right ones, None to leave them out, else that value."""
        data = dict(fields)
        if token is not None:
            data["token"] = token or self.token
        sent = {"content-type": "application/x-www-form-urlencoded", **(headers or {})}
        if origin is not None:
            sent["origin"] = origin or self.origin
        return self.request("POST", path, urlencode(data).encode(), sent)


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> tuple[Client, Path, Path]:
    base = tmp_path_factory.mktemp("launch")
    outputs = base / "outputs"
    outputs.mkdir()
    with running_app(outputs, base, ui="web", args=["--launch"]) as url:
        log = (base / "app.log").read_text()
        token = re.search(r"token (\S+)", log)
        assert token, log
        yield Client(url, token.group(1)), outputs, base


def _job_id(headers: dict[str, str]) -> str:
    location = headers.get("location", "")
    assert location.startswith("/job?id="), headers
    return location.removeprefix("/job?id=")


def _wait_status(client: Client, job: str, wanted: set[str], timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        status, page = client.get(f"/job?id={job}")
        assert status == 200
        found = re.search(r'data-status="([a-z]+)"', page)
        assert found, page
        if found.group(1) in wanted:
            return page
        assert time.monotonic() < deadline, f"job {job} still {found.group(1)}:\n{page[-3000:]}"
        time.sleep(0.5)


def _tiny_eval(**extra: str) -> dict[str, str]:
    return {"kind": "eval", "eval_type": "sim", "model": "launched-sim", "datasets": "gsm8k", "limit": "2",
            "dataset_args": orjson.dumps({"gsm8k": {"dataset_id": str(GSM8K)}}).decode(), **extra}


def test_the_form_lists_every_config_field(app):
    from assay.eval.config import TaskConfig
    from assay.perf.config import PerfConfig

    client, _, _ = app
    for kind, model, forced in (("eval", TaskConfig, "work_dir"), ("perf", PerfConfig, "outputs_dir")):
        status, page = client.get(f"/launch?kind={kind}")
        assert status == 200
        shown = re.findall(r'data-field="([a-z_]+)"', page)
        assert shown == [name for name in model.model_fields if name != forced]
        assert f'value="{client.token}"' in page  # the CSRF token, in the form
    status, page = client.get("/launch?kind=eval")
    assert '<input type="password" name="api_key"' in page
    assert '<code>--eval-batch-size</code>' in page and "Requests in flight at once" in page  # the CLI's flag, help
    assert re.search(r'<select name="judge_strategy".*?<option value="llm_recall">', page)


@pytest.mark.parametrize("case", ["no token", "wrong token", "foreign origin", "no origin", "null origin",
                                  "foreign referer"])
def test_a_post_that_is_not_from_the_app_is_refused(app, case):
    client, outputs, _ = app
    token = {"no token": None, "wrong token": client.token[:-2] + "xx"}.get(case, "")
    origin = {"foreign origin": "http://evil.example", "no origin": None, "null origin": "null",
              "foreign referer": None}.get(case, "")
    headers = {"referer": "http://evil.example/page"} if case == "foreign referer" else {}
    status, _, text = client.post("/launch", _tiny_eval(), token=token, origin=origin, headers=headers)
    assert status == 403, text
    assert not (outputs / ".assay-app").exists() or not any((outputs / ".assay-app" / "jobs").iterdir())


def test_writes_elsewhere_stay_refused(app):
    client, _, _ = app
    for method, path in (("POST", "/"), ("POST", "/samples"), ("PUT", "/launch"), ("DELETE", "/jobs")):
        status, _, _ = client.request(method, path, b"x", {"origin": client.origin,
                                                           "content-type": "application/x-www-form-urlencoded",
                                                           "x-assay-token": client.token})
        assert status == 405, (method, path)


def test_a_bad_value_is_shown_on_its_field(app):
    client, outputs, _ = app
    status, _, page = client.post("/launch", _tiny_eval(limit="-1", eval_batch_size="many", api_key=API_KEY,
                                                        judge_model_args="{not json"))
    assert status == 400
    errors = dict(re.findall(r'id="([a-z_]+)-error" role="alert">([^<]+)<', page))
    assert set(errors) == {"limit", "eval_batch_size", "judge_model_args"}, errors
    assert "greater than 0" in errors["limit"]
    assert "not a valid integer" in errors["eval_batch_size"]
    assert "bad JSON" in errors["judge_model_args"]
    assert "Traceback" not in page and API_KEY not in page
    assert 'value="-1"' in page  # what was typed stays, to be corrected
    # A check across fields is one line above the form.
    status, _, page = client.post("/launch", {"kind": "eval", "eval_type": "openai_api"})
    assert status == 400 and "needs api_url" in page


def test_a_tiny_sim_eval_runs_and_never_shows_its_key(app):
    client, outputs, base = app
    status, headers, _ = client.post("/launch", _tiny_eval(api_key=API_KEY))
    assert status == 303
    job = _job_id(headers)
    page = _wait_status(client, job, {"finished", "failed"})
    assert 'data-status="finished"' in page, page[-3000:]
    run = re.search(r'class="run-folder" href="/run\?run=([^"]+)">', page)
    assert run, page
    run_dir = outputs / run.group(1)
    assert "2 of 2 samples answered" in page
    assert (run_dir / "manifest.json").is_file()
    assert orjson.loads((run_dir / "manifest.json").read_bytes())["status"] == "finished"
    _, runs = client.get("/")
    assert run.group(1) in runs and "launched-sim" in runs
    _, jobs = client.get("/jobs")
    assert job in jobs and 'data-status="finished"' in jobs
    # The key reached the run (its config says one was set) but no file, log or page holds it.
    config = (run_dir / "config.yaml").read_text()
    assert "api_key: '***'" in config
    files = [p for p in outputs.rglob("*") if p.is_file()] + [base / "app.log"]
    assert any(p.name == "input.yaml" for p in files) and any(p.name == "log.txt" for p in files)
    for path in files:
        assert API_KEY.encode() not in path.read_bytes(), path
    for path in (f"/job?id={job}", "/jobs", "/", f"/run?run={run.group(1)}"):
        assert API_KEY not in client.get(path)[1]


def test_cancel_stops_a_long_perf_run_and_marks_it_interrupted(app):
    client, outputs, _ = app
    status, headers, _ = client.post("/launch", {"kind": "perf", "sim": "true", "parallel": "2",
                                                 "number": "1000000", "name": "long-one"})
    assert status == 303
    job = _job_id(headers)
    deadline = time.monotonic() + 60
    while True:  # until it is sending: its run folder exists
        _, page = client.get(f"/job?id={job}")
        if 'class="run-folder"' in page:
            break
        assert 'data-status="running"' in page, page[-3000:]
        assert time.monotonic() < deadline, page[-3000:]
        time.sleep(0.5)
    assert 'action="/jobs/cancel"' in page and '<meta http-equiv="refresh"' in page
    time.sleep(1.0)
    assert re.search(r"parallel_2_number_1000000: \d+ requests recorded", client.get(f"/job?id={job}")[1])
    status, headers, _ = client.post("/jobs/cancel", {"job": job})
    assert status == 303
    page = _wait_status(client, job, {"cancelled", "failed", "finished"}, timeout_s=60)
    assert 'data-status="cancelled"' in page
    assert "exit code 130" in page and '<meta http-equiv="refresh"' not in page
    assert 'action="/jobs/cancel"' not in page
    run = re.search(r'class="run-folder" href="/perf/run\?run=perf%2F([^"]+)">', page)
    assert run, page
    summaries = list((outputs / "perf" / run.group(1)).glob("*/summary.json"))
    assert summaries and all(orjson.loads(p.read_bytes())["interrupted"] for p in summaries)
    assert "interrupted" in page  # the log tail says so too


def test_cancel_marks_an_eval_interrupted_and_keeps_its_samples(app):
    client, outputs, _ = app
    status, headers, _ = client.post("/launch", _tiny_eval(limit="", model="slow-sim", eval_batch_size="1",
                                                           model_args='{"ttft_ms": 1500}'))
    assert status == 303
    job = _job_id(headers)
    deadline = time.monotonic() + 60
    while "1 of 4 samples answered" not in (page := client.get(f"/job?id={job}")[1]):
        assert 'data-status="running"' in page and time.monotonic() < deadline, page[-3000:]
        time.sleep(0.3)
    assert client.post("/jobs/cancel", {"job": job})[0] == 303
    page = _wait_status(client, job, {"cancelled", "failed", "finished"}, timeout_s=60)
    assert 'data-status="cancelled"' in page
    run = re.search(r'class="run-folder" href="/run\?run=([^"]+)">', page)
    assert run, page
    manifest = orjson.loads((outputs / run.group(1) / "manifest.json").read_bytes())
    assert manifest["status"] == "interrupted"
    assert "--use-cache" in page  # the log tail says how to resume



def test_in_a_browser_launch_watch_and_open_the_run(app, browser_page):
    """The real thing: Chromium fills the form (its own Origin and the page's token go with it), a bad value comes
    back on its field, the corrected form starts the run and the job page reloads itself until it finishes."""
    client, _, _ = app
    page, expect = browser_page
    page.goto(f"{client.origin}/launch?kind=eval")
    page.fill("#f-eval_type", "sim")
    page.fill("#f-model", "browser-sim")
    page.fill("#f-datasets", "gsm8k")
    page.fill("#f-dataset_args", orjson.dumps({"gsm8k": {"dataset_id": str(GSM8K)}}).decode())
    page.fill("#f-limit", "0")
    page.fill("#f-api_key", API_KEY)
    page.click("button[type=submit]")
    expect(page.locator("#limit-error")).to_contain_text("greater than 0")
    screenshot(page, "launch-form-error")
    assert page.input_value("#f-api_key") == "" and page.input_value("#f-model") == "browser-sim"
    page.fill("#f-limit", "1")
    page.click("button[type=submit]")
    expect(page.locator("[data-status]")).to_have_text("finished", timeout=90_000)
    screenshot(page, "job-finished")
    assert API_KEY not in page.content()
    page.click("a.run-folder")
    expect(page.locator("h1")).to_have_text("browser-sim")


def test_secret_values_are_kept_apart_from_the_written_ones():
    from assay.app.launch import parse_form, secret_args, secret_texts

    parsed = parse_form("eval", {"model": "m", "api_url": "http://user:pw@127.0.0.1:9/v1", "api_key": "k-1",
                                 "judge_model_args": '{"model_id": "j", "api_key": "k-2"}', "datasets": "gsm8k"})
    assert not parsed.errors
    assert parsed.values == {"model": "m", "datasets": ["gsm8k"]}
    assert set(parsed.secrets) == {"api_url", "api_key", "judge_model_args"}
    assert "--api-key=k-1" in secret_args("eval", parsed.secrets)
    blanked = secret_texts("eval", parsed.secrets)  # what a log tail blanks: the credentials, not "j" or "m"
    assert "k-2" not in blanked and "pw" not in blanked  # too short to blank safely...
    parsed = parse_form("eval", {"model": "m", "api_key": "key-1111", "datasets": "gsm8k",
                                 "judge_model_args": '{"model_id": "judge", "api_key": "key-2222"}'})
    assert set(secret_texts("eval", parsed.secrets)) == {"key-1111", "key-2222"}  # ...these are blanked
    parsed = parse_form("perf", {"sim": "true", "headers": "X-Trace=1 'Authorization=Bearer k-3'", "parallel": "1 2",
                                 "number": "4 8"})
    assert not parsed.errors and parsed.values == {"sim": True, "parallel": [1, 2], "number": [4, 8]}
    assert secret_args("perf", parsed.secrets) == ["--headers=X-Trace=1", "--headers=Authorization=Bearer k-3"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``build_app`` as ``--host 0.0.0.0`` builds it (no Host check, token on every request), and one with
    launching off (the default), each on a loopback port in this process."""
    import uvicorn

    from assay.app.readers import Outputs
    from assay.app.web import build_app

    root = tmp_path_factory.mktemp("served") / "outputs"
    root.mkdir()
    servers, urls = [], {}
    for name, app in (("open", build_app(Outputs(str(root)), check_host=False, token="open-token-123")),
                      ("default", build_app(Outputs(str(root)), token="t"))):
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{port}/"
    yield urls
    for server in servers:
        server.should_exit = True


def test_off_loopback_every_request_needs_the_token(served):
    client = Client(served["open"], "open-token-123")
    for path in ("/", "/perf", "/static/web.css", "/?token=wrong"):
        assert client.get(path)[0] == 403, path
    status, headers, _ = client.request("GET", "/perf?token=open-token-123&x=1")
    assert status == 303 and headers["location"] == "/perf?x=1"  # the token leaves the address bar
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.request("GET", "/", headers={"cookie": cookie.split(";")[0]})[0] == 200
    assert client.request("GET", "/", headers={"x-assay-token": "open-token-123"})[0] == 200
    assert client.request("GET", "/", headers={"cookie": "assay_token=nope"})[0] == 403
    # Launching is still off unless asked for: no POST at all.
    status, _, _ = client.post("/launch", {"kind": "eval"}, headers={"x-assay-token": "open-token-123"})
    assert status == 405


def test_launching_is_off_by_default(served):
    client = Client(served["default"], "t")
    assert client.get("/launch?kind=eval")[0] == 404 and "--launch" in client.get("/launch")[1]
    assert client.get("/jobs")[0] == 404
    assert client.post("/launch", _tiny_eval())[0] == 405
    assert "launch a run" not in client.get("/")[1]
