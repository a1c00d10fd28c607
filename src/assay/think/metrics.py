"""Per-trace measurements and their per-group summaries (pure functions, no I/O).

Definitions, for one trace (the reasoning of one completion):

- reasoning tokens T: tokens of the reasoning;
- first-correct tokens T̂: tokens from the start to the end of the first step that reaches the correct
  answer (EvalScope's thinking-efficiency guide); undefined when no step reaches it;
- reflection tokens T − T̂, and token efficiency T̂ / T;
- thought count: sub-chains of thought (see :func:`~assay.think.splitting.count_thoughts`);
- accuracy: the run's own grade of the final answer.

Traces that never reach the answer are counted apart (``never_reached``, with their mean T): they do not
enter the means of T̂, T − T̂ and T̂ / T. The two overthinking measures of Chen et al., "Do NOT Think That
Much for 2+3=? On the Overthinking of o1-Like LLMs" (2024, arXiv:2412.21187) are kept as the paper defines
them, over all N traces:

- outcome efficiency ξ_O = (1/N) Σ σ_i T̂_i / T_i, where the paper's σ_i = 1 when at least one solution
  in response i is correct, and T̂_i is the tokens up to where the response first arrives at the correct
  answer. Here σ_i = 1 when the trace reaches the correct answer (``reached``) and T̂_i is
  ``first_correct_tokens``, so a trace that never reaches it contributes 0;
- process efficiency ξ_P = (1/N) Σ D_i / T_i, with D_i = Σ_m τ_i^m T_i^m: the tokens of the solutions of
  response i that are distinct (τ = 1 when a solution's reasoning strategy differs from every earlier
  solution's; the paper has GPT-4o cluster the strategies). Here τ is decided by the answer (see
  :func:`~assay.think.firstcorrect.distinct_solutions`).

Where ours is an approximation (docs/think.md, "Outcome and process efficiency"): T_i counts the reasoning
only, not the whole response; T̂_i ends at the first correct *step* rather than the first correct
*solution*; solutions end at explicit answers instead of being cut by an LLM; distinct means a new answer,
not a new strategy. The formulas and the averaging over all N traces are the paper's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable

from pydantic import BaseModel

METRICS = (
    "reasoning_tokens", "first_correct_tokens", "reflection_tokens", "token_efficiency", "thought_count",
    "accuracy", "outcome_efficiency", "process_efficiency",
)
METRIC_TITLES = {
    "reasoning_tokens": "Reasoning tokens T", "first_correct_tokens": "First-correct tokens T̂",
    "reflection_tokens": "Reflection tokens T − T̂", "token_efficiency": "Token efficiency T̂/T",
    "thought_count": "Thought count", "accuracy": "Accuracy", "outcome_efficiency": "Outcome efficiency ξ_O",
    "process_efficiency": "Process efficiency ξ_P",
}
ALL_GROUP = "all"


@dataclass
class TraceResult:
    """What one trace measured. ``first_correct_tokens`` is None when no step reaches the answer."""

    model: str
    sample_id: str
    repeat: int
    group: str
    correct: float | None
    reasoning_tokens: int
    first_correct_tokens: int | None
    first_correct_step: int | None
    step_count: int
    thought_count: int
    distinct_tokens: int
    method: str
    rule_step: int | None = None
    judge_step: int | None = None
    judge_ok: bool | None = None
    split: str = "paragraphs"

    @property
    def reached(self) -> bool:
        return self.first_correct_tokens is not None

    @property
    def reflection_tokens(self) -> int | None:
        return None if self.first_correct_tokens is None else self.reasoning_tokens - self.first_correct_tokens

    @property
    def token_efficiency(self) -> float | None:
        if self.first_correct_tokens is None or not self.reasoning_tokens:
            return None
        return self.first_correct_tokens / self.reasoning_tokens

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data.update(reflection_tokens=self.reflection_tokens, token_efficiency=self.token_efficiency)
        return data


class GroupMetrics(BaseModel):
    """One row of the table: a model on one group (a level, a subset, or ``all``)."""

    model: str
    group: str
    traces: int
    accuracy: float | None
    graded: int
    reasoning_tokens: float | None
    first_correct_tokens: float | None
    reflection_tokens: float | None
    token_efficiency: float | None
    thought_count: float | None
    reached: int
    never_reached: int
    never_reached_reasoning_tokens: float | None
    outcome_efficiency: float | None
    process_efficiency: float | None


def _mean(values: Iterable[float | int | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return math.fsum(kept) / len(kept) if kept else None


def summarise(model: str, group: str, traces: list[TraceResult]) -> GroupMetrics:
    """The row of ``traces`` (all of one model and group)."""
    reached = [t for t in traces if t.reached]
    never = [t for t in traces if not t.reached]
    graded = [t.correct for t in traces if t.correct is not None]
    with_tokens = [t for t in traces if t.reasoning_tokens > 0]
    return GroupMetrics(
        model=model, group=group, traces=len(traces), accuracy=_mean(graded), graded=len(graded),
        reasoning_tokens=_mean(t.reasoning_tokens for t in traces),
        first_correct_tokens=_mean(t.first_correct_tokens for t in reached),
        reflection_tokens=_mean(t.reflection_tokens for t in reached),
        token_efficiency=_mean(t.token_efficiency for t in reached),
        thought_count=_mean(t.thought_count for t in traces),
        reached=len(reached), never_reached=len(never),
        never_reached_reasoning_tokens=_mean(t.reasoning_tokens for t in never),
        outcome_efficiency=_mean((t.first_correct_tokens or 0) / t.reasoning_tokens if t.reached else 0.0
                                 for t in with_tokens),
        process_efficiency=_mean(t.distinct_tokens / t.reasoning_tokens for t in with_tokens),
    )


def group_sort_key(name: str) -> tuple:
    """Natural order: "Level 2" before "Level 10"; ``all`` last."""
    if name == ALL_GROUP:
        return (1, ())
    return (0, tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p))


def summarise_all(traces: list[TraceResult], models: list[str]) -> list[GroupMetrics]:
    """One row per model and group, plus an ``all`` row per model; models in the given order."""
    rows: list[GroupMetrics] = []
    for model in models:
        mine = [t for t in traces if t.model == model]
        groups = sorted({t.group for t in mine}, key=group_sort_key)
        for group in groups:
            rows.append(summarise(model, group, [t for t in mine if t.group == group]))
        if mine:
            rows.append(summarise(model, ALL_GROUP, mine))
    return rows


class Agreement(BaseModel):
    """How often the rule and the LLM judge named the same first correct step (both "none" agrees)."""

    compared: int
    agreed: int
    judge_unreadable: int

    @property
    def rate(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


def agreement(traces: list[TraceResult]) -> Agreement | None:
    """Rule-vs-judge agreement over the traces the judge answered; None when no judge ran."""
    judged = [t for t in traces if t.judge_ok is not None]
    if not judged:
        return None
    readable = [t for t in judged if t.judge_ok]
    return Agreement(compared=len(readable), agreed=sum(t.rule_step == t.judge_step for t in readable),
                     judge_unreadable=len(judged) - len(readable))
