"""One trace, measured: steps, thoughts, the first correct step (rule, and the LLM judge when asked),
token counts and the distinct solutions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

from assay.think.config import JudgeConfig
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


class LLMJudge:
    """Asks an OpenAI-compatible model (through the one client) for the first correct paragraph."""

    def __init__(self, config: JudgeConfig) -> None:
        import asyncio

        from assay.client import ClientConfig, OpenAIClient

        self.config = config
        self._client = OpenAIClient(ClientConfig(
            base_url=config.api_url, api_key=config.api_key, model=config.model, max_retries=config.max_retries,
            read_timeout_s=config.read_timeout_s, max_connections=config.max_concurrency))
        self._slots = asyncio.Semaphore(config.max_concurrency)

    async def __aenter__(self) -> LLMJudge:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.__aexit__(*exc_info)

    async def ask(self, prompt: str, *, max_tokens: int | None = None) -> str | None:
        """The judge's reply to one prompt, ``None`` when the request failed (logged)."""
        from assay.types import GenerationConfig, Message

        generation = GenerationConfig(temperature=0.0, max_tokens=max_tokens or self.config.max_tokens)
        async with self._slots:
            completion = await self._client.chat([Message.user(prompt)], generation=generation, stream=False,
                                                 capture_errors=True)
        if completion.error is not None:
            log.warning("judge request failed: %s: %s", completion.error.kind, completion.error.message)
            return None
        return completion.text

    async def ask_for_steps(self, prompt: str) -> str | None:
        """``ask`` with room for a JSON list of step openings (a long trace has many steps)."""
        return await self.ask(prompt, max_tokens=max(self.config.max_tokens, _SPLIT_MAX_TOKENS))

    async def first_correct(self, problem: str, answer: str, steps: Sequence[Step]) -> Any:
        """The 0-based step, ``None`` (no step reaches it), or ``UNREADABLE`` (failed or unparseable)."""
        reply = await self.ask(judge_prompt(problem, answer, steps))
        if reply is None:
            return UNREADABLE
        verdict = parse_judge_reply(reply, len(steps))
        if verdict is UNREADABLE:
            log.warning("judge reply names no paragraph: %.80r", reply)
        return verdict


async def analyse_trace(
    trace: Trace,
    tokens: TraceTokens,
    *,
    split: str,
    markers: Sequence[str],
    equality: Equality,
    judge: LLMJudge | None = None,
    splitter: LLMSplitter | None = None,
) -> TraceResult:
    """Measure one trace (see :mod:`assay.think.metrics` for the definitions).

    ``split="llm"`` needs ``splitter``; when its reply is unusable the trace is cut into paragraphs and its
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
        verdict = await judge.first_correct(trace.problem, trace.target, steps)
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
