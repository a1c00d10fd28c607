"""Helpers for the eval tests: replay files the simulator answers from, and the shared data folder."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Callable

import orjson
import pytest

from assay.data import DatasetLoader
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.types import Sample
from tests.helpers.shared_data import shared_data_dir, shared_path

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN_DIR = Path(__file__).parent / "golden"
SHARED = shared_data_dir()


def load_samples(name: str, limit: float | None = None, seed: int = 42, **args: object) -> list[Sample]:
    benchmark = get_benchmark(name)(DatasetArgs(**args), seed)  # type: ignore[arg-type]
    return benchmark.load(DatasetLoader(hub="local"), limit)


def golden_case_args(name: str, variant: str | None = None) -> dict[str, object]:
    """The dataset args of ``name``'s golden prompt case, by convention: its fixture folder
    ``fixtures/<name>/`` as ``dataset_id``, plus what ``golden/<name>.args.json`` (or ``<name>@<variant>.args.json``)
    sets (``subset_list``, ``few_shot_num``...; a relative ``dataset_id`` is under ``fixtures/``). Kept beside the
    snapshot, not in the fixture folder, where the loader would read it as data."""
    stem = f"{name}@{variant}" if variant else name
    extra = GOLDEN_DIR / f"{stem}.args.json"
    args = orjson.loads(extra.read_bytes()) if extra.is_file() else {}
    if "dataset_id" in args and not Path(str(args["dataset_id"])).is_absolute():
        args["dataset_id"] = str(FIXTURES / str(args["dataset_id"]))
    return {"dataset_id": str(FIXTURES / name), **args}


def golden_variants(name: str) -> list[str]:
    """The other golden cases of ``name`` (``golden/<name>@<variant>.args.json``: 5-shot, another subset...)."""
    return sorted(p.name[len(name) + 1: -len(".args.json")] for p in GOLDEN_DIR.glob(f"{name}@*.args.json"))


def check_golden(name: str, variant: str | None = None) -> None:
    """The first sample's rendered messages equal ``golden/<name>.json`` (``<name>@<variant>.json``): a prompt
    change is seen, and must come with a version bump. A missing snapshot fails (a new benchmark must ship
    one); ``ASSAY_UPDATE_GOLDEN=1`` writes it."""
    stem = f"{name}@{variant}" if variant else name
    samples = load_samples(name, limit=1, **golden_case_args(name, variant))
    assert samples, f"{stem}: its fixture gives no sample"
    rendered = [m.model_dump() for m in samples[0].messages or []]
    path = GOLDEN_DIR / f"{stem}.json"
    if os.environ.get("ASSAY_UPDATE_GOLDEN"):
        path.write_text(json.dumps(rendered, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"{stem}: no golden prompt snapshot {path.name}; write it with ASSAY_UPDATE_GOLDEN=1"
    assert rendered == json.loads(path.read_text(encoding="utf-8")), \
        f"{stem}: the prompt changed; bump the benchmark's version and rerun with ASSAY_UPDATE_GOLDEN=1"


def gold_answer(sample: Sample, task_type: str) -> str:
    if task_type == "mcq":
        target = sample.target if isinstance(sample.target, str) else sample.target[0]
        return f"Let me check each option.\nAnswer: {target}"
    if task_type == "math":
        return f"Working it out step by step.\nThe final answer is $\\boxed{{{sample.target}}}$."
    return str(sample.target)


def wrong_answer(sample: Sample, task_type: str) -> str:
    if task_type == "mcq":
        targets = {sample.target} if isinstance(sample.target, str) else set(sample.target)
        letter = next(chr(65 + i) for i in range(len(sample.choices or [])) if chr(65 + i) not in targets)
        return f"Answer: {letter}"
    if task_type == "math":
        return "The final answer is $\\boxed{-987654}$."
    return "zzz qqq"


def write_replay(path: Path, samples: list[Sample], responses: list[str]) -> Path:
    """A replay file keyed by each sample's exact last user message."""
    with path.open("wb") as handle:
        for sample, response in zip(samples, responses):
            prompt = [m for m in sample.messages or [] if m.role == "user"][-1].text()
            handle.write(orjson.dumps({"prompt": prompt, "response": response}) + b"\n")
    return path


def sim_args(replay: Path, **extra: object) -> dict[str, object]:
    """model_args for eval_type sim: replay mode, no latency."""
    return {"replay_path": str(replay), "latency_model": "fixed", "ttft_ms": 0, "itl_ms": 0, "seed": 1, **extra}


def counting_gsm8k(folder: Path, rows: int = 12) -> dict:
    """A local gsm8k of ``rows`` questions "What is i + i?" in ``folder``; returns its dataset_args."""
    folder.mkdir()
    with folder.joinpath("test.jsonl").open("wb") as handle:
        for i in range(rows):
            handle.write(orjson.dumps({"question": f"What is {i} + {i}?", "answer": f"{i} + {i}\n#### {2 * i}"}) + b"\n")
    return {"gsm8k": {"dataset_id": str(folder)}}


def wait_for_predictions(work: Path, process: subprocess.Popen, lines: int, timeout_s: float = 60) -> Path | None:
    """The predictions file under ``work`` once it holds ``lines`` lines (None if the run ends or time runs out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        found = list(work.glob("*/predictions/gsm8k.jsonl"))
        if found and len(found[0].read_bytes().splitlines()) >= lines:
            return found[0]
        time.sleep(0.02)
    return None


@pytest.fixture
def shared_data() -> Path:
    return shared_path()


@pytest.fixture
def make_replay(tmp_path: Path) -> Callable[..., Path]:
    def make(samples: list[Sample], responses: list[str], name: str = "replay.jsonl") -> Path:
        return write_replay(tmp_path / name, samples, responses)

    return make
