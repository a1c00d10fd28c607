"""The workbench shows model text as sanitized markdown with math and highlighted code, and exports a run as one
self-contained HTML file.

One run, three benchmarks: ``gsm8k`` answers carrying markdown, math, currency dollars and a hostile payload;
a ``humaneval`` sample whose prompt is the benchmark's own chat prompt (Python with ``->`` in a fenced block);
an ``ifeval`` sample scored by the real IFEval scorer (its per-instruction verdicts become a checklist).
The browser checks run in Debian's Chromium through Playwright, with every non-loopback request refused.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest

# Before the workbench test modules are imported: they skip themselves without the extra, leaving no
# names to import.
pytest.importorskip("starlette", reason="starlette is not installed (the `app` extra)")
pytest.importorskip("uvicorn", reason="uvicorn is not installed (the `app` extra)")

from tests.app.running import running_app
from tests.app import test_web


pytestmark = pytest.mark.timeout(180)
browser_page = test_web.browser_page  # the fixture: headless Chromium, loopback only

RICH = "20260105_000000_rich"
FIXTURES = Path(__file__).resolve().parents[1] / "eval" / "fixtures"
MARKDOWN = ("**Bold step** first.\n\n- one item\n- two item\n\n```python\ndef square(x: int) -> int:\n"
            "    return x ** 2\n```\n\nSo $x^2$ grows, as does \\(y_1\\), while it costs $10 and $12 in all.\n\n"
            "$$\\frac{a}{b}$$\n\nInline `code $z$ here`.")
HOSTILE = ('**loud** <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> '
           '[click](javascript:window.__pwned=3) ![pic](http://example.invalid/x.png) done')
CURRENCY = "Tom has $10 and $12 more. How many dollars does he have?"
HUMANEVAL_ANSWER = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"


def _write(run: Path, bench: str, results: list) -> None:
    with (run / "predictions" / f"{bench}.jsonl").open("wb") as handle:
        for item in results:
            handle.write(orjson.dumps(item.model_dump(mode="json")) + b"\n")


def write_rich_run(outputs: Path, extra_gsm8k: int = 0) -> Path:
    from assay.data import DatasetLoader
    from assay.eval.benchmarks import get_benchmark
    from assay.eval.config import DatasetArgs
    from assay.types import Completion, SampleResult, Score
    from assay.types.message import Message
    from assay.types.sample import Sample

    run = outputs / RICH
    (run / "predictions").mkdir(parents=True)

    def gsm8k(i: int, question: str, text: str, reasoning: str | None = None, judge: str | None = None):
        sample = Sample(id=f"g{i}", subset="main", target="22", messages=[Message.user(question)])
        score = Score(values={"acc": 1.0}, extracted="22", metadata={"judge": judge} if judge else {})
        return SampleResult(sample=sample, completions=[Completion(text=text, reasoning=reasoning)], scores=[score],
                            benchmark="gsm8k")

    results = [gsm8k(0, CURRENCY, MARKDOWN, reasoning="Think *first*: $a+b$.", judge="The **answer** matches."),
               gsm8k(1, "Say hi.", HOSTILE)]
    results += [gsm8k(2 + i, f"Question {i}", f"Answer **{i}**") for i in range(extra_gsm8k)]
    _write(run, "gsm8k", results)

    humaneval = get_benchmark("humaneval")(DatasetArgs(dataset_id=str(FIXTURES / "humaneval")), 42)
    sample = humaneval.load(DatasetLoader(hub="local"), None)[0]
    sample = sample.model_copy(update={"messages": humaneval.prompt(sample, [])})
    raw = sample.model_copy(update={"id": "raw", "messages": [Message.user(sample.metadata["question"])],
                                    "prompt": sample.metadata["question"]})  # the Codex protocol
    _write(run, "humaneval", [
        SampleResult(sample=sample, completions=[Completion(text=HUMANEVAL_ANSWER)],
                     scores=[Score(values={"pass@1": 1.0})], benchmark="humaneval"),
        SampleResult(sample=raw, completions=[Completion(text="    return a + b\n\n# __main__ check\n")],
                     scores=[Score(values={"pass@1": 1.0})], benchmark="humaneval")])

    ifeval = get_benchmark("ifeval")(DatasetArgs(dataset_id=str(FIXTURES / "ifeval")), 42)
    sample = ifeval.load(DatasetLoader(hub="local"), None)[0]
    sample = sample.model_copy(update={"messages": ifeval.prompt(sample, [])})
    answer = "A note about green tea, with a leaf."
    _write(run, "ifeval", [SampleResult(sample=sample, completions=[Completion(text=answer)],
                                        scores=[ifeval.score(sample, answer)], benchmark="ifeval")])
    (run / "manifest.json").write_bytes(orjson.dumps({
        "run_id": RICH, "status": "finished", "model": "rich-model", "started": "2026-01-05T00:00:00",
        "finished": "2026-01-05T00:01:00", "benchmarks": {"gsm8k": {}, "humaneval": {}, "ifeval": {}}}))
    return run


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("web-render") / "outputs"
    root.mkdir()
    write_rich_run(root)
    with running_app(root, tmp_path_factory.mktemp("web-render-log"), ui="web") as url:
        yield url.rstrip("/")


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode(errors="replace"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def sample_url(base: str, bench: str, row: int = 0, path: str = "/samples") -> str:
    return f"{base}{path}?" + urlencode({"run": RICH, "bench": bench, "row": row})


# ---- over HTTP --------------------------------------------------------------------------------------------


def test_texts_are_sent_escaped_and_marked_for_rendering(app_url):
    _, text, _ = get(sample_url(app_url, "gsm8k", 1, "/part/sample"))
    assert "<script>window" not in text and "<img src=x" not in text
    assert '<div class="rich"><pre class="text answer">**loud** &lt;script&gt;' in text
    _, text, _ = get(sample_url(app_url, "gsm8k", 0, "/part/sample"))
    assert text.count('<div class="rich">') == 4  # the prompt, the reasoning, the answer, the judge's note
    assert "Tom has $10 and $12 more." in text


def test_the_samples_page_loads_the_vendored_renderers_and_they_are_served(app_url):
    _, text, headers = get(sample_url(app_url, "gsm8k"))
    names = re.findall(r'(?:src|href)="/static/([^"]+)"', text)
    assert {"vendor/katex/katex.min.js", "vendor/dompurify/purify.min.js", "vendor/markdown-it/markdown-it.min.js",
            "vendor/highlight/highlight.min.js", "render.js", "vendor/katex/katex.min.css"} <= set(names)
    for name in names + ["vendor/katex/fonts/KaTeX_Main-Regular.woff2", "vendor/VENDOR.md"]:
        status, body, _ = get(f"{app_url}/static/{name}")
        assert status == 200 and body, name
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "font-src 'self'" in policy and "style-src 'self';" in policy


def test_the_package_data_globs_take_the_vendored_files():
    import fnmatch

    tomllib = pytest.importorskip("tomllib")

    static = Path(__file__).resolve().parents[2] / "src" / "assay" / "app" / "static"
    globs = tomllib.loads((static.parents[3] / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    files = [p.relative_to(static.parents[1]).as_posix() for p in static.rglob("*") if p.is_file()]
    missing = [f for f in files if not any(fnmatch.fnmatch(f, g) and f.count("/") == g.count("/")
                                           for g in globs["assay"])]
    assert files and missing == []
    assert (static / "vendor" / "VENDOR.md").is_file()
    for folder in ("katex", "dompurify", "markdown-it", "highlight"):
        assert (static / "vendor" / folder / "LICENSE").is_file()


def test_a_continued_raw_prompt_stays_raw_text(app_url):
    # A completion-protocol prompt is code, not markdown: "# __main__" would become a heading in bold.
    _, text, _ = get(sample_url(app_url, "humaneval", 1, "/part/sample"))
    assert '<div class="rich">' not in text
    assert "def add(a: int, b: int) -&gt; int:" in text and "# __main__ check" in text
    _, text, _ = get(sample_url(app_url, "humaneval", 0, "/part/sample"))
    assert text.count('<div class="rich">') == 2  # the chat prompt and its answer


def test_ifeval_verdicts_are_a_checklist(app_url):
    _, text, _ = get(sample_url(app_url, "ifeval", 0, "/part/sample"))
    assert "Instructions · 1 of 2 followed (strict)" in text
    assert re.search(r'<li class="check fail" data-instruction="punctuation:no_comma">', text)
    assert re.search(r'<li class="check pass" data-instruction="keywords:existence">.*keywords=\[', text)
    assert re.search(r'<h4>Extracted</h4><pre class="text extracted">A note about green tea', text)


def test_export_is_one_self_contained_file(app_url):
    status, text, headers = get(f"{app_url}/export/{RICH}")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert headers["content-disposition"] == f'attachment; filename="{RICH}.html"'
    assert text.count("</script>") == 1 and "data:font/woff2;base64," in text
    markup = re.sub(r"<script>.*?</script>|<style>.*?</style>", "", text, flags=re.S)
    assert "/static/" not in markup and not re.search(r"<[^>]*\s(?:src|href|action)=", markup)
    assert text.count('<details class="xsample"') == 5  # two gsm8k, two humaneval, one ifeval
    assert "<script>window.__pwned" not in text and "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in text
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    assert "default-src &#x27;none&#x27;" in policy and "script-src &#x27;sha256-" in policy
    assert "unsafe" not in policy
    status, text, headers = get(f"{app_url}/export/{RICH}?bench=ifeval")
    assert status == 200 and text.count('<details class="xsample"') == 1 and "_ifeval.html" in \
        headers["content-disposition"]


@pytest.mark.parametrize("target", ["/export/..", "/export/nope", f"/export/{RICH}?bench=..%2F..%2Fx",
                                    f"/export/{RICH}?bench=nope", "/export/%2E%2E"])
def test_export_of_nothing_is_a_404(app_url, target):
    status, text, _ = get(app_url + target)
    assert status == 404, target


def test_export_is_capped(tmp_path):
    from assay.app.readers import Outputs
    from assay.app.web_data import export_samples, run_line
    from assay.app.web_export import export_page

    write_rich_run(tmp_path, extra_gsm8k=10)
    outputs = Outputs(str(tmp_path))
    benchmarks = export_samples(outputs, RICH, limit=5)
    assert [(b.name, len(b.samples), b.total) for b in benchmarks] == [("gsm8k", 5, 12), ("humaneval", 0, 2),
                                                                      ("ifeval", 0, 1)]
    text = export_page(run_line(outputs, RICH), benchmarks, limit=5)
    assert "the first 5 of 15 samples (at most 5)" in text and text.count('<details class="xsample"') == 5


# ---- in a browser -----------------------------------------------------------------------------------------


def _watch(page) -> list[str]:  # noqa: ANN001
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_in_a_browser_answers_render_as_markdown_with_math(browser_page, app_url, tmp_path):
    page, expect = browser_page
    problems = _watch(page)
    page.goto(sample_url(app_url, "gsm8k", 0))
    answer = page.locator("#sample .completion > .rich").first
    rendered = answer.locator(".md")
    expect(rendered.locator("strong")).to_have_text("Bold step")
    expect(rendered.locator("ul > li")).to_have_count(2)
    expect(rendered.locator("pre code.language-python .hljs-keyword").first).to_have_text("def")
    expect(rendered.locator("pre code")).to_contain_text("def square(x: int) -> int:")
    # $x^2$, \(y_1\) and $$..$$ typeset; "$10 and $12" left as text; `code $z$` not typeset.
    expect(rendered.locator(".katex")).to_have_count(3)
    expect(rendered.locator(".katex-display")).to_have_count(1)
    expect(rendered.locator(".katex").first.locator(".katex-html .msupsub")).to_have_count(1)  # x^2
    expect(rendered).to_contain_text("it costs $10 and $12 in all.")
    expect(rendered.locator("code", has_text="code $z$ here")).to_have_count(1)
    # KaTeX's layout styles were applied through the CSSOM (a superscript is raised).
    assert page.evaluate("""() => [...document.querySelectorAll('#sample .katex .vlist')]
                               .some(e => e.style.height !== '')""")
    assert page.evaluate("() => getComputedStyle(document.querySelector('#sample .katex')).fontFamily") \
        .startswith("KaTeX_Main")
    # The currency prompt is text, not math.
    prompt = page.locator("#sample .prompt .rich .md")
    expect(prompt).to_have_text(re.compile(r"^\s*Tom has \$10 and \$12 more\. How many dollars does he have\?\s*$"))
    expect(prompt.locator(".katex")).to_have_count(0)
    # Reasoning and the judge's note are rendered too.
    page.locator("details.reasoning summary").click()
    expect(page.locator("details.reasoning .md em")).to_have_text("first")
    expect(page.locator("details.reasoning .md .katex")).to_have_count(1)
    expect(page.locator("#sample .completion .rich").last.locator(".md strong")).to_have_text("answer")
    # The raw toggle shows the source as written, and back.
    toggle = answer.locator("button.raw-toggle")
    toggle.click()
    expect(answer.locator("pre.answer")).to_be_visible()
    expect(answer.locator("pre.answer")).to_have_text(MARKDOWN)
    expect(rendered).to_be_hidden()
    toggle.click()
    expect(rendered).to_be_visible()
    expect(answer.locator("pre.answer")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "rendered.png"), full_page=True)

    # Moving to the next sample (fetched in place) renders it too; the hostile answer runs nothing.
    page.keyboard.press("j")
    expect(page.locator("#sample")).to_have_attribute("data-row", "1")
    hostile = page.locator("#sample .completion > .rich .md")
    expect(hostile.locator("strong")).to_have_text("loud")
    expect(hostile).to_contain_text("<script>window.__pwned = 1</script>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#detail img, #detail script, #detail [onerror]").count() == 0
    assert page.locator('#detail a[href^="javascript"]').count() == 0
    assert problems == [], problems


def test_in_a_browser_code_prompts_are_escaped_once(browser_page, app_url):
    page, expect = browser_page
    problems = _watch(page)
    page.goto(sample_url(app_url, "humaneval", 0))
    code = page.locator("#sample .prompt .md pre code")
    expect(code).to_contain_text("def add(a: int, b: int) -> int:")
    expect(code).to_contain_text(">>> add(2, 3)")
    assert "&gt;" not in code.text_content()
    expect(page.locator("#sample .completion .md pre code")).to_contain_text("-> int:")
    page.goto(sample_url(app_url, "ifeval", 0))
    expect(page.locator(".checklist li")).to_have_count(2)
    expect(page.locator(".checklist li.fail")).to_contain_text("punctuation:no_comma")
    assert problems == [], problems


def test_in_a_browser_the_exported_file_opens_offline(browser_page, app_url, tmp_path):
    page, expect = browser_page
    _, text, _ = get(f"{app_url}/export/{RICH}")
    path = tmp_path / "export.html"
    path.write_text(text, encoding="utf-8")
    requests: list[str] = []  # anything but the file itself: refused, and the test fails
    page.on("request", lambda r: None if r.url == path.as_uri() or r.url.startswith("data:")
            else requests.append(r.url))

    def only_the_file(route):  # noqa: ANN001
        route.continue_() if route.request.url == path.as_uri() else route.abort()

    page.context.unroute("**/*")  # the fixture's route lets loopback through; this file needs nothing at all
    page.context.route("**/*", only_the_file)
    problems = _watch(page)
    page.goto(path.as_uri())
    first = page.locator("details.xsample").first
    first.locator("> summary").click()
    rendered = first.locator(".completion > .rich").first.locator(".md")
    expect(rendered.locator("strong")).to_have_text("Bold step")
    expect(rendered.locator(".katex")).to_have_count(3)
    expect(rendered).to_contain_text("$10 and $12")
    assert page.evaluate("() => getComputedStyle(document.querySelector('.katex')).fontFamily").startswith("KaTeX")
    page.evaluate("document.fonts.ready")
    second = page.locator("details.xsample").nth(1)
    second.locator("> summary").click()
    expect(second.locator(".completion > .rich").first.locator(".md strong")).to_have_text("loud")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img, [onerror]").count() == 0
    assert requests == [], requests
    assert problems == [], problems


DOLLARS = [  # (markdown, how many math spans it holds)
    ("$x^2$", ["x^2"]),
    ("It costs $10 and $12.", []),
    ("From $5 to $x$.", ["x"]),  # the first $ after an opening one must close it
    ("Pay $5, then $10.", []),
    ("$a$5 and more", []),  # a digit right after the closing $: currency
    ("$ x$ and $y $", []),  # a space inside either end
    ("a \\$x\\$ b", []),  # escaped dollars
    ("`$a$` and\n\n```\n$b$\n```", []),  # code is never typeset
    ("\\(a+b\\) and \\[c\\] and $$d$$", ["a+b", "c", "d"]),
    ("$$\n\\sum_i i\n$$", ["\n\\sum_i i\n"]),
]


def test_in_a_browser_which_dollars_are_math(browser_page, app_url):
    page, _ = browser_page
    page.goto(sample_url(app_url, "gsm8k", 0))
    page.wait_for_function("() => window.assayMarkdown && window.assayMarkdown('') !== null")
    found = page.evaluate("""(sources) => sources.map(source => {
        const box = document.createElement("div");
        box.innerHTML = window.assayMarkdown(source);
        return box.querySelectorAll(".katex-mathml").length;
    })""", [source for source, _ in DOLLARS])
    assert found == [len(math) for _, math in DOLLARS]
