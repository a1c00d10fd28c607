"""The workbench's Compare and Perf views over HTTP, on a real uvicorn server (``assay app --ui web``).

Compare: two synthetic runs of one benchmark whose sample sets differ (A holds 60, B 55), with failed requests
on both sides, plus a small collection (two datasets, two task types); the page's numbers must be the ones
``assay.eval.compare.compare_runs`` returns. Perf: a real ``assay perf --sim`` sweep (two plans), whose page
must show the numbers of its ``summary.json``, and one request given a hostile error message.
"""

from __future__ import annotations

import os
import html
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

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

browser_page = test_web.browser_page  # the headless Chromium fixture, every request off loopback refused

pytestmark = pytest.mark.timeout(180)

RUN_A, RUN_B, RUN_C = "20260201_000000_a", "20260202_000000_b", "20260203_000000_c"
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> upstream said no'


def _rewrite(run: Path, benchmark: str, change) -> None:  # noqa: ANN001
    path = run / "predictions" / f"{benchmark}.jsonl"
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    kept = [item for item in (change(item) for item in lines) if item is not None]
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in kept))


def _flip(item: dict, failed_ids: set[str], drop_from: int, every: int) -> dict | None:
    i = int(item["sample"]["id"])
    if i >= drop_from:
        return None
    completion, score = item["completions"][0], item["scores"][0]
    if item["sample"]["id"] in failed_ids:
        completion["error"] = {"kind": "server", "message": "HTTP 503"}
        completion["text"] = ""
        score["values"] = {"acc": None}
    elif i % every == 0 and score["values"]["acc"] is not None:
        score["values"] = {"acc": 1.0 - score["values"]["acc"]}
    return item


def _collection(run: Path, right_every: int) -> None:
    """A small data_collection of two datasets of two task types, as a collection run writes it."""
    from assay.types import Completion, SampleResult, Score
    from assay.types.message import Message
    from assay.types.report import BenchmarkReport, MetricScore
    from assay.types.sample import Sample

    results = []
    for i in range(24):
        bench, task_type = ("math_500", "math") if i % 2 else ("mmlu", "mcq")
        meta = {"collection": {"benchmark": bench, "task_type": task_type, "main_metric": "acc"}}
        value = 1.0 if i % right_every else 0.0
        results.append(SampleResult(sample=Sample(id=str(i), messages=[Message.user(f"Mixed question {i}")],
                                                  target="1", metadata=meta),
                                    completions=[Completion(text=f"answer {i}", finish_reason="stop")],
                                    scores=[Score(values={"acc": value})], benchmark="data_collection"))
    with (run / "predictions" / "data_collection.jsonl").open("wb") as handle:
        for item in results:
            handle.write(orjson.dumps(item.model_dump(mode="json")) + b"\n")
    report = BenchmarkReport(benchmark="data_collection", main_metric="acc", score=0.5, num=24, model="m",
                             version="1", metrics={"acc": MetricScore(score=0.5, num=24)})
    (run / "reports" / "data_collection.json").write_bytes(orjson.dumps(report.model_dump(mode="json")))


def _perf_sim(base: Path, name: str, parallel: tuple[str, ...], number: tuple[str, ...]) -> Path:
    """A real `assay perf --sim` sweep (with an SLO, for goodput); returns the run folder."""
    env = {**os.environ, "OPENAI_API_KEY": "", "ASSAY_API_KEY": "", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "assay", "perf", "--sim", "--parallel", *parallel, "--number",
                           *number, "--max-tokens", "16", "--slo", "ttft_ms=2000", "--no-charts", "--name", name],
                          cwd=base, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    (run,) = (base / "outputs" / "perf").glob(f"*_{name}")
    return run


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("views")
    root = base / "outputs"
    root.mkdir()
    for run_id in (RUN_A, RUN_B, RUN_C):
        write_large_run(root, 60, run_id=run_id)
    _rewrite(root / RUN_B, "gsm8k", lambda item: _flip(item, {"10", "11"}, 55, 5))
    _rewrite(root / RUN_C, "gsm8k", lambda item: _flip(item, {"12"}, 60, 3))
    _collection(root / RUN_A, 3)
    _collection(root / RUN_B, 4)
    _perf_sim(base, "sweep", ("1", "4"), ("6", "80"))  # writes base/outputs/perf/<time>_sweep
    _perf_sim(base, "other", ("2",), ("10",))
    return root


