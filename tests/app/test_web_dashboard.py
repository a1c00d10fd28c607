"""The workbench's dashboard, live progress and think pages, over HTTP on a real server (uvicorn, loopback).

The outputs folder is written here in the runner's formats: typed manifests (``RunManifest``) of finished,
failed and running runs, predictions a test appends to while the server runs, and a think result
(``think.json`` from ``summarise_all`` over known traces, ``traces.jsonl``) over a run's predictions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import orjson
import pytest

# Before the workbench test modules are imported: they skip themselves without the extra, leaving no
# names to import.
pytest.importorskip("starlette", reason="starlette is not installed (the `app` extra)")
pytest.importorskip("uvicorn", reason="uvicorn is not installed (the `app` extra)")

from tests.app.make_fixtures import write_large_run
from tests.app.running import running_app, screenshot
from tests.app import test_web
from tests.app.test_web import get

pytestmark = pytest.mark.timeout(120)

HOSTILE_MODEL = '<img src=x onerror="window.__pwned=1">evil'
RUNNING = "20260105_000000_running"
THINKER = "20260103_000000_thinker"
THINK_MODEL = "<b>thinker</b>"
# (run id, model, status, started, {benchmark: (score, ci95, failed, truncated)})
RUNS = [
    ("20260101_000000_a_old", "model-a", "finished", "2026-01-01T00:00:00",
     {"gsm8k": (0.5, (0.4, 0.6), 0, 0)}),
    ("20260102_000000_a_new", "model-a", "finished", "2026-01-02T00:00:00",
     {"gsm8k": (0.75, (0.7, 0.8), 2, 1), "math_500": (0.25, (0.15, 0.35), 0, 3)}),
    ("20260104_000000_a_failed", "model-a", "failed", "2026-01-04T00:00:00",
     {"gsm8k": (0.1, (0.0, 0.2), 9, 9)}),
    ("20260102_120000_evil", HOSTILE_MODEL, "finished", "2026-01-02T12:00:00",
     {"gsm8k": (0.6, (0.5, 0.7), 1, 0)}),
]
TRACE_GROUPS = ("1", "2", "3")
browser_page = test_web.browser_page  # the headless Chromium fixture, shared


def write_manifest(folder: Path, run_id: str, model: str, status: str, started: str, benchmarks: dict) -> None:
    from assay.types.manifest import BenchmarkEntry, RunManifest

    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, value in benchmarks.items():
        if isinstance(value, int):  # a running run: only the sample count so far
            entries[name] = BenchmarkEntry(name=name, num_samples=value)
        else:
            score, ci95, failed, truncated = value
            entries[name] = BenchmarkEntry(name=name, main_metric="acc", score=score, ci95=ci95,
                                           stderr=(ci95[1] - ci95[0]) / 3.92, failed_samples=failed,
                                           truncated_answers=truncated, num_samples=100)
    RunManifest(run_id=run_id, status=status, model=model, started_at=dt.datetime.fromisoformat(started),
                benchmarks=entries).write(folder / "manifest.json")


def write_think(root: Path) -> Path:
    """A think result over the thinker run's math_500 predictions: traces of known groups and tokens."""
    from assay.think.metrics import TraceResult, summarise_all
    from assay.think.report import ThinkReport

    run = write_large_run(root, 30, benchmark="math_500", run_id=THINKER)
    traces = []
    for i in range(0, 30, 2):  # every other sample, a trace each; group = level 1..3
        reached = i % 3 != 0
        traces.append(TraceResult(model=THINK_MODEL, sample_id=str(i), repeat=0, group=TRACE_GROUPS[i % 3],
                                  correct=1.0 if i % 4 else 0.0, reasoning_tokens=100 + 10 * i,
                                  first_correct_tokens=50 + i if reached else None,
                                  first_correct_step=1 if reached else None, step_count=3, thought_count=1 + i % 2,
                                  distinct_tokens=80, method="rule"))
    report = ThinkReport(dataset="math_500", runs={THINK_MODEL: str(run)}, group_by="level", split="paragraphs",
                         markers=["but wait"], first_correct_by="rule (math-verify)", token_source="whitespace",
                         rows=summarise_all(traces, [THINK_MODEL]), unusable={THINK_MODEL: {"without reasoning": 2}})
    folder = root / "think"
    folder.mkdir()
    (folder / "think.json").write_bytes(orjson.dumps(report.model_dump(mode="json")))
    with (folder / "traces.jsonl").open("wb") as handle:
        for trace in traces:
            handle.write(orjson.dumps(trace.to_json()) + b"\n")
    return folder


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dash") / "outputs"
    root.mkdir()
    for run_id, model, status, started, benchmarks in RUNS:
        write_manifest(root / run_id, run_id, model, status, started, benchmarks)
    (root / RUNS[1][0] / "config.yaml").write_text("model: model-a\napi_key: sk-dashboard-secret\nlimit: 100\n")
    (root / RUNS[1][0] / "reports").mkdir()
    (root / RUNS[1][0] / "reports" / "gsm8k.json").write_bytes(orjson.dumps({
        "benchmark": "gsm8k", "main_metric": "acc", "score": 0.75, "num": 100, "model": "model-a", "version": "1",
        "protocol": "8-shot chain of thought <answer> extracted after '####'", "metrics": {}}))
    write_think(root)
    return root


