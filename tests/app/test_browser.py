"""The viewer in a real browser: Debian's Chromium, headless, driven by Playwright (``executable_path``).

Starts ``assay app`` in a subprocess on the session's fixture outputs, then: load a run, filter to wrong
answers, open a sample (prompt, reasoning; a ``<script>`` in the answer stays text), compare two runs,
open the perf and think tabs. Every request to anything but the app is blocked and must not happen.
Screenshots go to test-artifacts/app/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.app.running import running_app

pytestmark = pytest.mark.timeout(120)
pytest.importorskip("gradio", reason="gradio is not installed (the `app` extra)")
pytest.importorskip("plotly", reason="plotly is not installed (the `app` extra)")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = os.environ.get("ASSAY_CHROMIUM", "/usr/bin/chromium")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "app"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 20_000
sync_api.expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def app_url(app_outputs, tmp_path_factory):
    with running_app(app_outputs["root"], tmp_path_factory.mktemp("app-log")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1400})
        context.outside_requests = []  # type: ignore[attr-defined]

        def only_loopback(route):  # noqa: ANN001
            if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                route.continue_()
            else:
                context.outside_requests.append(route.request.url)  # type: ignore[attr-defined]
                route.abort()

        context.route("**/*", only_loopback)
        yield context
        context.close()


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    page.wait_for_selector("#runs-table")
    yield page
    page.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def choose(page, elem_id: str, value: str) -> None:
    """Pick ``value`` in the Gradio dropdown ``#elem_id``."""
    page.locator(f"#{elem_id} input").click()
    page.locator(f"#{elem_id} [role=option][aria-label='{value}']").click()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_runs_tab_lists_runs_and_charts_the_selected_one(page):
    table = page.locator("#runs-table")
    sync_api.expect(table).to_contain_text("sim-thinker")
    sync_api.expect(table).to_contain_text("sim-plain")
    sync_api.expect(page.locator("#runs-bars .js-plotly-plot")).to_be_visible()
    sync_api.expect(page.locator("#runs-radar .js-plotly-plot")).to_be_visible()
    sync_api.expect(page.locator("#runs-subsets")).to_contain_text("abstract_algebra")
    shot(page, "1-runs")


def test_filter_to_wrong_answers_and_open_a_sample(page):
    open_tab(page, "Samples")
    sync_api.expect(page.locator("#samples-info")).to_contain_text("4 of 4 samples match")
    page.locator("#samples-status").get_by_text("wrong", exact=True).click()
    page.locator("#samples-apply").click()
    sync_api.expect(page.locator("#samples-info")).to_contain_text("1 of 4 samples match")
    sync_api.expect(page.locator("#samples-table")).to_contain_text("<script>")  # a cell shows it as text
    sync_api.expect(page.locator("#sample-prompt")).to_contain_text("A train travels 90 km")
    page.locator("#sample-reasoning-accordion").get_by_text("Reasoning").first.click()
    sync_api.expect(page.locator("#sample-reasoning textarea")).to_have_value(
        "Let me read the question (gsm8k #3).\n\nBut wait, let me check again.\n\nSo the answer follows.")
    answer = page.locator("#sample-answer textarea").input_value()
    assert "<script>window.__pwned = 1</script> <b>bold</b>" in answer
    assert page.locator("#sample-target textarea").input_value() == "60"
    assert page.locator("#sample-extracted textarea").input_value() == "7"
    sync_api.expect(page.locator("#sample-details")).to_contain_text("completion_tokens")
    # The model's markup never became markup: no script ran, no <b> element from it anywhere.
    assert page.evaluate("window.__pwned") is None
    assert page.locator("b", has_text="bold").count() == 0
    shot(page, "2-samples-wrong")


def test_prompt_renders_latex(page):
    open_tab(page, "Samples")
    sync_api.expect(page.locator("#samples-info")).to_contain_text("4 of 4 samples match")
    choose(page, "samples-dataset", "math_500")
    sync_api.expect(page.locator("#samples-info")).to_contain_text("3 of 3 samples match")
    sync_api.expect(page.locator("#sample-prompt .katex").first).to_be_visible()
    shot(page, "3-samples-latex")


def test_compare_two_runs(page):
    open_tab(page, "Compare")
    page.locator("#compare-go").click()
    deltas = page.locator("#compare-deltas")
    sync_api.expect(deltas).to_contain_text("-0.5000")  # gsm8k: 0.75 → 0.25
    sync_api.expect(page.locator("#compare-disagree")).to_contain_text("correct")
    shot(page, "4-compare")


def test_perf_tab_draws_load_curves_of_both_runs(page):
    open_tab(page, "Perf")
    chart = page.locator("#perf-throughput .js-plotly-plot")
    sync_api.expect(chart).to_be_visible()
    sync_api.expect(chart).to_contain_text("sim-a")
    sync_api.expect(chart).to_contain_text("sim-b")
    sync_api.expect(page.locator("#perf-summary")).to_contain_text("parallel_4_number_8")
    choose(page, "perf-plan", "parallel_4_number_8")
    sync_api.expect(page.locator("#perf-percentiles")).to_contain_text("p99")
    shot(page, "5-perf")


def test_think_tab_shows_its_table_and_figure(page):
    open_tab(page, "Think")
    sync_api.expect(page.locator("#think-table")).to_contain_text("sim-thinker")
    sync_api.expect(page.locator("#think-figure img")).to_be_visible()
    shot(page, "6-think")


def test_nothing_was_fetched_from_outside(browser, page):
    assert browser.outside_requests == []