@pytest.fixture(scope="module")
def app_url(outputs, tmp_path_factory):
    with running_app(outputs, tmp_path_factory.mktemp("views-log"), ui="web") as url:
        yield url.rstrip("/")


@pytest.fixture(scope="module")
def perf_run(outputs) -> Path:
    (run,) = (outputs / "perf").glob("*_sweep")
    return run


def compare_url(base: str, runs: list[str], **params) -> str:
    return f"{base}/compare?" + urlencode({"runs": ",".join(runs), **params})


def _comparison_rows(text: str) -> dict[tuple[str, str], dict[str, str]]:
    found = {}
    for match in re.finditer(r'<tr class="comparison[^"]*" data-benchmark="([^"]*)" data-run="(\d)">(.*?)</tr>',
                             text):
        cells = match.group(3)
        values = re.findall(r'class="num(?: diff| p)?" data-value="([^"]*)"', cells)
        low, high = re.search(r'data-low="([^"]*)" data-high="([^"]*)"', cells).groups()
        found[(match.group(1), match.group(2))] = {"a": values[0], "b": values[1], "diff": values[2],
                                                   "p": values[3], "low": low, "high": high}
    return found


def test_compare_numbers_are_those_of_assay_report_compare(app_url, outputs):
    from assay.eval.compare import compare_runs

    status, text = get(compare_url(app_url, [RUN_A, RUN_B, RUN_C]))
    assert status == 200
    rows = _comparison_rows(text)
    for k, other in ((1, RUN_B), (2, RUN_C)):
        expected = compare_runs(outputs / RUN_A, outputs / other)
        assert expected
        for c in expected:
            row = rows[(c.benchmark, str(k))]
            assert row["a"] == repr(c.score_a) and row["b"] == repr(c.score_b)
            assert row["diff"] == repr(c.difference) and row["p"] == repr(c.p_value)
            assert (row["low"], row["high"]) == (repr(c.ci95[0]), repr(c.ci95[1]))
        assert {b for b, run in rows if run == str(k)} == {c.benchmark for c in expected}
    # The collection is compared per dataset, per task type and as a whole (B only: C has no collection).
    assert {("task_type: math", "1"), ("task_type: mcq", "1"), ("collection", "1"), ("mmlu", "1")} <= set(rows)


def test_compare_warns_when_sample_sets_differ_and_counts_failures_apart(app_url):
    _, text = get(compare_url(app_url, [RUN_A, RUN_B]))
    warning = re.search(r'<p class="warning sample-sets" data-benchmark="gsm8k">(.*?)</p>', text).group(1)
    assert "A 60, B 55" in warning and "the 55 samples they share" in warning
    assert 'class="warning sample-sets" data-benchmark="data_collection"' not in text  # the same 24 in both
    row = re.search(r'<tr class="sample-set[^"]*" data-benchmark="gsm8k">(.*?)</tr>', text).group(1)
    failed = re.findall(r'class="num failed">(\d+)', row)
    assert failed == ["1", "3"]  # A: sample 49; B: 10, 11 and 49 (of the shared 55)
    disagree = int(re.search(r'class="num disagree">(\d+)', row).group(1))
    _, listed = get(compare_url(app_url, [RUN_A, RUN_B], show="disagree"))
    assert f"{disagree} shared samples match" in listed
    _, same = get(compare_url(app_url, [RUN_A, RUN_C]))
    assert 'class="warning sample-sets" data-benchmark="gsm8k"' not in same


def _statuses(outputs: Path, run: str) -> dict[str, str]:
    from assay.app.samples import sample_status
    from assay.eval.store import RunStore

    results = RunStore.existing(outputs / run).load_results("gsm8k")
    return {i: sample_status(r, "acc")[0] for i, r in results.items()}


def _listed_ids(text: str) -> list[str]:
    return re.findall(r'<tr class="pair-row[^"]*" data-id="([^"]*)"', text)


