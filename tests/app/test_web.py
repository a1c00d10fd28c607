"""The workbench (``assay app --ui web``) over HTTP, started for real (uvicorn on a free loopback port).

Two runs: a synthetic 120-sample run (known counts: 101 correct, 17 wrong, 2 failed, three subsets) for paging
and filters, and a small hand-written one whose samples carry each badge (error, truncated, unfinished
reasoning, ungraded) and a hostile answer (``<script>``, ``<img onerror>``) that must come back as text.
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode, urlparse

import orjson
import pytest

from tests.app.make_fixtures import write_large_run
from tests.app.running import running_app

pytestmark = pytest.mark.timeout(120)
pytest.importorskip("starlette", reason="starlette is not installed (the `app` extra)")
pytest.importorskip("uvicorn", reason="uvicorn is not installed (the `app` extra)")

BIG = "20260101_000000_big"
MIXED = "20260102_000000_mixed"
HOSTILE = 'Look: <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> so 7.'
SECRET = b"assay-secret-outside-the-outputs"


def write_mixed_run(outputs: Path) -> Path:
    """A run whose five samples are: hostile but correct, failed, truncated while thinking, ungraded, wrong."""
    from assay.types import Completion, SampleResult, Score
    from assay.types.completion import ErrorInfo, Timings, Usage
    from assay.types.message import Message
    from assay.types.report import BenchmarkReport, MetricScore
    from assay.types.sample import Sample

    run = outputs / MIXED
    (run / "predictions").mkdir(parents=True)
    (run / "reports").mkdir()
    timings = Timings(request_start_ns=0, first_token_ns=250_000_000, done_ns=1_500_000_000)

    def result(i: int, text: str, value: float | None, **extra) -> SampleResult:
        completion = Completion(text=text, reasoning=extra.pop("reasoning", f"Thinking about <b>{i}</b>."),
                                finish_reason=extra.pop("finish", "stop"), timings=timings,
                                usage=Usage(prompt_tokens=31, completion_tokens=120 + i, reasoning_tokens=40 + i),
                                error=extra.pop("error", None))
        score = Score(values={"acc": value}, extracted=extra.pop("extracted", "7"),
                      explanation=extra.pop("explanation", None), metadata=extra.pop("metadata", {}))
        sample = Sample(id=extra.pop("id", f"m{i}"), subset="algebra" if i % 2 else "geometry", target="7",
                        messages=[Message.system("You are careful."), Message.user(f"Question {i}: 3 + 4?")])
        return SampleResult(sample=sample, completions=[completion], scores=[score], benchmark="gsm8k")

    results = [
        result(0, HOSTILE, 1.0, id="<i>m0</i>", explanation="matched the last \\boxed{} <u>7</u>"),
        result(1, "", None, error=ErrorInfo(kind="server", message="HTTP 503: <overloaded>", status=503),
               extracted=None),
        result(2, "", 0.0, finish="length", metadata={"unfinished_reasoning": True}, extracted=None),
        result(3, "Maybe seven?", None, extracted=None),
        result(4, "It is 8.", 0.0, extracted="8"),
    ]
    with (run / "predictions" / "gsm8k.jsonl").open("wb") as handle:
        for item in results:
            handle.write(orjson.dumps(item.model_dump(mode="json")) + b"\n")
    report = BenchmarkReport(benchmark="gsm8k", main_metric="acc", score=1 / 3, num=5, model="mixed-model",
                             version="1", failed_samples=1, truncated_answers=1, unfinished_reasoning=1,
                             metrics={"acc": MetricScore(score=1 / 3, stderr=0.272, ci95=(0.0, 0.867), num=3)})
    (run / "reports" / "gsm8k.json").write_bytes(orjson.dumps(report.model_dump(mode="json")))
    (run / "manifest.json").write_bytes(orjson.dumps({
        "run_id": MIXED, "status": "finished", "model": "mixed-model", "started": "2026-01-02T00:00:00",
        "finished": "2026-01-02T00:02:05", "benchmarks": {"gsm8k": {"version": "1"}}}))
    return run


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("web")
    root = base / "outputs"
    root.mkdir()
    write_large_run(root, 120, run_id=BIG)
    write_mixed_run(root)
    outside = base / "outside"
    (outside / "predictions").mkdir(parents=True)
    (outside / "predictions" / "gsm8k.jsonl").write_bytes(b'{"sample": {"id": "' + SECRET + b'"}}\n')
    (outside / "manifest.json").write_bytes(b'{"model": "' + SECRET + b'"}')
    (base / "secret.txt").write_bytes(SECRET)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def app_url(outputs, tmp_path_factory):
    with running_app(outputs, tmp_path_factory.mktemp("web-log"), ui="web") as url:
        yield url.rstrip("/")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples_url(base: str, path: str = "/samples", run: str = BIG, **params) -> str:
    return f"{base}{path}?" + urlencode({"run": run, "bench": "gsm8k", **params})


def rows_of(text: str) -> list[int]:
    return [int(r) for r in re.findall(r'class="sample-row[^"]*" data-row="(\d+)"', text)]


def test_runs_page_lists_every_run_with_scores_and_counts(app_url, outputs):
    status, text = get(app_url + "/")
    assert status == 200
    assert "big-model" in text and "mixed-model" in text
    assert "0.333" in text and "± 0.272" in text and "[0.000, 0.867]" in text  # score ± stderr, 95% interval
    assert "2 min 05 s" in text
    assert f"/samples?run={MIXED}&amp;bench=gsm8k" in text
    assert SECRET.decode() not in text  # the symlink out of the folder is not a run
    write_large_run(outputs, 3, run_id="20260103_000000_late")  # a run that appears after start
    status, text = get(app_url + "/")
    assert "20260103_000000_late" in text


def test_run_page(app_url):
    status, text = get(f"{app_url}/run?run={MIXED}")
    assert status == 200
    assert "truncated: 1" in text and "unfinished reasoning: 1" in text and "samples →" in text


def test_a_run_still_being_written_is_read_up_to_its_last_whole_line(app_url, outputs):
    run = write_large_run(outputs, 4, run_id="20260104_000000_writing")
    with (run / "predictions" / "gsm8k.jsonl").open("ab") as handle:
        handle.write(b'{"sample": {"id": "torn", "messages": [')
    status, text = get(samples_url(app_url, run="20260104_000000_writing"))
    assert status == 200 and "4 of 4 samples match" in text


def test_samples_list_pages_of_fifty_in_dataset_order(app_url):
    status, text = get(samples_url(app_url))
    assert status == 200 and "120 of 120 samples match" in text
    assert rows_of(text) == list(range(50))
    assert "page 1 of 3" in text
    _, text = get(samples_url(app_url, "/part/list", page=3))
    assert rows_of(text) == list(range(100, 120)) and "page 3 of 3" in text
    _, text = get(samples_url(app_url, "/part/list", page=99))  # clamped to the last page
    assert "page 3 of 3" in text


@pytest.mark.parametrize(("params", "matching", "first"), [
    ({"status": "correct"}, 101, 0),
    ({"status": "wrong"}, 17, 6),
    ({"status": "error"}, 2, 49),
    ({"subset": "s1"}, 40, 1),
    ({"subset": "s1", "status": "wrong"}, 6, 13),
    ({"min": "0.5"}, 101, 0),
    ({"q": "question 77:"}, 1, 77),
    ({"subset": "nope"}, 0, None),
])
def test_samples_filters(app_url, params, matching, first):
    status, text = get(samples_url(app_url, "/part/list", **params))
    assert status == 200
    assert f"{matching} of 120 samples match" in text
    assert (rows_of(text) or [None])[0] == first


def test_a_bad_score_bound_is_a_field_error_not_a_crash(app_url):
    for path in ("/samples", "/part/list"):
        status, text = get(samples_url(app_url, path, min="abc<b>"))
        assert status == 200
        assert "is not a number" in text and "abc<b>" not in text and "abc&lt;b&gt;" in text
        assert "120 of 120 samples match" in text  # the bad field is ignored, the rest still applies
    _, text = get(samples_url(app_url, "/part/list", min="nan"))
    assert "give a finite number" in text


def test_detail_shows_the_sample_and_its_neighbours(app_url):
    status, text = get(samples_url(app_url, "/part/sample", status="wrong", row=13))
    assert status == 200
    assert "Question 13: what is 13 + 1?" in text and "The answer is 15." in text
    assert 'class="prev" href' in text and 'data-row="6"' in text and 'data-row="20"' in text
    assert "Adding one to 13." in text and "<details" in text
    # The whole page opened on a sample lists the page that holds it.
    _, text = get(samples_url(app_url, row=77))
    assert 77 in rows_of(text) and "page 2 of 3" in text and "Question 77:" in text


def test_go_to_a_sample_by_its_number(app_url):
    """The pager's "go to #N" opens the N-th sample in dataset order (numbered from 1, as the list is)."""
    _, text = get(samples_url(app_url, goto=78))
    assert 'class="goto"' in text
    assert "Question 77:" in text and "page 2 of 3" in text and 'class="sample-row selected" data-row="77"' in text
    _, text = get(samples_url(app_url, goto=0))
    assert 'class="sample-row selected" data-row="0"' in text


