"""One trace, measured: steps, thoughts, the first correct step (rule, and the LLM judge when asked),
token counts and the distinct solutions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

from assay.think.firstcorrect import (
    UNREADABLE,
    Equality,
    distinct_solutions,
    first_correct_by_rule,
    judge_prompt,
    parse_judge_reply,
    split_solutions,
)
from assay.think.llmsplit import LLMSplitter
from assay.think.metrics import TraceResult
from assay.think.splitting import Step, count_thoughts, split_steps
from assay.think.tokens import TraceTokens

log = logging.getLogger("assay.think")

_SPLIT_MAX_TOKENS = 4096
# How a trace was cut when --split llm could not use the model's reply.
LLM_SPLIT_FALLBACK = "paragraphs (llm fallback)"


@dataclass
class Trace:
    """The reasoning of one completion and what it answers."""

    model: str
    sample_id: str
    repeat: int
    group: str
    problem: str
    target: str
    reasoning: str
    correct: float | None


async def judge_first_correct(judge: Any, problem: str, answer: str, steps: Sequence[Step]) -> Any:
    """The 0-based step the LLM judge (an ``assay.eval.scoring.judge.LLMJudge``, eval's one judge class) names
    as first correct, ``None`` (no step reaches it), or ``UNREADABLE`` (failed or unparseable)."""
    reply = await judge.ask_text(judge_prompt(problem, answer, steps))
    if reply is None:
        return UNREADABLE
    verdict = parse_judge_reply(reply, len(steps))
    if verdict is UNREADABLE:
        log.warning("judge reply names no paragraph: %.80r", reply)
    return verdict


def step_splitter(judge: Any) -> LLMSplitter:
    """``--split llm`` through ``judge`` itself: the same client, retries and cache file as its first-correct
    questions, with room for a JSON list of step openings (a long trace has many steps)."""
    max_tokens = max(judge.config.generation_config.max_tokens or 0, _SPLIT_MAX_TOKENS)

    async def ask(prompt: str) -> str | None:
        return await judge.ask_text(prompt, max_tokens=max_tokens)

    return LLMSplitter(ask)


async def analyse_trace(
    trace: Trace,
    tokens: TraceTokens,
    *,
    split: str,
    markers: Sequence[str],
    equality: Equality,
    judge: Any = None,
    splitter: LLMSplitter | None = None,
) -> TraceResult:
    """Measure one trace (see :mod:`assay.think.metrics` for the definitions).

    ``judge`` is an ``LLMJudge`` (:func:`assay.eval.scoring.judge.make_judge`). ``split="llm"`` needs
    ``splitter``; when its reply is unusable the trace is cut into paragraphs and its
    ``split`` says so.
    """
    split_used = split
    if split == "llm":
        if splitter is None:
            raise ValueError("split='llm' needs an LLMSplitter")
        llm_steps = await splitter.steps(trace.reasoning)
        if llm_steps is None:
            log.warning("llm split unusable for %s sample %s: paragraphs instead", trace.model, trace.sample_id)
            steps, split_used = split_steps(trace.reasoning, "paragraphs", markers), LLM_SPLIT_FALLBACK
        else:
            steps = llm_steps
    else:
        steps = split_steps(trace.reasoning, split, markers)
    rule_step = await first_correct_by_rule(steps, trace.target, equality)
    step, method = rule_step, "rule"
    judge_step: int | None = None
    judge_ok: bool | None = None
    if judge is not None and steps:
        verdict = await judge_first_correct(judge, trace.problem, trace.target, steps)
        judge_ok = verdict is not UNREADABLE
        if judge_ok:
            judge_step = verdict
            step, method = judge_step, "judge"
        else:
            method = "rule (judge unreadable)"
    first_correct_tokens = None if step is None else tokens.upto(steps[step].end)

    solutions = split_solutions(trace.reasoning, steps)
    distinct = await distinct_solutions(solutions.answers, equality)
    distinct_tokens, previous = 0, 0
    for end, is_distinct in zip(solutions.ends, distinct):
        upto = tokens.upto(end)
        if is_distinct:
            distinct_tokens += upto - previous
        previous = upto

    return TraceResult(
        model=trace.model, sample_id=trace.sample_id, repeat=trace.repeat, group=trace.group,
        correct=trace.correct, reasoning_tokens=tokens.total, first_correct_tokens=first_correct_tokens,
        first_correct_step=step, step_count=len(steps), thought_count=count_thoughts(trace.reasoning, markers),
        distinct_tokens=distinct_tokens, method=method, rule_step=rule_step, judge_step=judge_step,
        judge_ok=judge_ok, split=split_used,
    )
