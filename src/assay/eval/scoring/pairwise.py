"""Pairwise judging: a judge model compares a candidate's answer with a baseline's, in both orders.

Each pair is judged twice, once with the baseline as assistant A and once with the candidate as A, because
judges favour one position. A verdict is one of Arena-Hard's five labels, ``[[A>>B]]``, ``[[A>B]]``,
``[[A=B]]``, ``[[B>A]]``, ``[[B>>A]]`` (MT-Bench's ``[[A]]`` / ``[[B]]`` / ``[[C]]`` are read too, C a tie).
As in Arena-Hard's parser, a reply naming two different labels has no verdict.

Two scores come out of the two games:

- ``winrate`` (per pair, MT-Bench's consistency rule, Zheng et al. 2023): the candidate wins a pair only if
  it is preferred in both orders, loses only if the baseline is preferred in both; any other pair
  (inconsistent, or a tie in either order) is a tie. A pair scores 1, 0.5 or 0.
- the Arena-Hard score (Li et al. 2024, "From Crowdsourced Data to High-Quality Benchmarks: Arena-Hard and
  BenchBuilder Pipeline"): every game is a battle, a decisive verdict (``>>``) counts as three battles, and
  the score is the candidate's share of battles won, ties counted half. With one model against one
  baseline this is what the Bradley-Terry fit of Arena-Hard's ``show_result`` gives.

A game whose request failed or whose reply has no label is a judge error: its pair is left ungraded (counted
apart, never as a loss). Confidence intervals are percentile bootstraps over pairs, seeded.

AlpacaEval 2.0's length-controlled win rate (Dubois et al. 2024, "Length-Controlled AlpacaEval") is in
``length_controlled_winrate``: a logistic GLM of the preference on ``tanh`` of the standardised length
difference (plus instruction difficulty when given), predicted with the length difference set to zero.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from assay.types import Message

# The strength of a verdict for the assistant it prefers: a decisive one counts as this many battles.
DECISIVE_WEIGHT = 3

_LABEL = re.compile(r"\[\[\s*([AB])\s*(>>|>|=|<<|<)\s*([AB])\s*\]\]|\[\[\s*([ABC])\s*\]\]")

ARENA_SYSTEM = """You are an impartial judge. Compare the answers two AI assistants gave to the user prompt \
below and decide which one is better.

Before you read the assistants' answers, write your own answer to the prompt. Then compare both answers with \
yours: find and correct any mistakes or inaccurate information. Judge whether each answer is helpful (it \
answers the prompt correctly and follows its instructions; where the prompt is ambiguous or open to several \
readings, asking the user for clarification is better than answering on assumptions), relevant (every part \
bears on what was asked) and concise (clear, not verbose or padded). Where it matters, weigh creativity and \
novelty, and note important information either answer leaves out that would help the user.

After your explanation, end with exactly one of these verdict labels:
- Assistant A is significantly better: [[A>>B]]
- Assistant A is slightly better: [[A>B]]
- Tie, relatively the same: [[A=B]]
- Assistant B is slightly better: [[B>A]]
- Assistant B is significantly better: [[B>>A]]

For example: "My final verdict is tie: [[A=B]]"."""

ARENA_TEMPLATE = """<|User Prompt|>
{question}

<|The Start of Assistant A's Answer|>
{answer_a}
<|The End of Assistant A's Answer|>

<|The Start of Assistant B's Answer|>
{answer_b}
<|The End of Assistant B's Answer|>"""


def parse_label(reply: str | None) -> str | None:
    """The verdict label of a judge reply, normalised to ``A>>B``, ``A>B``, ``A=B``, ``B>A`` or ``B>>A``;
    ``None`` when there is none or the reply names two different ones."""
    if not reply:
        return None
    found = set()
    for match in _LABEL.finditer(reply):
        left, op, right, single = match.groups()
        if single is not None:
            found.add({"A": "A>B", "B": "B>A", "C": "A=B"}[single])
            continue
        if left == right:
            continue
        if op in ("<", "<<"):  # A<B is B>A
            left, right, op = right, left, op.replace("<", ">")
        found.add("A=B" if op == "=" else f"{left}{op}{right}")
    return found.pop() if len(found) == 1 else None