@pytest.mark.parametrize("show", ["a_right_b_wrong", "a_wrong_b_right", "both_wrong", "disagree", "failed", ""])
def test_compare_filters(app_url, outputs, show):
    a, b = _statuses(outputs, RUN_A), _statuses(outputs, RUN_B)
    shared = [i for i in a if i in b]
    rule = {"a_right_b_wrong": lambda x, y: (x, y) == ("correct", "wrong"),
            "a_wrong_b_right": lambda x, y: (x, y) == ("wrong", "correct"),
            "both_wrong": lambda x, y: x == y == "wrong",
            "disagree": lambda x, y: {x, y} == {"correct", "wrong"},
            "failed": lambda x, y: "error" in (x, y), "": lambda x, y: True}[show]
    expected = [i for i in shared if rule(a[i], b[i])]
    assert expected
    status, text = get(compare_url(app_url, [RUN_A, RUN_B], benchmark="gsm8k", show=show))
    assert status == 200 and f"{len(expected)} shared samples match" in text
    listed = _listed_ids(text)
    if len(expected) > 50:
        _, more = get(compare_url(app_url, [RUN_A, RUN_B], benchmark="gsm8k", show=show, page=2))
        listed += _listed_ids(more)
    assert listed == expected


def test_compare_side_by_side_detail(app_url):
    status, text = get(compare_url(app_url, [RUN_A, RUN_B], benchmark="gsm8k", sample="10"))
    assert status == 200
    detail = text.split('id="pair-detail"')[1]
    assert detail.count("Question 10: what is 10 + 1?") == 1  # the prompt once
    assert 'data-letter="A"' in detail and 'data-letter="B"' in detail
    assert "The answer is 11." in detail and "request failed: server — HTTP 503" in detail
    assert detail.count("Adding one to 10.") == 2  # each run's reasoning
    side_a, side_b = detail.split('data-letter="A"')[1].split('data-letter="B"')
    assert "score: <b>1.000</b>" in side_a and "correct" in side_a and "score: <b>–</b>" in side_b


def test_a_comparison_exports_as_one_offline_file(app_url, outputs):
    """/export-compare: the paired differences and every sample of the filter side by side, in one file that
    loads nothing (no script, no link to a stylesheet, a network-less CSP)."""
    a, b = _statuses(outputs, RUN_A), _statuses(outputs, RUN_B)
    expected = [i for i in a if i in b and {a[i], b[i]} == {"correct", "wrong"}]
    _, page = get(compare_url(app_url, [RUN_A, RUN_B], benchmark="gsm8k"))
    assert "/export-compare?" in page
    url = compare_url(app_url, [RUN_A, RUN_B], benchmark="gsm8k", show="disagree").replace("/compare?",
                                                                                           "/export-compare?")
    status, text = get(url)
    assert status == 200 and text.startswith("<!doctype html>")
    assert "default-src 'none'" in html.unescape(text) and "<script" not in text and "<link" not in text
    assert re.findall(r'<details class="xsample"><summary><code>([^<]*)</code>', text) == expected
    assert _comparison_rows(text) == _comparison_rows(page)  # the same numbers as the page
    assert text.count('id="pair-detail"') == len(expected)
    status, _ = get(compare_url(app_url, [RUN_A], benchmark="gsm8k").replace("/compare?", "/export-compare?"))
    assert status == 404


def test_compare_refuses_bad_input(app_url):
    assert get(compare_url(app_url, [RUN_A, "..%2F.."]))[0] == 404
    assert get(compare_url(app_url, [RUN_A, RUN_B], benchmark="nope"))[0] == 404
    assert get(compare_url(app_url, [RUN_A, RUN_B], show="<b>x</b>"))[0] == 404
    status, text = get(compare_url(app_url, [RUN_A]))  # one run: the picker
    assert status == 200 and 'id="compare-pick"' in text and "pick at least two runs" in text
    status, text = get(f"{app_url}/compare?" + urlencode([("run", RUN_A), ("run", RUN_C)]))
    assert status == 200 and 'id="compare-table"' in text


def _cells(text: str, table_id: str, plan: str) -> list[str]:
    table = text.split(f'id="{table_id}"')[1].split("</table>")[0]
    row = re.search(rf'<tr class="plan-row" data-plan="{re.escape(plan)}">(.*?)</tr>', table).group(1)
    return re.findall(r'<td class="num"(?: data-value="([^"]*)")?>', row)


