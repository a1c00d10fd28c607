"""Evaluation reports: benchmark → subset → metric, each with its count and standard error."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class MetricScore(BaseModel):
    """A metric's mean over the graded samples, its standard error and 95% interval (normal approximation).

    ``num`` counts the samples graded; ``ungraded`` those that could not be (failed request, undecided
    check), which are left out of the mean and reported here instead.
    """

    score: float | None
    stderr: float | None = None
    ci95: tuple[float, float] | None = None
    num: int = 0
    ungraded: int = 0


class SubsetReport(BaseModel):
    name: str
    num: int
    metrics: dict[str, MetricScore] = Field(default_factory=dict)


class BenchmarkReport(BaseModel):
    """One benchmark's results, as written to ``reports/<benchmark>.json`` (name, main metric, score first)."""

    benchmark: str
    main_metric: str
    score: float | None
    num: int
    model: str
    version: str
    protocol: str | None = Field(default=None, description="How it was asked and graded (shots, prompt, extraction).")
    preset: str | None = Field(default=None, description="The preset the run was filled from: name (sha256 prefix).")
    repeats: int = 1
    metrics: dict[str, MetricScore] = Field(default_factory=dict)
    subsets: list[SubsetReport] = Field(default_factory=list)
    failed_samples: int = 0
    failed_scored_as: Literal["ungraded", "wrong"] = "ungraded"
    truncated_answers: int = 0
    unfinished_reasoning: int = 0
    no_answer: int = 0