def test_detail_badges_chips_and_grade(app_url):
    def detail(row: int) -> str:
        status, text = get(samples_url(app_url, "/part/sample", run=MIXED, row=row))
        assert status == 200
        return text

    text = detail(0)
    assert "You are careful." in text and "Question 0: 3 + 4?" in text  # every prompt message
    assert "Reasoning · 40 tokens" in text and "Thinking about &lt;b&gt;0&lt;/b&gt;." in text
    assert "TTFT: <b>250 ms</b>" in text and "latency: <b>1.50 s</b>" in text and "finish: <b>stop</b>" in text
    assert "completion tokens: <b>120</b>" in text
    assert re.search(r'<h4>Extracted</h4><pre class="text extracted">7</pre></div><div><h4>Target</h4>', text)
    assert "matched the last \\boxed{} &lt;u&gt;7&lt;/u&gt;" in text
    assert 'data-badge="error"' not in text and 'data-badge="ungraded"' not in text
    text = detail(1)
    assert 'data-badge="error"' in text and "HTTP 503: &lt;overloaded&gt;" in text and 'data-badge="ungraded"' in text
    text = detail(2)
    assert 'data-badge="truncated"' in text and 'data-badge="unfinished"' in text and "finish: <b>length</b>" in text
    text = detail(3)
    assert 'data-badge="ungraded"' in text and 'data-badge="error"' not in text
    status, _ = get(samples_url(app_url, "/part/sample", run=MIXED, row=5))
    assert status == 404


