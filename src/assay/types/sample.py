"""Benchmark samples and their scores."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.types.completion import Completion
from assay.types.message import Message


class Sample(BaseModel):
    """One benchmark item: the input (chat messages or a raw prompt), the target and metadata.

    ``metadata`` carries what reports group by (``subset``, ``level``, ``tags``) and anything a scorer
    needs (test cases, instruction kwargs). ``tools`` (OpenAI ``tools`` entries) are offered to the model with
    the messages, for tool-calling benchmarks.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    messages: list[Message] | None = None
    prompt: str | None = None
    tools: list[dict[str, Any]] | None = None
    target: Any = None
    choices: list[str] | None = None
    subset: str = "default"
    metadata: dict[str, Any] = Field(default_factory=dict)
    # What only the scorer reads and is too large to write with every result (LiveCodeBench's compressed private
    # tests, megabytes a problem): it travels with the loaded sample and is never serialised, so a sample read
    # back from predictions lacks it (a re-grade scores the freshly loaded sample).
    scoring_data: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)


class Score(BaseModel):
    """The grade of one completion: metric name → value (``None`` = could not grade, not wrong)."""

    values: dict[str, float | None] = Field(default_factory=dict)
    extracted: Any = None
    explanation: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def graded(self) -> bool:
        return any(v is not None for v in self.values.values())


class SampleResult(BaseModel):
    """A sample, the completions it got (one per repeat) and their scores, as written to predictions."""

    sample: Sample
    completions: list[Completion] = Field(default_factory=list)
    scores: list[Score] = Field(default_factory=list)
    benchmark: str | None = None
    benchmark_version: str | None = None