def test_perf_run_page_shows_the_summary_numbers(app_url, outputs, perf_run):
    run_id = perf_run.relative_to(outputs).as_posix()
    status, text = get(f"{app_url}/perf")
    assert status == 200 and run_id in text
    status, text = get(f"{app_url}/perf/run?" + urlencode({"run": run_id}))
    assert status == 200
    for plan_dir in sorted(p for p in perf_run.iterdir() if (p / "summary.json").is_file()):
        summary = orjson.loads((plan_dir / "summary.json").read_bytes())
        cells = _cells(text, "perf-summary", summary["plan"])
        wanted = [summary["parallel"], summary["rate"], summary["total_requests"], summary["succeeded_requests"],
                  summary["failed_requests"], summary["request_throughput_rps"], summary["output_throughput_tps"],
                  summary["goodput_rps"]]
        wanted += [summary["percentiles"][m][p] for m in ("ttft_s", "tpot_s", "itl_s") for p in ("p50", "p90", "p99")]
        assert cells == ["" if v is None else repr(v) for v in wanted]
        assert summary["goodput_rps"] is not None
    assert text.count("<svg") >= 6 and "Goodput" in text and "TPOT" in text and "ITL" in text
    assert 'href="/assets/svg.css"' in text
    assert "Run config" in text and "assay-sim" in text


def test_perf_overlay_of_several_runs(app_url, outputs, perf_run):
    run_id = perf_run.relative_to(outputs).as_posix()
    (other,) = (outputs / "perf").glob("*_other")
    other_id = other.relative_to(outputs).as_posix()
    status, text = get(f"{app_url}/perf?" + urlencode({"runs": f"{run_id},{other_id}"}))
    assert status == 200 and 'id="perf-summary-0"' in text and 'id="perf-summary-1"' in text
    summary = orjson.loads((other / "parallel_2_number_10" / "summary.json").read_bytes())
    assert _cells(text, "perf-summary-1", "parallel_2_number_10")[5] == repr(summary["request_throughput_rps"])
    charts = text.split('class="charts"')[1].split("</div>")[0]
    assert charts.count("<svg") >= 9 and "TTFT p99" in charts  # one panel per percentile, a line per run
    assert charts.count(f">{perf_run.name}</text>") >= 9 and charts.count(f">{other.name}</text>") >= 9
    status, text = get(f"{app_url}/perf?" + urlencode({"runs": f"{run_id},{run_id}"}))  # the same run once
    assert status == 200 and 'id="perf-summary-0"' in text and 'id="perf-summary-1"' not in text
    assert get(f"{app_url}/perf?runs=perf/nope")[0] == 404
    assert get(f"{app_url}/perf/run?run=..")[0] == 404
    assert get(f"{app_url}/perf/run?run={RUN_A}")[0] == 404  # an eval run is not a perf run