def candidate_outcome(label: str | None, candidate_is_a: bool) -> int | None:
    """A verdict from the candidate's side: +2 decisive win, +1 win, 0 tie, -1 loss, -2 decisive loss."""
    if label is None:
        return None
    if label == "A=B":
        return 0
    strength = 2 if ">>" in label else 1
    a_wins = label.startswith("A")
    return strength if a_wins == candidate_is_a else -strength


def combine(first: int | None, second: int | None) -> float | None:
    """A pair's ``winrate`` value from its two games: 1 if both prefer the candidate, 0 if both prefer the
    baseline, 0.5 otherwise (inconsistent or tied); ``None`` when either game has no verdict."""
    if first is None or second is None:
        return None
    if first > 0 and second > 0:
        return 1.0
    if first < 0 and second < 0:
        return 0.0
    return 0.5


def battles(outcomes: Sequence[int | None]) -> list[tuple[float, int]]:
    """Arena-Hard's battles of a pair's games: (the candidate's result 1 / 0.5 / 0, weight)."""
    out = []
    for outcome in outcomes:
        if outcome is None:
            continue
        result = 1.0 if outcome > 0 else 0.0 if outcome < 0 else 0.5
        out.append((result, DECISIVE_WEIGHT if abs(outcome) == 2 else 1))
    return out


def arena_score(pairs: Sequence[Sequence[tuple[float, int]]]) -> float | None:
    """The candidate's weighted share of battles won (ties half), pooled over all pairs."""
    total = sum(weight for pair in pairs for _, weight in pair)
    if not total:
        return None
    return sum(result * weight for pair in pairs for result, weight in pair) / total


@dataclass
class Game:
    """One order of a pair: who was A, the judge's prompt and reply, and the verdict read from it."""

    candidate_is_a: bool
    prompt: str
    reply: str | None
    label: str | None
    error: str | None = None
    cached: bool = False

    @property
    def outcome(self) -> int | None:
        return None if self.error is not None else candidate_outcome(self.label, self.candidate_is_a)

    def record(self) -> dict[str, Any]:
        return {"candidate_is_a": self.candidate_is_a, "label": self.label, "outcome": self.outcome,
                "reply": self.reply, "error": self.error, "cached": self.cached, "prompt": self.prompt}


@dataclass
class PairResult:
    """Both games of a pair and what they add up to."""

    games: list[Game] = field(default_factory=list)

    @property
    def value(self) -> float | None:
        first, second = (game.outcome for game in self.games)
        return combine(first, second)

    @property
    def battles(self) -> list[tuple[float, int]]:
        return battles([game.outcome for game in self.games])

    @property
    def judge_errors(self) -> int:
        """Games with no verdict: the request failed or the reply named no single label."""
        return sum(game.outcome is None for game in self.games)

    @property
    def consistent(self) -> bool | None:
        first, second = (game.outcome for game in self.games)
        if first is None or second is None:
            return None
        return (first > 0) == (second > 0) and (first < 0) == (second < 0)

    def describe(self) -> str:
        if self.value is None:
            return f"judge gave no verdict in {self.judge_errors} of 2 orders; not graded"
        labels = ", ".join(f"{'candidate' if g.candidate_is_a else 'baseline'} as A: [[{g.label}]]"
                           for g in self.games)
        word = {1.0: "win", 0.0: "loss", 0.5: "tie"}[self.value]
        note = "" if self.consistent else " (the two orders disagree: a tie)"
        return f"{word}{note}; {labels}"


