"""Helpers for the eval tests: replay files the simulator answers from, and the shared data folder."""

from __future__ import annotations

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
SHARED = shared_data_dir()


def load_samples(name: str, limit: float | None = None, seed: int = 42, **args: object) -> list[Sample]:
    benchmark = get_benchmark(name)(DatasetArgs(**args), seed)  # type: ignore[arg-type]
    return benchmark.load(DatasetLoader(hub="local"), limit)


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


@pytest.fixture
def shared_data() -> Path:
    return shared_path()


@pytest.fixture
def make_replay(tmp_path: Path) -> Callable[..., Path]:
    def make(samples: list[Sample], responses: list[str], name: str = "replay.jsonl") -> Path:
        return write_replay(tmp_path / name, samples, responses)

    return make
