"""Steps cut by an LLM (``--split llm``): the judge model names where each step of a trace begins.

The model is asked for a JSON list holding the first words of every step, copied from the trace. The reply
is accepted only when every entry maps back onto the trace, in order: each entry's words are found after the
previous entry's start (whitespace, punctuation and backslashes between words are ignored, since LaTeX such
as ``\\frac`` rarely survives a trip through a JSON string intact). A step begins at the start of the
whitespace-delimited word its entry matched in; the first step also takes anything before it. A reply that
cannot be read or does not map gives ``None``, and the caller falls back to paragraphs for that trace.

One request per distinct trace text in a run: identical traces share the answer (and a failed one).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Awaitable, Callable

from assay.think.splitting import Step, steps_at

SPLIT_TEMPLATE = (
    "Below is a model's reasoning about a problem. Cut it into steps: a step is one coherent move of the "
    "reasoning (setting up, one computation or line of argument, a check, a switch to another approach).\n"
    "Reply with a JSON list of strings and nothing else: for every step, in order, its first five to eight "
    "words copied exactly from the reasoning. The first entry is the start of the reasoning.\n"
    'Example reply: ["Let me start by computing", "But wait, that is not", "So the answer is"]\n\n'
    "<reasoning>\n{reasoning}\n</reasoning>"
)

_WORD = re.compile(r"\w+")
_LIST = re.compile(r"\[.*\]", re.DOTALL)
_LATEX_ESCAPE = re.compile(r"(?<!\\)\\(?=[A-Za-z])")

Ask = Callable[[str], Awaitable[str | None]]


def split_prompt(reasoning: str) -> str:
    """The question that asks for the step boundaries of one trace."""
    return SPLIT_TEMPLATE.format(reasoning=reasoning)


def _step_starts(entries: list[str], text: str) -> list[int] | None:
    starts: list[int] = []
    position = 0
    for entry in entries:
        words = _WORD.findall(entry)
        if not words:
            return None
        match = re.search(r"\W*".join(re.escape(w) for w in words), text[position:])
        if match is None:
            return None
        start = position + match.start()
        while start > 0 and not text[start - 1].isspace():  # back to the start of the word ("\frac", "(2")
            start -= 1
        if starts and start <= starts[-1]:
            return None
        starts.append(start)
        position = position + match.start() + 1
    return starts


def _entries(listing: str) -> list[str] | None:
    try:
        entries = json.loads(listing)
    except ValueError:
        return None
    if not isinstance(entries, list) or not entries or not all(isinstance(e, str) for e in entries):
        return None
    return entries


def parse_step_starts(reply: str | None, text: str) -> list[Step] | None:
    """The steps a reply names, or ``None`` when it is no JSON list of strings or does not map in order.

    The list is read as JSON, and when that does not map, once more with every backslash before a letter
    taken literally (a model copying ``\\frac`` into JSON often writes ``\\f``, a form feed).
    """
    found = _LIST.search(reply or "")
    if found is None:
        return None
    listing = found.group(0)
    for attempt in dict.fromkeys((listing, _LATEX_ESCAPE.sub(r"\\\\", listing))):
        entries = _entries(attempt)
        starts = _step_starts(entries, text) if entries is not None else None
        if starts is not None:
            return steps_at(text, starts)
    return None


class LLMSplitter:
    """Cuts traces into steps by asking a model (``ask``: prompt → reply text, ``None`` when it failed)."""

    def __init__(self, ask: Ask) -> None:
        self._ask = ask
        self._answers: dict[str, asyncio.Task[list[Step] | None]] = {}

    async def _split(self, text: str) -> list[Step] | None:
        return parse_step_starts(await self._ask(split_prompt(text)), text)

    async def steps(self, text: str) -> list[Step] | None:
        """The model's steps of ``text``, or ``None`` (unreadable or unmappable reply, or a failed request)."""
        task = self._answers.get(text)
        if task is None:
            task = self._answers[text] = asyncio.ensure_future(self._split(text))
        return await task
