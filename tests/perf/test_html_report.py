"""``report.html``: written by a run and by ``assay perf rebuild``, the same numbers as ``summary.json``, nothing
fetched from anywhere, server text escaped, small for 10,000 requests, and clean in a real browser."""

from __future__ import annotations

import json
import math
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from assay.perf import PerfConfig, run_perf
from assay.perf.finish import PlanSettings, finish_plan, finish_run, rebuild_run, start_plan
from assay.perf.metrics import RequestMetrics
from assay.perf.plans import LoadPlan
from assay.perf.records import RecordWriter, RequestRecord
from assay.perf.svg import histogram_panel, line_panel, nice_ticks
from assay.sim import SimConfig, SimProcess
from tests.helpers.loopback_server import LoopbackServer

pytestmark = pytest.mark.timeout(120)

HOSTILE = "<script>alert(1)</script>"
# Attributes through which a page can make the browser fetch or go somewhere.
URL_ATTRIBUTES = {"src", "href", "xlink:href", "action", "formaction", "srcset", "poster", "data", "background",
                  "manifest", "ping", "cite", "longdesc"}


class Page(HTMLParser):
    """What the tests look at in a report: every tag with its attributes, and the cells with a ``data-key``
    under the ``<section id>`` they sit in."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: dict[str, dict[str, str | None]] = {}
        self.text: list[str] = []
        self._section = ""
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "section":
            self._section = found.get("id") or ""
        if tag == "td" and found.get("data-key"):
            self.cells.setdefault(self._section, {})[found["data-key"]] = found.get("data-value")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_self_contained(page: Page, raw: str) -> None:
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed", "img", "base", "form"), tag
        for name, value in attrs.items():
            if name in URL_ATTRIBUTES:
                assert value is not None and (value.startswith("#") or value.startswith("data:")), (tag, name, value)
        if tag == "script":
            assert "src" not in attrs
    assert "url(" not in raw and "@import" not in raw


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    """A two-plan sweep with two repeats each and an SLO against the simulator (which serves /metrics)."""
    outputs = tmp_path_factory.mktemp("perf-report")
    with SimProcess(SimConfig(port=0, latency_model="fixed", ttft_ms=5, itl_ms=1, output_len="4")) as sim:
        result = run_perf(PerfConfig(url=sim.base_url + "/chat/completions", model="assay-sim", prompt="Hello.",
                                     parallel=[1, 4], number=[6, 12], max_tokens=4, repeats=2, slo=["ttft_ms=500"],
                                     outputs_dir=str(outputs), charts=False))
    return result.run_dir


def _summaries(run_dir: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in run_dir.glob("*/summary.json")}


def _lookup(summary: dict, key: str):  # noqa: ANN202
    value = summary
    for part in key.split("."):
        value = value[part]
    return value


def test_a_run_writes_a_report_with_the_summary_numbers(sim_run):
    raw = (sim_run / "report.html").read_text(encoding="utf-8")
    page = Page(raw)
    assert_self_contained(page, raw)
    summaries = _summaries(sim_run)
    assert len(summaries) == 2
    for plan, summary in summaries.items():
        cells = page.cells[f"plan-{plan}"]
        keys = ["total_requests", "succeeded_requests", "failed_requests", "request_throughput_rps",
                "output_throughput_tps", "goodput_rps", "mean_ttft_s", "mean_latency_s", "percentiles.ttft_s.p50",
                "percentiles.ttft_s.p99", "percentiles.tpot_s.p90", "percentiles.itl_s.p99",
                "percentiles.e2e_latency_s.p50", "server.client_minus_server_ms.ttft",
                "repeat_stats.request_throughput_rps.mean", "repeat_stats.mean_ttft_s.ci95_high"]
        for key in keys:
            expected = _lookup(summary, key)
            assert expected is not None, key
            assert float(cells[key]) == expected, (plan, key)  # the exact value, not only its rounding
    text = " ".join(page.text)
    assert "Sweep" in text and "Server's own metrics" in text and "Requests worth a look" in text
    assert "assay-sim" in text and "Over 2 repeats" in text
    # Charts are inline SVG: the sweep's four panels, and per plan three histograms and three server panels.
    assert sum(1 for tag, _ in page.tags if tag == "svg") == 4 + 2 * (3 + 3)
    assert [tag for tag, _ in page.tags].count("script") == 1  # the table sorter, nothing else


def test_rebuild_writes_the_same_report(sim_run, tmp_path):
    copy = tmp_path / sim_run.name
    shutil.copytree(sim_run, copy)
    (copy / "report.html").unlink()
    rebuild_run(copy)
    assert (copy / "report.html").read_bytes() == (sim_run / "report.html").read_bytes()


def test_the_url_shown_has_no_credentials(sim_run, tmp_path):
    copy = tmp_path / sim_run.name
    shutil.copytree(sim_run, copy)
    config = (copy / "config.yaml").read_text()  # as a hand-edited file might hold it
    (copy / "config.yaml").write_text(config.replace("url: http://", "url: http://user:hunter2@", 1) + "\n")
    rebuild_run(copy)
    raw = (copy / "report.html").read_text()
    assert "hunter2" not in raw and "***@127.0.0.1" in raw


async def _hostile(request: web.Request) -> web.StreamResponse:
    return web.json_response({"error": {"message": f"bad request {HOSTILE} & more", "type": HOSTILE}}, status=400)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """Every request answered 400 with a script in the message; the model name carries markup too."""
    outputs = tmp_path_factory.mktemp("perf-hostile")
    with LoopbackServer(_hostile) as server:
        result = run_perf(PerfConfig(url=server.base_url + "/chat/completions", model="m<b>x</b>", prompt=HOSTILE,
                                     parallel=[2], number=[6], max_tokens=4, test_connection=False,
                                     outputs_dir=str(outputs), charts=False))
    assert result.failures.all_failed
    return result.run_dir


def test_a_server_message_with_a_script_stays_text(hostile_run):
    raw = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert HOSTILE not in raw and "<b>x</b>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    page = Page(raw)
    assert_self_contained(page, raw)
    assert [tag for tag, _ in page.tags].count("script") == 1 and not any(tag == "b" for tag, _ in page.tags)
    text = " ".join(page.text)
    assert f"bad request {HOSTILE} & more" in text  # shown as the server wrote it, once unescaped
    (summary,) = _summaries(hostile_run).values()
    cells = next(iter(page.cells.values()))
    assert float(cells["failed_requests"]) == summary["failed_requests"] == 6


def test_ten_thousand_requests_make_a_small_report(tmp_path):
    run_dir = tmp_path / "run"
    plan = LoadPlan(number=10_000, parallel=64)
    plan_dir = run_dir / plan.name
    plan_dir.mkdir(parents=True)
    records = plan_dir / "records.sqlite"
    settings = PlanSettings(plan, model="m")
    start_plan(records, settings)
    with RecordWriter(records) as writer:
        for i in range(10_000):
            ok = i % 10 != 0
            latency = 0.5 + (i % 997) / 1000
            metrics = RequestMetrics(ok=ok, ttft_s=0.05 + (i % 89) / 1000 if ok else None, first_content_s=None,
                                     latency_s=latency, tpot_s=0.01 if ok else None, input_tokens=100,
                                     input_token_source="server", output_tokens=64 if ok else None,
                                     output_token_source="server", reasoning_tokens=None)
            writer.add(RequestRecord(0, i, i % 50, 0, i / 100, i / 100, i / 100 + latency, metrics,
                                     error_kind=None if ok else "http_status", error_status=None if ok else 500,
                                     error_message=None if ok else "HTTP 500: " + "overloaded " * 1000))
    summary = finish_plan(records, settings, interrupted=False, draw_charts=False)
    finish_run(run_dir, [summary], draw_charts=False, console=None)
    path = run_dir / "report.html"
    assert path.stat().st_size < 1_000_000
    page = Page(path.read_text(encoding="utf-8"))
    request_rows = sum(1 for tag, attrs in page.tags if tag == "td" and attrs.get("class") == "msg") - 1
    assert request_rows == 200  # 100 failed, 100 slowest (and one first message in the errors table)
    assert float(page.cells[f"plan-{plan.name}"]["failed_requests"]) == 1000


def test_svg_panels_take_degenerate_input():
    assert nice_ticks(0, 0.93) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert "no data" in line_panel("empty", [], xlabel="x", ylabel="y")
    one = histogram_panel("one value", [1.0, 1.0], [3], xlabel="ms", marks=[("p50", 1.0)])
    assert one.startswith("<svg") and "nan" not in one and "inf" not in one
    assert "&lt;t&gt;" in line_panel("<t>", [], xlabel="x", ylabel="y")


CHROMIUM = os.environ.get("ASSAY_CHROMIUM", "/usr/bin/chromium")


def test_reports_open_in_chromium_without_errors_or_requests(sim_run, hostile_run):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            for run_dir in (sim_run, hostile_run):
                url = (run_dir / "report.html").as_uri()
                page = browser.new_page()
                problems: list[str] = []
                requests: list[str] = []
                page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
                page.on("request", lambda r: requests.append(r.url))
                page.goto(url, wait_until="load")
                assert problems == [] and requests == [url]
                # The inline sorter runs (its hash is in the page's Content-Security-Policy): sort by latency.
                table = page.locator("table.sortable").last
                header = table.locator("th", has_text="Latency (s)")
                column = header.evaluate("th => th.cellIndex")
                header.click()
                values = table.evaluate(
                    "(t, i) => Array.from(t.tBodies[0].rows).map(r => parseFloat(r.cells[i].dataset.value))", column)
                finite = [v for v in values if v is not None and not math.isnan(v)]
                assert finite == sorted(finite) and len(finite) >= 6
                assert problems == [] and requests == [url]
                page.close()
        finally:
            browser.close()


def test_summary_json_keys_the_report_reads_exist(sim_run):
    """The keys the report tags come from the summary model; a renamed field must fail here, not pass silently."""
    summary = orjson.loads(next(sim_run.glob("*/summary.json")).read_bytes())
    page = Page((sim_run / "report.html").read_text(encoding="utf-8"))
    for key in page.cells[f"plan-{summary['plan']}"]:
        _lookup(summary, key)