def test_model_text_is_escaped_everywhere(app_url):
    for path in ("/samples", "/part/list", "/part/sample"):
        _, text = get(samples_url(app_url, path, run=MIXED, row=0))
        assert "<script>window" not in text and "<img src=x" not in text and "<i>m0</i>" not in text
        assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in text
        assert "&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;" in text


def test_responses_forbid_inline_scripts(app_url):
    with urllib.request.urlopen(app_url + "/", timeout=10) as response:
        policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "default-src 'none'" in policy


def _raw(app_url: str, method: str, target: str, host: str | None = None) -> tuple[int, bytes]:
    parsed = urlparse(app_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        connection.putheader("Content-Length", "5" if method != "GET" else "0")
        connection.endheaders(b"hello" if method != "GET" else None)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("target", [
    "/run?run=..", "/run?run=../outside", "/run?run=escape", "/run?run=%2Fetc",
    "/samples?run=..%2Foutside&bench=gsm8k", "/samples?run=escape&bench=gsm8k",
    f"/samples?run={BIG}&bench=..%2F..%2Foutside%2Fpredictions%2Fgsm8k",
    f"/part/sample?run={BIG}&bench=..&row=0", "/part/list?run=..%2F..&bench=gsm8k",
    "/static/../web.py", "/static/..%2Fweb.py", "/static/%2e%2e/%2e%2e/secret.txt", "/static/../../../secret.txt",
    "/../secret.txt",
])
def test_nothing_outside_the_run_folders_is_read(app_url, target):
    status, body = _raw(app_url, "GET", target)
    assert status in (400, 404), (target, status)
    assert SECRET not in body and b"def build_app" not in body


@pytest.mark.parametrize(("method", "target"), [
    ("POST", "/"), ("POST", "/samples"), ("POST", "/upload"), ("PUT", "/static/web.js"), ("DELETE", "/"),
    ("PATCH", f"/samples?run={BIG}&bench=gsm8k"),
])
def test_writes_are_refused(app_url, method, target):
    status, body = _raw(app_url, method, target)
    assert status == 405 and b"read only" in body


def test_a_foreign_host_name_is_refused(app_url):
    assert _raw(app_url, "GET", "/", host="evil.example")[0] == 400
    assert _raw(app_url, "GET", "/", host=f"localhost:{urlparse(app_url).port}")[0] == 200


def test_static_assets_are_served_from_the_package(app_url):
    for name in ("web.js", "web.css"):
        status, text = get(f"{app_url}/static/{quote(name)}")
        assert status == 200 and len(text) > 100


CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page(tmp_path):
    """A headless Debian Chromium page (Playwright); every request to anything but loopback is refused."""
    import os
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = os.environ.get("ASSAY_CHROMIUM", "/usr/bin/chromium")
    if not shutil.which(chromium):
        pytest.skip(f"no Chromium at {chromium} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1500, "height": 1000})
        outside: list[str] = []

        def only_loopback(route):  # noqa: ANN001
            if route.request.url.startswith("http://127.0.0.1"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_loopback)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sync_api.expect.set_options(timeout=15_000)
        yield page, sync_api.expect
        context.close()
        assert outside == []


def test_in_a_browser_rows_keys_url_and_reload(browser_page, app_url, tmp_path):
    page, expect = browser_page
    page.goto(app_url + "/")
    page.locator("#runs-table tr.run-row", has_text="mixed-model").locator("td.num").first.click()
    expect(page).to_have_url(re.compile(rf"/run\?run={MIXED}$"))
    page.get_by_text("samples →").click()
    expect(page.locator("#list-info")).to_have_text("5 of 5 samples match")
    page.goto(samples_url(app_url))
    expect(page.locator("#list-info")).to_have_text("120 of 120 samples match")
    page.locator('tr.sample-row[data-row="2"]').click()
    sample = page.locator("#sample")
    expect(sample).to_have_attribute("data-row", "2")
    expect(sample).to_contain_text("Question 2: what is 2 + 1?")
    expect(page.locator('tr.sample-row[data-row="2"]')).to_have_class(re.compile("selected"))
    page.keyboard.press("j")
    expect(sample).to_have_attribute("data-row", "3")
    expect(page).to_have_url(re.compile(r"row=3"))
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(sample).to_have_attribute("data-row", "1")
    expect(page).to_have_url(re.compile(r"row=1(&|$)"))
    page.reload()
    expect(page.locator("#sample")).to_have_attribute("data-row", "1")
    expect(page.locator("#sample")).to_contain_text("Adding one to 1.")
    expect(page.locator('tr.sample-row[data-row="1"]')).to_have_class(re.compile("selected"))

    # j past the end of a page opens the next page's first sample, with its list.
    page.goto(samples_url(app_url, row=49))
    expect(page.locator("#sample")).to_have_attribute("data-row", "49")
    page.keyboard.press("j")
    expect(page.locator("#sample")).to_have_attribute("data-row", "50")
    expect(page.locator(".pager .at")).to_have_text("page 2 of 3")
    expect(page).to_have_url(re.compile(r"page=2"))

    # Filters apply as they change; a bad bound is a field error.
    page.locator("#filters input[name=min]").fill("abc")
    expect(page.locator("#min-error")).to_have_text("'abc' is not a number")
    page.locator("#filters input[name=min]").fill("")
    expect(page.locator("#min-error")).to_have_text("")
    page.locator("#filters select[name=status]").select_option("wrong")
    expect(page.locator("#list-info")).to_have_text("17 of 120 samples match")
    expect(page).to_have_url(re.compile(r"status=wrong"))
    page.locator("#filters input[name=q]").fill("question 20:")
    expect(page.locator("#list-info")).to_have_text("1 of 120 samples match")

    # A hostile answer is shown as text: no script ran, no image element was made.
    page.goto(samples_url(app_url, run=MIXED, row=0))
    expect(page.locator("#sample pre.answer")).to_have_text(HOSTILE)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#detail img").count() == 0
    page.locator("details.reasoning summary").click()
    expect(page.locator("details.reasoning .md")).to_be_visible()  # rendered (the raw <pre> is behind a toggle)
    page.screenshot(path=str(tmp_path / "workbench-samples.png"), full_page=True)
    assert (tmp_path / "workbench-samples.png").stat().st_size > 10_000


def test_the_workbench_is_the_default_ui():
    from click.testing import CliRunner

    from assay.cli.main import build_cli

    result = CliRunner().invoke(build_cli(), ["app", "--help"], terminal_width=200)
    assert result.exit_code == 0 and "[default: web]" in result.output and "127.0.0.1" in result.output


def test_a_run_written_by_today_runner_shows_its_start_and_duration(tmp_path):
    """The runner writes the typed manifest (started_at, finished_at); the runs page read the old keys
    (started, finished) and showed neither start nor duration for it."""
    import datetime as dt

    from assay.app.readers import Outputs
    from assay.app.web_data import run_line
    from assay.types.manifest import RunManifest

    folder = tmp_path / "20260301_000000_m"
    (folder / "predictions").mkdir(parents=True)
    started = dt.datetime(2026, 3, 1, 0, 0, 0)
    manifest = RunManifest(run_id=folder.name, status="finished", model="typed-model", started_at=started,
                           finished_at=started + dt.timedelta(seconds=75))
    (folder / "manifest.json").write_text(manifest.model_dump_json())
    line = run_line(Outputs(tmp_path), folder.name)
    assert (line.model, line.status, line.started, line.duration_s) == (
        "typed-model", "finished", "2026-03-01T00:00:00", 75.0)
