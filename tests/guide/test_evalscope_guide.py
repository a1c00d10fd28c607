"""EvalScope's Qwen3 guide, run as written with `evalscope` changed to `assay` and nothing else.

Its three Python snippets (build a weighted collection; evaluate the published collection thinking, then not
thinking) and its two commands (`perf`, `app`) are kept verbatim in ``evalscope_qwen3/``. They run here against
`assay sim` on the guide's own port, 8801, with local data: the benchmarks' fixtures under ``ASSAY_DATASET_DIR``
and, as the cached ModelScope copy of `evalscope/Qwen3-Test-Collection`, rows in EvalScope's own format. The
simulator replays the right answer to every question after a `<think>` block, so every score is known.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assay.collections import load_collection_report
from tests.collections.test_evalscope_files import FIXTURES as EVALSCOPE_FIXTURES
from tests.collections.test_evalscope_files import load_collection, row_answer

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

GUIDE = Path(__file__).parent / "evalscope_qwen3"
REPO = Path(__file__).resolve().parents[2]
PORT = 8801  # the guide's
SCORED = {"mmlu_pro", "mmlu_redux", "ifeval", "ceval", "math_500", "aime24", "aime25"}


def _dataset_dir(root: Path) -> Path:
    """The benchmarks' fixtures, the guide's single-file shapes over them, and the published collection."""
    folder = root / "datasets"
    folder.mkdir()
    for source in (REPO / "tests" / "eval" / "fixtures", GUIDE.parent / "datasets"):
        for path in source.iterdir():
            (folder / path.name).unlink(missing_ok=True)
            (folder / path.name).symlink_to(path)
    published = folder / "modelscope" / "evalscope" / "Qwen3-Test-Collection"
    published.mkdir(parents=True)
    shutil.copy(EVALSCOPE_FIXTURES / "v1_rows.jsonl", published / "test.jsonl")
    return folder


def _hub_cache(root: Path) -> Path:
    """A Hugging Face hub cache holding what `--dataset openqa` reads (HC3's open_qa.jsonl), as a user who ran it
    once online has it; the questions are written here."""
    cache = root / "hf" / "hub"
    repo = cache / "datasets--Hello-SimpleAI--HC3-Chinese"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    questions = ["What is a load test?", "Why do servers batch requests?", "What does TTFT measure?",
                 "How is throughput counted?"]
    (snapshot / "open_qa.jsonl").write_text(
        "".join(json.dumps({"question": q, "human_answers": [""], "chatgpt_answers": [""]}) + "\n"
                for q in questions), encoding="utf-8")
    return cache


def _replay(path: Path) -> Path:
    _, samples = load_collection(EVALSCOPE_FIXTURES / "v1_rows.jsonl")
    with path.open("w", encoding="utf-8") as handle:
        for sample in samples:
            prompt = [m for m in sample.messages or [] if m.role == "user"][-1].text()
            answer = f"<think>Perhaps Answer: Z, or \\boxed{{-1}}.</think>\n{row_answer(sample, True)}"
            handle.write(json.dumps({"prompt": prompt, "response": answer}) + "\n")
    return path


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is no user
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    """A working folder, the environment the snippets run in, and the simulator on port 8801."""
    if not _port_free(PORT):
        pytest.skip(f"port {PORT}, which the guide's snippets name, is in use on this machine")
    root = tmp_path_factory.mktemp("guide")
    env = {**os.environ, "ASSAY_DATASET_DIR": str(_dataset_dir(root)), "HF_HUB_OFFLINE": "1",
           "HF_HUB_CACHE": str(_hub_cache(root)),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH")]))}
    sim = subprocess.Popen([sys.executable, "-m", "assay", "sim", "--port", str(PORT), "--latency-model", "fixed",
                            "--ttft-ms", "1", "--itl-ms", "0", "--output-len", "16",
                            "--replay-path", str(_replay(root / "replay.jsonl"))],
                           cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(f"http://127.0.0.1:{PORT}/v1/models", sim)
        yield root, env
    finally:
        sim.terminate()
        sim.wait(timeout=30)


def _run(args: list[str], root: Path, env: dict, timeout_s: float = 240) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, f"{args} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _snippet(name: str, root: Path, env: dict) -> subprocess.CompletedProcess:
    return _run([sys.executable, str(GUIDE / name)], root, env)


def _runs(root: Path) -> set[Path]:
    return {p.parent for p in (root / "outputs").glob("*/manifest.json")}


def test_the_snippets_import_paths_are_evalscopes_with_one_word_changed():
    for path in GUIDE.glob("snippet_*.py"):
        text = path.read_text(encoding="utf-8")
        assert "evalscope" not in text.replace("evalscope/Qwen3-Test-Collection", "")
        assert "from assay" in text


def test_snippet_1_builds_the_weighted_collection_from_local_data(guide):
    root, env = guide
    _snippet("snippet_1_build_collection.py", root, env)
    rows = [json.loads(line) for line in (root / "outputs" / "qwen3_test.jsonl").open(encoding="utf-8")]
    assert {row["benchmark"] for row in rows} == {"mmlu_pro", "mmlu_redux", "ifeval", "ceval", "iquiz",
                                                  "live_code_bench", "math_500", "aime24", "aime25", "gpqa_diamond"}
    # live_code_bench kept the v5/v6 problems inside the guide's dates (the fixture's fourth is after them).
    assert sum(row["benchmark"] == "live_code_bench" for row in rows) == 3
    shares = {row["benchmark"]: row["weight"] for row in rows}
    assert shares["ceval"] == pytest.approx(1 / 8) and shares["gpqa_diamond"] == pytest.approx(1 / 16)


def test_snippets_2_and_3_evaluate_the_published_collection_and_compare(guide):
    root, env = guide
    before = _runs(root)
    _snippet("snippet_2_thinking.py", root, env)
    (thinking,) = _runs(root) - before
    _snippet("snippet_3_non_thinking.py", root, env)
    (non_thinking,) = _runs(root) - before - {thinking}
    for run in (thinking, non_thinking):
        report = load_collection_report(run)
        assert {r.dataset_name for r in report.datasets} == SCORED
        assert report.weighted_score == 1.0, report.datasets
        assert [(s.dataset_name, s.rows) for s in report.skipped] == [("chinese_simpleqa", 1)]
    config = (thinking / "config.yaml").read_text(encoding="utf-8")
    assert "remove_until" in config and "0.95" in config
    assert "enable_thinking" in (non_thinking / "config.yaml").read_text(encoding="utf-8")
    # The guide's comparison of the two runs.
    compared = _run([sys.executable, "-m", "assay", "report", "compare", str(thinking), str(non_thinking)], root,
                    {**env, "COLUMNS": "200"})
    assert "collection" in compared.stdout and "task_type: exam" in compared.stdout


def _commands() -> list[list[str]]:
    """commands.sh as argument lists (line continuations joined, comments dropped)."""
    import shlex

    text = (GUIDE / "commands.sh").read_text(encoding="utf-8").replace("\\\n", " ")
    return [shlex.split(line) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_guides_perf_and_app_commands(guide):
    root, env = guide
    perf, app = _commands()
    assert perf[:2] == ["assay", "perf"] and app == ["assay", "app"]
    pytest.importorskip("huggingface_hub", reason="the guide's --dataset openqa is read from the hub (`hub` extra)")
    _run([sys.executable, "-m", "assay", *perf[1:]], root, env)
    (summary,) = (root / "outputs" / "perf").glob("*/parallel_5_number_20/summary.json")
    numbers = json.loads(summary.read_text(encoding="utf-8"))
    assert numbers["total_requests"] == numbers["succeeded_requests"] == 20
    pytest.importorskip("starlette", reason="`assay app` needs the `app` extra")
    pytest.importorskip("uvicorn", reason="`assay app` needs the `app` extra")
    if not _port_free(7860):
        pytest.skip("port 7860, where `assay app` listens by default, is in use")
    viewer = subprocess.Popen([sys.executable, "-m", "assay", *app[1:]], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for("http://127.0.0.1:7860/", viewer, timeout_s=120)
        with urllib.request.urlopen("http://127.0.0.1:7860/", timeout=10) as page:
            assert page.status == 200
    finally:
        viewer.terminate()
        viewer.wait(timeout=30)