class PairwiseJudge:
    """Judges a candidate against a baseline in both orders through an ``LLMJudge`` (its model, cache, limits)."""

    def __init__(self, judge: Any, system: str = ARENA_SYSTEM, template: str = ARENA_TEMPLATE) -> None:
        self.judge = judge
        self.system = system
        self.template = template

    def messages(self, question: str, answer_a: str, answer_b: str) -> list[Message]:
        prompt = self.template.format(question=question, answer_a=answer_a, answer_b=answer_b)
        return [Message.system(self.system), Message.user(prompt)] if self.system else [Message.user(prompt)]

    async def compare(self, question: str, candidate: str, baseline: str) -> PairResult:
        """Game 1 puts the baseline first (A), game 2 the candidate; both are asked at once."""
        orders = [(False, baseline, candidate), (True, candidate, baseline)]
        replies = await asyncio.gather(*(self.judge.ask(self.messages(question, a, b)) for _, a, b in orders))
        games = [Game(candidate_is_a=is_a, prompt=reply.prompt, reply=reply.text,
                      label=None if reply.error else parse_label(reply.text), error=reply.error, cached=reply.cached)
                 for (is_a, _, _), reply in zip(orders, replies)]
        return PairResult(games)


def bootstrap_interval(values: Sequence[Any], statistic: Callable[[list[Any]], float | None], *,
                       resamples: int = 1000, seed: int = 0, confidence: float = 0.95) -> tuple[float, float] | None:
    """The percentile bootstrap interval of ``statistic`` over ``values`` (resampled whole, with replacement)."""
    if len(values) < 2:
        return None
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(resamples):
        picked = [values[i] for i in rng.integers(0, len(values), size=len(values))]
        value = statistic(picked)
        if value is not None:
            stats.append(value)
    if not stats:
        return None
    alpha = 1.0 - confidence
    low, high = np.quantile(np.array(stats), [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _fit_logistic(features: np.ndarray, targets: np.ndarray, *, l2: float = 1e-6, steps: int = 100) -> np.ndarray:
    """Maximum-likelihood logistic regression with soft targets in [0, 1] (Newton's method, a tiny ridge for
    separable data)."""
    weights = np.zeros(features.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-features @ weights))
        gradient = features.T @ (p - targets) + l2 * weights
        hessian = (features * (p * (1 - p))[:, None]).T @ features + l2 * np.eye(features.shape[1])
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return weights


def length_controlled_winrate(preferences: Sequence[float], candidate_lengths: Sequence[int],
                              baseline_lengths: Sequence[int],
                              difficulty: Sequence[float] | None = None) -> float | None:
    """AlpacaEval 2.0's length-controlled win rate, in [0, 1].

    The GLM: logit P(candidate preferred) = θ + φ·tanh(Δ / sd(Δ)) (+ ψ·difficulty), with Δ the candidate's
    answer length minus the baseline's in characters, fitted to the per-pair preferences (soft labels: a tie
    is 0.5); the controlled win rate is the mean predicted preference with Δ set to 0. This is AlpacaEval's
    ``length_controlled_minimal`` GLM (``length_controlled_v1`` with ``difficulty``) fitted by plain maximum
    likelihood: AlpacaEval fits it with an L1 penalty chosen by 5-fold cross-validation and also regularises
    toward its precomputed gamed baselines, so its value can differ from this one by a little.
    """
    if len(preferences) < 2:
        return None
    features, weights = length_glm(preferences, candidate_lengths, baseline_lengths, difficulty)
    test = features.copy()
    test[:, 1] = 0.0  # no length difference
    predicted = 1.0 / (1.0 + np.exp(-test @ weights))
    value = float(predicted.mean())
    return value if math.isfinite(value) else None


def length_glm(preferences: Sequence[float], candidate_lengths: Sequence[int], baseline_lengths: Sequence[int],
               difficulty: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The length GLM's design matrix (intercept, tanh of the standardised length difference[, difficulty])
    and its fitted weights."""
    y = np.asarray(preferences, dtype=float)
    delta = np.asarray(candidate_lengths, dtype=float) - np.asarray(baseline_lengths, dtype=float)
    spread = delta.std(ddof=1) if len(delta) > 1 else 0.0
    length_term = np.tanh(delta / spread) if spread > 0 else np.zeros_like(delta)
    columns = [np.ones_like(y), length_term]
    if difficulty is not None:
        columns.append(np.asarray(difficulty, dtype=float))
    features = np.column_stack(columns)
    return features, _fit_logistic(features, y)