@pytest.fixture(scope="module")
def app_url(outputs, tmp_path_factory):
    with running_app(outputs, tmp_path_factory.mktemp("dash-log"), ui="web") as url:
        yield url.rstrip("/")


def cells(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """The matrix cells: (model, benchmark) → run, score, ±, counts, as the page shows them."""
    out = {}
    for match in re.finditer(r'<td class="cell" data-model="([^"]*)" data-bench="([^"]*)" data-run="([^"]*)">'
                             r'(.*?)</td>', text):
        model, bench, run, inner = match.groups()
        score = re.search(r'class="score">([^<]*)<', inner)
        spread = re.search(r'class="pm">± ([^<]*)<', inner)
        failed = re.search(r'(\d+) failed<', inner)
        truncated = re.search(r'(\d+) truncated<', inner)
        href = re.search(r'class="cell-link" href="([^"]*)"', inner)
        out[(unescape(model), bench)] = {
            "run": unescape(run), "score": score and score.group(1), "pm": spread and spread.group(1),
            "failed": failed.group(1) if failed else "0", "truncated": truncated.group(1) if truncated else "0",
            "href": unescape(href.group(1)) if href else ""}
    return out


def test_matrix_cells_are_the_latest_finished_runs_manifest_scores(app_url, outputs):
    from assay.types.manifest import RunManifest

    status, text = get(app_url + "/dashboard")
    assert status == 200
    found = cells(text)
    expected = {("model-a", "gsm8k"): RUNS[1][0], ("model-a", "math_500"): RUNS[1][0],
                (HOSTILE_MODEL, "gsm8k"): RUNS[3][0]}
    assert {key: cell["run"] for key, cell in found.items()} == expected  # the failed newer run is left out
    for (model, bench), run_id in expected.items():
        entry = RunManifest.load(outputs / run_id / "manifest.json").benchmarks[bench]
        cell = found[(model, bench)]
        assert cell["score"] == f"{entry.score:.3f}"
        assert cell["pm"] == f"{(entry.ci95[1] - entry.ci95[0]) / 2:.3f}"
        assert (cell["failed"], cell["truncated"]) == (str(entry.failed_samples), str(entry.truncated_answers))
        assert cell["href"] == "/run?" + urlencode({"run": run_id})
        assert get(app_url + cell["href"])[0] == 200


def test_hostile_model_names_are_escaped(app_url):
    for path in ("/dashboard", "/think/result?id=think", "/think/traces?" + urlencode(
            {"id": "think", "model": THINK_MODEL, "group": "1"})):
        _, text = get(app_url + path)
        assert "<img src=x" not in text and "<b>thinker</b>" not in text
    _, text = get(app_url + "/dashboard")
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;evil" in text


def test_setup_page_shows_the_protocol_and_the_scrubbed_config(app_url):
    status, text = get(app_url + "/run/setup?" + urlencode({"run": RUNS[1][0]}))
    assert status == 200
    assert "8-shot chain of thought &lt;answer&gt; extracted after &#x27;####&#x27;" in text
    assert "limit: 100" in text and "sk-dashboard-secret" not in text
    _, run_page = get(app_url + "/run?" + urlencode({"run": RUNS[1][0]}))
    assert f'href="/run/setup?{urlencode({"run": RUNS[1][0]})}"' in run_page
    assert get(app_url + "/run/setup?run=../..")[0] == 404
    assert get(app_url + "/run/setup?run=think")[0] == 404


def progress_of(app_url: str, run_id: str) -> dict | None:
    status, text = get(app_url + "/dashboard/progress.json")
    assert status == 200
    return next((r for r in json.loads(text)["running"] if r["run"] == run_id), None)


def test_a_run_started_elsewhere_appears_and_advances_without_a_restart(app_url, outputs):
    assert progress_of(app_url, RUNNING) is None
    folder = outputs / RUNNING
    write_manifest(folder, RUNNING, "model-live", "running", "2026-01-05T00:00:00", {"gsm8k": 10, "math_500": 4})
    (folder / "predictions").mkdir()
    line = orjson.dumps({"sample": {"id": "x"}}) + b"\n"
    progress = progress_of(app_url, RUNNING)
    assert progress.pop("idle_s") is None  # no sample written yet
    assert progress == {
        "run": RUNNING, "model": "model-live", "done": 0, "total": 14,
        "benchmarks": [{"name": "gsm8k", "done": 0, "total": 10}, {"name": "math_500", "done": 0, "total": 4}]}
    path = folder / "predictions" / "gsm8k.jsonl"
    for done in (3, 7):
        with path.open("ab") as handle:
            handle.write(line * (done - (3 if done == 7 else 0)))
        progress = progress_of(app_url, RUNNING)
        assert progress["done"] == done and progress["benchmarks"][0]["done"] == done
        assert 0 <= progress["idle_s"] < 60
    with path.open("ab") as handle:
        handle.write(line[:5])  # half a line: not a sample yet
    assert progress_of(app_url, RUNNING)["done"] == 7
    with path.open("ab") as handle:
        handle.write(line[5:])
    assert progress_of(app_url, RUNNING)["done"] == 8
    _, text = get(app_url + "/dashboard")
    row = re.search(rf'<tr class="running-run" data-run="{RUNNING}">.*?</tr>', text).group(0)
    assert 'class="count">8 / 14<' in row and 'data-bench="gsm8k">gsm8k: <progress max="10" value="8">' in row


def test_count_lines_reads_only_what_was_appended(tmp_path, monkeypatch):
    from assay.app import web_dashboard

    path = tmp_path / "p.jsonl"
    path.write_bytes(b"a\nb\n")
    assert web_dashboard.count_lines(path) == 2
    reads = []
    original = Path.open

    def spy(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        reads.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    assert web_dashboard.count_lines(path) == 2 and reads == []  # unchanged: not opened
    with original(path, "ab") as handle:
        handle.write(b"c\nd")
    assert web_dashboard.count_lines(path) == 3
    with original(path, "ab") as handle:
        handle.write(b"\n")
    assert web_dashboard.count_lines(path) == 4
    path.unlink()
    path.write_bytes(b"x\n")  # replaced, shorter
    assert web_dashboard.count_lines(path) == 1


def test_the_total_of_a_run_without_sample_counts_comes_from_its_reports(tmp_path):
    from assay.app.readers import Outputs, read_eval_run
    from assay.app.web_dashboard import run_progress

    write_manifest(tmp_path / "r", "r", "m", "running", "2026-01-07T00:00:00", {})
    (tmp_path / "r" / "reports").mkdir()
    (tmp_path / "r" / "reports" / "gsm8k.json").write_bytes(orjson.dumps({
        "benchmark": "gsm8k", "main_metric": "acc", "score": None, "num": 12, "model": "m", "version": "1"}))
    (tmp_path / "r" / "predictions").mkdir()
    (tmp_path / "r" / "predictions" / "gsm8k.jsonl").write_bytes(b"{}\n" * 5)
    outputs = Outputs(tmp_path)
    progress = run_progress(outputs, read_eval_run(outputs, "r"))
    assert [(b.name, b.done, b.total) for b in progress.benchmarks] == [("gsm8k", 5, 12)]


def think_json(outputs: Path) -> dict:
    return orjson.loads((outputs / "think" / "think.json").read_bytes())


def test_think_page_numbers_are_those_of_think_json(app_url, outputs):
    from assay.think.report import COLUMNS, ThinkReport, table_rows

    report = ThinkReport.model_validate(think_json(outputs))
    status, text = get(app_url + "/think/result?id=think")
    assert status == 200
    shown = []
    for row in re.finditer(r'<tr class="think-row"[^>]*><td>([^<]*)</td><td><a href="[^"]*">([^<]*)</a></td>(.*?)</tr>',
                           text):
        values = re.findall(r'<td class="num" data-field="[^"]*">([^<]*)</td>', row.group(3))
        shown.append([unescape(row.group(1)), unescape(row.group(2)), *values])
    assert shown == table_rows(report) and len(shown) == len(TRACE_GROUPS) + 1
    points = re.findall(r'<a class="point" href="([^"]*)" data-model="([^"]*)" data-group="([^"]*)" '
                        r'data-value="([^"]*)">', text)
    assert points
    by_row = {(r.model, r.group): r for r in report.rows}
    assert len(re.findall(r"<svg ", text)) == 8
    for _, model, group, value in points:
        row = by_row[(unescape(model), unescape(group))]
        assert float(value) in [getattr(row, field) for _, field, _ in COLUMNS]
    assert "not analysed: 2 without reasoning" in text
    assert f'href="/run?{urlencode({"run": THINKER})}"' in text
    assert {c[0] for c in COLUMNS} <= {unescape(t) for t in re.findall(r"<th>([^<]*)</th>", text)}


def test_think_points_link_to_the_traces_and_their_samples(app_url, outputs):
    traces = [orjson.loads(line) for line in (outputs / "think" / "traces.jsonl").read_bytes().splitlines()]
    predictions = [orjson.loads(line)["sample"]["id"]
                   for line in (outputs / THINKER / "predictions" / "math_500.jsonl").read_bytes().splitlines()]
    _, text = get(app_url + "/think/result?id=think")
    hrefs = {unescape(h) for h in re.findall(r'<a class="point" href="([^"]*)"', text)}
    groups_linked = set()
    for href in hrefs:
        query = parse_qs(urlparse(href).query)
        group = query["group"][0]
        groups_linked.add(group)
        status, page = get(app_url + href)
        assert status == 200
        listed = re.findall(r'<tr class="trace-row" data-sample="([^"]*)"><td><a class="sample-link" href="([^"]*)"',
                            page)
        expected = [t["sample_id"] for t in traces if t["group"] == group]
        assert [sample for sample, _ in listed] == expected
        for sample, link in listed:
            params = parse_qs(urlparse(unescape(link)).query)
            assert params["run"] == [THINKER] and params["bench"] == ["math_500"]
            assert predictions[int(params["row"][0])] == sample
        status, detail = get(app_url + "/part/sample?" + urlparse(unescape(listed[0][1])).query)
        assert status == 200 and f'<code class="sample-id">{listed[0][0]}</code>' in detail
    assert groups_linked == set(TRACE_GROUPS)
    _, everything = get(app_url + "/think/traces?" + urlencode({"id": "think", "model": THINK_MODEL, "group": "all"}))
    assert everything.count('class="trace-row"') == len(traces)


def test_think_pages_refuse_what_is_not_a_result(app_url):
    assert get(app_url + "/think/result?id=" + THINKER)[0] == 404
    assert get(app_url + "/think/result?id=../..")[0] == 404
    assert get(app_url + "/think/traces?" + urlencode({"id": "think", "model": "nobody", "group": "1"}))[0] == 404
    status, text = get(app_url + "/think")
    assert status == 200 and 'href="/think/result?id=think"' in text



def test_in_a_browser_the_dashboard_follows_a_run_and_think_points_open_traces(browser_page, app_url, outputs):
    page, expect = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    live = "20260106_000000_browser"
    page.goto(app_url + "/dashboard")
    expect(page.locator("#matrix")).to_be_visible()
    write_manifest(outputs / live, live, "model-browser", "running", "2026-01-06T00:00:00", {"gsm8k": 5})
    (outputs / live / "predictions").mkdir()
    row = page.locator(f'tr.running-run[data-run="{live}"]')
    expect(row).to_be_visible(timeout=10_000)  # appeared by itself: the page reloaded on the poll
    with (outputs / live / "predictions" / "gsm8k.jsonl").open("ab") as handle:
        handle.write(b'{"sample": {"id": "1"}}\n{"sample": {"id": "2"}}\n')
    expect(row.locator("td.total .count")).to_have_text("2 / 5", timeout=10_000)
    write_manifest(outputs / live, live, "model-browser", "finished", "2026-01-06T00:00:00",
                   {"gsm8k": (0.4, (0.2, 0.6), 0, 0)})
    cell = page.locator('#matrix td.cell[data-model="model-browser"][data-bench="gsm8k"]')
    expect(cell.locator(".score")).to_have_text("0.400", timeout=10_000)  # finished: moved into the matrix
    expect(row).to_have_count(0)
    screenshot(page, "dashboard")
    page.locator('#matrix td.cell[data-bench="math_500"] a.cell-link').click()
    expect(page).to_have_url(re.compile(r"/run\?run=" + RUNS[1][0]))
    page.goto(app_url + "/think/result?id=think")
    expect(page.locator("#think-charts svg")).to_have_count(8)
    screenshot(page, "think")
    page.locator('#think-charts a.point[data-group="2"]').first.click()
    expect(page).to_have_url(re.compile(r"/think/traces\?.*group=2"))
    screenshot(page, "think-traces")
    page.locator("#traces-table a.sample-link").first.click()
    expect(page.locator("code.sample-id")).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    assert errors == []


# ---- over what the real tools wrote (assay eval against the simulator, then assay think) -------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")
    from tests.app.make_fixtures import build

    root = tmp_path_factory.mktemp("dash-real") / "outputs"
    return {"root": root, **build(root, root.parent / "replay", perf=False)}


@pytest.fixture(scope="module")
def real_url(made, tmp_path_factory):
    with running_app(made["root"], tmp_path_factory.mktemp("dash-real-log"), ui="web") as url:
        yield url.rstrip("/")


def test_over_real_runs_the_matrix_and_think_pages_match_their_files(made, real_url):
    from assay.think.report import ThinkReport, table_rows
    from assay.types.manifest import RunManifest

    _, text = get(real_url + "/dashboard")
    found = cells(text)
    expected = {}
    for name in ("thinker", "plain"):
        manifest = RunManifest.load(made[name] / "manifest.json")
        for bench, entry in manifest.benchmarks.items():
            if entry.score is not None:
                expected[(manifest.model, bench)] = (made[name].relative_to(made["root"]).as_posix(), entry)
    assert set(found) == set(expected) and expected
    for key, (run_id, entry) in expected.items():
        assert found[key]["run"] == run_id and found[key]["score"] == f"{entry.score:.3f}"
        assert found[key]["failed"] == str(entry.failed_samples)
    result_id = made["think"].relative_to(made["root"]).as_posix()
    report = ThinkReport.model_validate(orjson.loads((made["think"] / "think.json").read_bytes()))
    _, page = get(real_url + "/think/result?" + urlencode({"id": result_id}))
    shown = [[unescape(c) for c in re.findall(r"<td[^>]*>(?:<a [^>]*>)?([^<]*)", row)]
             for row in re.findall(r'<tr class="think-row".*?</tr>', page)]
    assert shown == table_rows(report)
    traces = [orjson.loads(line) for line in (made["think"] / "traces.jsonl").read_bytes().splitlines()]
    predictions = [orjson.loads(line)["sample"]["id"]
                   for line in (made["thinker"] / "predictions" / "math_500.jsonl").read_bytes().splitlines()]
    href = unescape(re.search(r'<a class="point" href="([^"]*)"', page).group(1))
    group = parse_qs(urlparse(href).query)["group"][0]
    _, listing = get(real_url + href)
    links = re.findall(r'data-sample="([^"]*)"><td><a class="sample-link" href="([^"]*)"', listing)
    assert [unescape(s) for s, _ in links] == [t["sample_id"] for t in traces if t["group"] == group] and links
    for sample, link in links:
        assert predictions[int(parse_qs(urlparse(unescape(link)).query)["row"][0])] == unescape(sample)


def test_a_trace_links_to_its_samples_row_even_past_a_blank_line(tmp_path):
    """The samples page's row is a position in the prediction index, which leaves blank lines out; the think
    page counted raw lines, so after a blank line each link opened the next sample (or none)."""
    from assay.app.readers import Outputs
    from assay.app.web_think import sample_rows

    predictions = tmp_path / "run1" / "predictions"
    predictions.mkdir(parents=True)
    lines = [b'{"sample": {"id": "s0"}}', b"", b'{"sample": {"id": "s1"}}', b'{"sample": {"id": "s2"}}']
    (predictions / "gsm8k.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    assert sample_rows(Outputs(tmp_path), "run1", "gsm8k") == {"s0": 0, "s1": 1, "s2": 2}
