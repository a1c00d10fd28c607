"""Build an outputs folder for the viewer's tests by running the real tools against the simulator.

Two eval runs of one "model" (thinking, with reasoning, and plain) answer the in-repo benchmark fixtures from
replay files, so which answers are right is known; two perf sweeps run against the simulator; ``assay think``
reads the thinking run. One answer carries ``<script>`` and HTML, which the viewer must show as text.

Used by ``tests/app/conftest.py`` (built once per session into a temporary folder) and runnable by hand::

    python tests/app/make_fixtures.py tests/app/fixtures/outputs   # regenerate the checked-in copy
    assay app --outputs tests/app/fixtures/outputs

Building takes ~40 s (two eval runs, two perf sweeps, think), too long for every test session, so the
tests read the checked-in copy. Files the viewer never reads (records.sqlite, per-plan latency charts,
replay files) are left out of it to keep it small.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from assay.data import DatasetLoader
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.types import Sample

EVAL_FIXTURES = Path(__file__).resolve().parents[1] / "eval" / "fixtures"
DATASET_ARGS = {
    "gsm8k": {"dataset_id": str(EVAL_FIXTURES / "gsm8k")},
    "math_500": {"dataset_id": str(EVAL_FIXTURES / "math_500"), "subset_list": ["Level 1", "Level 2"]},
    "mmlu": {"dataset_id": str(EVAL_FIXTURES / "mmlu"), "subset_list": ["abstract_algebra", "anatomy"]},
}
SCRIPT_ANSWER = "I think <script>window.__pwned = 1</script> <b>bold</b> is 7.\nThe final answer is $\\boxed{7}$."
# Which samples each run gets right (by position in the dataset); the rest are wrong.
RIGHT = {
    "thinker": {"gsm8k": {0, 1, 2}, "math_500": {0, 1, 2}, "mmlu": {0, 2}},
    "plain": {"gsm8k": {0}, "math_500": {0}, "mmlu": {0, 1}},
}


def load(name: str) -> list[Sample]:
    benchmark = get_benchmark(name)(DatasetArgs(**DATASET_ARGS[name]), 42)  # type: ignore[arg-type]
    return benchmark.load(DatasetLoader(hub="local"), None)


def answer(sample: Sample, task_type: str, right: bool) -> str:
    if task_type == "mcq":
        targets = {sample.target} if isinstance(sample.target, str) else set(sample.target)
        letter = next(iter(targets)) if right else next(
            chr(65 + i) for i in range(len(sample.choices or [])) if chr(65 + i) not in targets)
        return f"Let me check each option.\nAnswer: {letter}"
    if right:
        return f"Working it out step by step.\nThe final answer is $\\boxed{{{sample.target}}}$."
    return "The final answer is $\\boxed{-987654}$."


def write_replay(path: Path, model: str) -> Path:
    with path.open("wb") as handle:
        for name in DATASET_ARGS:
            task_type = get_benchmark(name).task_type
            for index, sample in enumerate(load(name)):
                right = index in RIGHT[model][name]
                text = SCRIPT_ANSWER if (model == "thinker" and name == "gsm8k" and index == 3) else \
                    answer(sample, task_type, right)
                entry = {"prompt": [m for m in sample.messages or [] if m.role == "user"][-1].text(),
                         "response": text}
                if model == "thinker":
                    entry["reasoning"] = (f"Let me read the question ({name} #{index}).\n\n"
                                          f"But wait, let me check again.\n\nSo the answer follows.")
                handle.write(orjson.dumps(entry) + b"\n")
    return path


def eval_run(outputs: Path, work: Path, model: str) -> Path:
    replay = write_replay(work / f"{model}.jsonl", model)
    task = TaskConfig(
        eval_type="sim", model=f"sim-{model}", datasets=list(DATASET_ARGS), dataset_args=DATASET_ARGS,
        work_dir=str(outputs), eval_batch_size=4,
        model_args={"replay_path": str(replay), "latency_model": "fixed", "ttft_ms": 0, "itl_ms": 0, "seed": 1,
                    **({"reasoning": "field"} if model == "thinker" else {})},
    )
    return run_task(task, show=False).run_dir


def perf_runs(outputs: Path) -> list[Path]:
    from assay.perf import PerfConfig, run_perf
    from assay.sim import SimConfig, SimProcess

    folders = []
    sim_config = SimConfig(port=0, latency_model="engine", ttft_ms=5, itl_ms=2, itl_ms_per_seq=0.5,
                           prefill_ms_per_token=0, max_batch_size=2, output_len="16")
    with SimProcess(sim_config) as sim:
        for name, parallel in (("sim-a", [1, 2, 4]), ("sim-b", [1, 4])):
            result = run_perf(PerfConfig(url=sim.base_url + "/chat/completions", model="assay-sim", name=name,
                                         prompt="Tell me a story.", parallel=parallel, number=[8] * len(parallel),
                                         max_tokens=16, outputs_dir=str(outputs), charts=True))
            folders.append(result.run_dir)
    return folders


def think_run(outputs: Path, run: Path) -> Path:
    from assay.think import ThinkConfig, run_think

    return run_think(ThinkConfig(runs=[str(run)], dataset="math_500", output_dir=str(outputs / "think")),
                     show=False).output_dir


def build(outputs: Path, work: Path, *, perf: bool = True, think: bool = True) -> dict[str, Path]:
    """Fill ``outputs`` (eval runs, perf sweeps, think results); replay files go to ``work``."""
    outputs.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    made = {"thinker": eval_run(outputs, work, "thinker"), "plain": eval_run(outputs, work, "plain")}
    if perf:
        made["perf_a"], made["perf_b"] = perf_runs(outputs)
    if think:
        made["think"] = think_run(outputs, made["thinker"])
    return made


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/app/make_fixtures.py OUTPUTS_DIR")
    import shutil
    import tempfile

    target = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as work:
        for label, path in build(target, Path(work)).items():
            print(f"{label}: {path}")
    for unread in [*target.rglob("records.sqlite"), *target.rglob("latency_distribution.png")]:
        unread.unlink()
    for logs in target.glob("*/logs"):
        shutil.rmtree(logs)


def write_large_run(outputs: Path, samples: int, benchmark: str = "gsm8k", run_id: str = "20260101_000000_big") -> Path:
    """A synthetic eval run of ``samples`` samples in the real format (for paging tests and the bench).

    Every 7th sample is wrong, every 50th failed with an error; subsets cycle through three names.
    """
    from assay.types import Completion, SampleResult, Score
    from assay.types.message import Message
    from assay.types.report import BenchmarkReport, MetricScore
    from assay.types.sample import Sample as SampleModel

    run = outputs / run_id
    (run / "predictions").mkdir(parents=True, exist_ok=True)
    (run / "reports").mkdir(exist_ok=True)
    template = SampleResult(
        sample=SampleModel(id="0", messages=[Message.user("Q")], target="1", subset="s0"),
        completions=[Completion(text="A", reasoning="R", finish_reason="stop", model="big-model")],
        scores=[Score(values={"acc": 1.0}, extracted="1")], benchmark=benchmark, benchmark_version="1",
    ).model_dump(mode="json")
    right = 0
    with (run / "predictions" / f"{benchmark}.jsonl").open("wb") as handle:
        for i in range(samples):
            item = template
            item["sample"]["id"] = str(i)
            item["sample"]["subset"] = f"s{i % 3}"
            item["sample"]["messages"][0]["content"] = f"Question {i}: what is {i} + 1? Explain $x^{i % 5}$."
            item["sample"]["target"] = str(i + 1)
            failed = i % 50 == 49
            wrong = not failed and i % 7 == 6
            item["completions"][0]["text"] = "" if failed else f"The answer is {i + (2 if wrong else 1)}."
            item["completions"][0]["reasoning"] = f"Adding one to {i}."
            item["completions"][0]["error"] = {"kind": "server", "message": "HTTP 500"} if failed else None
            item["scores"][0]["values"] = {"acc": None if failed else 0.0 if wrong else 1.0}
            item["scores"][0]["extracted"] = None if failed else str(i + (2 if wrong else 1))
            right += not failed and not wrong
            handle.write(orjson.dumps(item) + b"\n")
    graded = samples - samples // 50
    report = BenchmarkReport(benchmark=benchmark, main_metric="acc", score=right / graded, num=samples,
                             model="big-model", version="1",
                             metrics={"acc": MetricScore(score=right / graded, num=graded)})
    (run / "reports" / f"{benchmark}.json").write_bytes(orjson.dumps(report.model_dump(mode="json")))
    (run / "manifest.json").write_bytes(orjson.dumps({"run_id": run_id, "status": "finished", "model": "big-model",
                                                      "started": "2026-01-01T00:00:00",
                                                      "benchmarks": {benchmark: {"version": "1"}}}))
    return run
