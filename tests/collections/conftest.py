"""Helpers for the collection tests: fixture-backed schemas, generated user datasets, replay files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import orjson

from assay.collections import CollectionItem, CollectionSchema, DatasetInfo
from assay.types import Sample
from tests.eval.conftest import FIXTURES, SHARED, gold_answer, sim_args, wrong_answer

__all__ = ["FIXTURES", "SHARED", "fixture_schema", "gold_answer", "item_answer", "sim_args", "write_qa",
           "write_replay", "wrong_answer"]


def fixture_schema() -> CollectionSchema:
    """Every fixture benchmark, in two groups (Math weighted 1, Knowledge weighted 3)."""
    return CollectionSchema(name="Mix", datasets=[
        CollectionSchema(name="Math", weight=1, datasets=[
            DatasetInfo(name="gsm8k", weight=1, tags=["en"], args={"dataset_id": str(FIXTURES / "gsm8k")}),
            DatasetInfo(name="math_500", weight=1, tags=["en"], args={
                "dataset_id": str(FIXTURES / "math_500"), "subset_list": ["Level 1", "Level 2"]}),
        ]),
        CollectionSchema(name="Knowledge", weight=3, datasets=[
            DatasetInfo(name="mmlu", weight=2, task_type="exam", tags=["en"], args={
                "dataset_id": str(FIXTURES / "mmlu"), "subset_list": ["abstract_algebra", "anatomy"]}),
            DatasetInfo(name="iquiz", weight=1, task_type="exam", tags=["zh"],
                        args={"dataset_id": str(FIXTURES / "iquiz")}),
            DatasetInfo(name="general_qa", weight=1, task_type="qa", tags=["en"],
                        args={"dataset_id": str(FIXTURES / "general_qa")}),
        ]),
    ])


def write_qa(path: Path, rows: int, prefix: str) -> Path:
    """A general_qa file of ``rows`` generated questions (answers "<prefix> i")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"query": f"{prefix} question {i}?", "response": f"{prefix} {i}"}) + "\n"
                            for i in range(rows)), encoding="utf-8")
    return path


def item_answer(item: CollectionItem, correct: bool) -> str:
    """An answer the item's own scorer grades right (or wrong), after a closed <think> block."""
    task_type = {"gsm8k": "math", "math_500": "math", "aime24": "math", "aime25": "math",
                 "general_qa": "qa"}.get(item.benchmark, "mcq")
    answer = (gold_answer if correct else wrong_answer)(item.sample, task_type)
    return f"<think>Let me think. Maybe \\boxed{{-1}} or Answer: Z.</think>\n{answer}"


def write_replay(path: Path, items: list[CollectionItem], correct: Callable[[CollectionItem], bool]) -> Path:
    """Replay entries keyed by each row's exact last user message."""
    with path.open("wb") as handle:
        for item in items:
            sample: Sample = item.sample
            prompt = [m for m in sample.messages or [] if m.role == "user"][-1].text()
            handle.write(orjson.dumps({"prompt": prompt, "response": item_answer(item, correct(item))}) + b"\n")
    return path