def _request_indexes(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="request-row" data-index="(\d+)"', text)]


def test_records_table_pages_and_sorts(app_url, outputs, perf_run):
    run_id = perf_run.relative_to(outputs).as_posix()
    plan = next(p.name for p in perf_run.iterdir() if p.name.startswith("parallel_4"))
    db = sqlite3.connect(perf_run / plan / "records.sqlite")
    rows = db.execute("SELECT request_index, latency_s, id FROM requests").fetchall()
    db.close()
    assert len(rows) == 80

    def page(**params) -> str:
        status, text = get(f"{app_url}/perf/run?" + urlencode({"run": run_id, "plan": plan, **params}))
        assert status == 200
        return text

    text = page()
    assert "80 of 80 requests" in text and "page 1 of 2" in text
    assert _request_indexes(text) == sorted(r[0] for r in rows)[:50]
    assert _request_indexes(page(page="2")) == sorted(r[0] for r in rows)[50:]
    by_latency = [r[0] for r in sorted(rows, key=lambda r: (-r[1], r[2]))]
    assert _request_indexes(page(sort="latency", desc="1")) == by_latency[:50]
    assert _request_indexes(page(sort="latency", desc="1", page="2")) == by_latency[50:]
    assert _request_indexes(page(sort="nonsense; DROP TABLE requests")) == sorted(r[0] for r in rows)[:50]
    assert get(f"{app_url}/perf/run?" + urlencode({"run": run_id, "plan": "../.."}))[0] == 404


def test_pages_leave_the_records_untouched(app_url, outputs, perf_run):
    run_id = perf_run.relative_to(outputs).as_posix()
    def files() -> dict[str, tuple[int, int]]:  # SQLite's shared-memory index (-shm) is no data: readers touch it
        return {str(p.relative_to(perf_run)): (p.stat().st_size, p.stat().st_mtime_ns) for p in perf_run.rglob("*")
                if p.is_file() and not p.name.endswith("-shm")}

    before = files()
    for params in ({}, {"sort": "ttft", "desc": "1"}, {"errors": "1", "page": "3"}):
        assert get(f"{app_url}/perf/run?" + urlencode({"run": run_id, **params}))[0] == 200
    assert files() == before


def test_a_hostile_error_message_is_escaped(app_url, outputs, perf_run):
    run_id = perf_run.relative_to(outputs).as_posix()
    plan = next(p.name for p in perf_run.iterdir() if p.name.startswith("parallel_1"))
    db = sqlite3.connect(perf_run / plan / "records.sqlite")
    with db:
        db.execute("UPDATE requests SET ok = 0, error_kind = 'server', error_status = 500, error_message = ? "
                   "WHERE request_index = 2", (HOSTILE,))
    db.close()
    status, text = get(f"{app_url}/perf/run?" + urlencode({"run": run_id, "plan": plan, "errors": "1"}))
    assert status == 200 and "1 of 6 requests" in text and _request_indexes(text) == [2]
    assert "<script>window" not in text and "<img src=x" not in text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in text and "server 500" in text


def test_perf_config_is_shown_with_credentials_scrubbed(app_url, outputs, perf_run):
    config = perf_run / "config.yaml"
    original = config.read_text()
    config.write_text(original + "api_key: sk-very-secret\nextra_args:\n  authorization: Bearer sk-also-secret\n")
    try:
        _, text = get(f"{app_url}/perf/run?" + urlencode({"run": perf_run.relative_to(outputs).as_posix()}))
    finally:
        config.write_text(original)
    assert "sk-very-secret" not in text and "sk-also-secret" not in text and "api_key: &#x27;***&#x27;" in text



def test_in_a_browser_compare_and_perf_pages(browser_page, app_url, outputs, perf_run):
    page, expect = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_url + "/compare")
    page.locator(f'#compare-pick input[value="{RUN_A}"]').check()
    page.locator(f'#compare-pick input[value="{RUN_B}"]').check()
    page.locator("#compare-pick button").click()
    expect(page.locator("#compare-table")).to_be_visible()
    expect(page.locator(".warning.sample-sets")).to_contain_text("A 55, B 60")  # A: the first ticked (newest)
    page.locator("#compare-filters select[name=show]").select_option("a_wrong_b_right")
    page.locator("#compare-filters button").click()
    expect(page).to_have_url(re.compile(r"show=a_wrong_b_right"))
    page.locator("#pairs-table tr.pair-row a").first.click()
    expect(page.locator("#pair-detail .side")).to_have_count(2)
    screenshot(page, "compare")
    run_id = perf_run.relative_to(outputs).as_posix()
    page.goto(f"{app_url}/perf")
    page.locator(f'#perf-runs input[value="{run_id}"]').check()
    page.locator("#perf-pick button").click()
    expect(page.locator(".charts svg").first).to_be_visible()
    screenshot(page, "perf-overlay")
    page.goto(f"{app_url}/perf/run?" + urlencode({"run": run_id}))
    expect(page.locator("#requests-table")).to_be_visible()
    page.locator('#requests-table a.sort[data-sort="latency"]').click()
    expect(page).to_have_url(re.compile(r"sort=latency"))
    screenshot(page, "perf-run")
    assert page.evaluate("window.__pwned") is None
    assert errors == []


def test_a_killed_perf_run_is_listed_incomplete_and_its_requests_still_show(app_url, outputs):
    import shutil

    (other,) = (outputs / "perf").glob("*_other")
    killed = outputs / "perf" / "20260101_000000_killed"
    shutil.copytree(other, killed)
    for name in ("sweep.json", "parallel_2_number_10/summary.json"):
        (killed / name).unlink(missing_ok=True)
    status, text = get(f"{app_url}/perf")
    assert status == 200 and re.search(r'perf/20260101_000000_killed</a> <span class="badge warn">incomplete', text)
    status, text = get(f"{app_url}/perf/run?run=perf/20260101_000000_killed")
    assert status == 200 and "Plans without a summary: parallel_2_number_10" in text and "assay perf rebuild" in text
    assert "10 of 10 requests" in text
