"""``--split llm``: reading the model's step openings back onto the trace, the fallback, and the cache."""

from __future__ import annotations

import asyncio
import json

import pytest

from assay.think.analyse import LLM_SPLIT_FALLBACK, Trace, analyse_trace
from assay.think.config import DEFAULT_MARKERS
from assay.think.llmsplit import LLMSplitter, parse_step_starts, split_prompt
from assay.think.tokens import TraceTokens

from .conftest import PlainEquality, WordEncoder

pytestmark = pytest.mark.timeout(30)

# One paragraph, three steps: wrong (6), right (5), a re-check. Tokens: 13, 10, 14.
ONE_PARAGRAPH = ("First I add them: 2 + 3 = 6, hmm. But wait, 2 + 3 = 5 really. "
                 "Checking: 5 - 3 = 2, so the answer is 5.")
OPENINGS = ["First I add them", "But wait, 2 + 3 = 5", "Checking: 5 - 3 = 2"]


def test_openings_map_onto_the_trace_in_order():
    steps = parse_step_starts(json.dumps(OPENINGS), ONE_PARAGRAPH)
    assert [s.text for s in steps] == ["First I add them: 2 + 3 = 6, hmm.", "But wait, 2 + 3 = 5 really.",
                                       "Checking: 5 - 3 = 2, so the answer is 5."]
    assert [ONE_PARAGRAPH[s.start:s.end] for s in steps] == [s.text for s in steps]


def test_a_reply_in_prose_or_a_code_fence_is_read():
    reply = "Here are the steps:\n```json\n" + json.dumps(OPENINGS) + "\n```"
    assert len(parse_step_starts(reply, ONE_PARAGRAPH)) == 3


def test_openings_survive_whitespace_and_mangled_latex():
    text = "We need $\\frac{1}{2} + \\frac{1}{4}$.\n\nThen\n$\\frac{3}{4}$ is the sum."
    # "\f" in a JSON string is a form feed: the model meant \frac; spaces and newlines differ too
    reply = '["We need", "Then $\\frac{3}{4}$ is"]'
    steps = parse_step_starts(reply, text)
    assert [s.text for s in steps] == ["We need $\\frac{1}{2} + \\frac{1}{4}$.", "Then\n$\\frac{3}{4}$ is the sum."]


@pytest.mark.parametrize("reply", [
    "I would cut it after the first sentence.",            # no list
    '["First I add them", "But wait',                      # truncated JSON
    "[]", "[1, 2]", '["First", "", "Checking"]',           # empty, not strings, an empty entry
    '["First I add them", "Something else entirely"]',     # not in the trace
    '["Checking: 5 - 3", "First I add them"]',             # out of order
    '["But wait", "But wait"]',                            # the same place twice
    None,                                                  # the request failed
])
def test_replies_that_do_not_map_give_none(reply):
    assert parse_step_starts(reply, ONE_PARAGRAPH) is None


def _analyse(splitter: LLMSplitter, text: str = ONE_PARAGRAPH):
    trace = Trace(model="m", sample_id="s", repeat=0, group="Level 1", problem="What is 2 + 3?", target="5",
                  reasoning=text, correct=1.0)
    return asyncio.run(analyse_trace(trace, TraceTokens(text, encoder=WordEncoder()), split="llm",
                                     markers=list(DEFAULT_MARKERS), equality=PlainEquality(), splitter=splitter))


def test_the_model_steps_decide_the_first_correct_tokens():
    async def ask(prompt: str) -> str:
        assert prompt == split_prompt(ONE_PARAGRAPH)
        return json.dumps(OPENINGS)

    result = _analyse(LLMSplitter(ask))
    assert (result.split, result.step_count, result.first_correct_step) == ("llm", 3, 1)
    assert (result.reasoning_tokens, result.first_correct_tokens) == (37, 23)  # 13 + 10 of 13 + 10 + 14


def test_an_unusable_reply_falls_back_to_paragraphs():
    async def ask(prompt: str) -> str:
        return "no idea"

    result = _analyse(LLMSplitter(ask))
    assert (result.split, result.step_count, result.first_correct_tokens) == (LLM_SPLIT_FALLBACK, 1, 37)


def test_one_request_per_distinct_trace():
    calls: list[str] = []

    async def ask(prompt: str) -> str:
        calls.append(prompt)
        await asyncio.sleep(0.01)
        return json.dumps(OPENINGS)

    async def main():
        splitter = LLMSplitter(ask)
        first = await asyncio.gather(*(splitter.steps(ONE_PARAGRAPH) for _ in range(3)))
        again = await splitter.steps(ONE_PARAGRAPH)
        other = await splitter.steps("Another trace.")
        return first, again, other

    first, again, other = asyncio.run(main())
    assert len(calls) == 2 and first[0] == first[2] == again and other is None
