"""What the simulated model says: filler or replayed text, optional reasoning, and how tokens are counted.

Token counting is a deterministic approximation, used for prompts, answers and usage alike: a token is a
run of word characters or one other non-space character (regex ``\\w+|[^\\w\\s]``), with the whitespace
before it attached. Replayed text is cut into exactly those pieces, so one token is one stream chunk and
the usage the server reports is the number of chunks it sent. Filler words are one token each.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Literal

from assay.sim.config import SimConfig, parse_length_spec
from assay.sim.replay import ReplayBook, ReplayEntry, ReplayToolCall

ReasoningMode = Literal["none", "field", "inline"]

# What "max" stands for, and the cap on answers, when a request gives no max_tokens.
DEFAULT_MAX_TOKENS = 4096

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PIECE = re.compile(r"\s*(?:\w+|[^\w\s])")

# Inline reasoning is wrapped like Qwen3 and DeepSeek-R1 write it; each tag is one (special) token.
THINK_OPEN = "<think>\n"
THINK_CLOSE = "\n</think>\n\n"

_ANSWER_WORDS = (
    "The quick brown fox jumps over the lazy dog while a small cat naps in the warm sun and "
    "birds sing songs of spring across green hills near a quiet river"
).split()
_REASONING_WORDS = (
    "Okay let me think about this step by step first I should check what is asked then work "
    "it out carefully and verify the result before I answer"
).split()


def count_tokens(text: str) -> int:
    """The approximate token count of ``text`` (see the module docstring)."""
    return len(_TOKEN.findall(text))


def split_tokens(text: str) -> list[str]:
    """Cut ``text`` into tokens that join back to it exactly, one per counted token.

    Whitespace goes with the token after it; trailing whitespace goes with the last token. Text of only
    whitespace is one token, so nothing a replay file says is lost.
    """
    pieces = _PIECE.findall(text)
    if not pieces:
        return [text] if text else []
    tail = len(text) - sum(map(len, pieces))
    if tail:
        pieces[-1] += text[-tail:]
    return pieces


# Filler tokens carry a leading space after the first one, as BPE vocabularies do.
_SPACED_ANSWER = [" " + word for word in _ANSWER_WORDS]
_SPACED_REASONING = [" " + word for word in _REASONING_WORDS]


def _filler(first: str, spaced: list[str], count: int) -> list[str]:
    """``count`` filler tokens: ``first``, then the spaced words in turn from the second on."""
    if count <= 0:
        return []
    repeats = count // len(spaced) + 1
    return [first, *(spaced * repeats)[1:count]]


def filler_tokens(count: int) -> list[str]:
    """``count`` tokens of answer filler."""
    return _filler(_ANSWER_WORDS[0], _SPACED_ANSWER, count)


def reasoning_filler_tokens(count: int) -> list[str]:
    """``count`` tokens of reasoning filler."""
    return _filler(_REASONING_WORDS[0], _SPACED_REASONING, count)


def filler_vocabulary() -> list[str]:
    """Every token filler answers and reasoning use, and the think tags (for encoding caches)."""
    return [*_ANSWER_WORDS, *_SPACED_ANSWER, *_REASONING_WORDS, *_SPACED_REASONING, THINK_OPEN, THINK_CLOSE]


@dataclass(frozen=True)
class PlannedCall:
    """One tool call of an answer: its id and name (one token), then its arguments' JSON in tokens."""

    id: str
    name: str
    pieces: list[str]

    @property
    def arguments(self) -> str:
        return "".join(self.pieces)

    def to_openai(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass(frozen=True)
class Answer:
    """One generated choice: every token in order, reasoning first, then any tool calls.

    The first ``reasoning_count`` tokens are reasoning. When ``reasoning_field`` is true they go out as
    ``reasoning_content``; otherwise they are inline in the content, ``<think>`` tags included (and
    counted, one token each). Each tool call counts one token for its name plus its argument tokens.
    """

    tokens: list[str]
    reasoning_count: int
    reasoning_field: bool
    finish_reason: str
    tool_calls: tuple[PlannedCall, ...] = ()

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens) + sum(1 + len(call.pieces) for call in self.tool_calls)

    @property
    def reasoning_text(self) -> str | None:
        """The ``reasoning_content`` field, or ``None`` when there is none (inline or no reasoning)."""
        if not self.reasoning_field or not self.reasoning_count:
            return None
        return "".join(self.tokens[: self.reasoning_count])

    @property
    def content_text(self) -> str:
        """The ``content`` (chat) or ``text`` (completions) field."""
        start = self.reasoning_count if self.reasoning_field else 0
        return "".join(self.tokens[start:])


def _truncate(reasoning: list[str], answer: list[str], max_tokens: int) -> tuple[list[str], int, bool]:
    """The tokens (reasoning first) cut at ``max_tokens``, how many are reasoning, and whether it hit the cap.

    An answer that reaches ``max_tokens`` hit the cap even if it fits exactly: the model never got to
    emit its end-of-sequence token, so servers report ``length``.
    """
    tokens = reasoning + answer
    hit = len(tokens) >= max_tokens
    tokens = tokens[:max_tokens]
    return tokens, min(len(reasoning), len(tokens)), hit


class AnswerMaker:
    """Draws answers: filler of configured lengths, or replayed text, shaped by the reasoning mode."""

    def __init__(self, config: SimConfig, rng: random.Random, replay: ReplayBook | None = None):
        self._output_len = parse_length_spec(config.output_len)
        self._reasoning_len = parse_length_spec(config.reasoning_len)
        self._rng = rng
        self._replay = replay
        self.strict = config.replay_strict

    def lookup(self, prompt_text: str | None) -> ReplayEntry | None:
        """The replay entry for a prompt, if there is a replay file and an entry matches."""
        if self._replay is None or prompt_text is None:
            return None
        return self._replay.match(prompt_text)

    def filler(
        self, *, max_tokens: int, min_tokens: int, ignore_eos: bool, reasoning: ReasoningMode
    ) -> Answer:
        """A filler answer: lengths drawn from the config, then clamped to the request's limits.

        ``ignore_eos`` makes it exactly ``max_tokens`` long (reasoning included); ``min_tokens`` pads the
        answer part; reasoning counts against ``max_tokens`` as it does on a real server.
        """
        reasoning_count = self._reasoning_len.draw(self._rng, max_tokens) if reasoning != "none" else 0
        thinking = _wrap(reasoning_filler_tokens(reasoning_count), reasoning)
        answer_count = max(1, self._output_len.draw(self._rng, max_tokens))
        if ignore_eos:
            answer_count = max(0, max_tokens - len(thinking))
        elif len(thinking) + answer_count < min_tokens:
            answer_count = min_tokens - len(thinking)
        tokens, in_reasoning, hit = _truncate(thinking, filler_tokens(answer_count), max_tokens)
        return Answer(tokens, in_reasoning, reasoning == "field", "length" if hit else "stop")

    def replayed(self, entry: ReplayEntry, *, max_tokens: int, reasoning: ReasoningMode,
                 calls: list[ReplayToolCall] | None = None) -> Answer:
        """The entry's answer (and reasoning, unless reasoning is off), then ``calls``, cut at ``max_tokens``.

        ``calls`` are the entry's tool calls the request lets through (see ``ToolOffer.admit``). An answer
        that makes calls finishes with ``tool_calls``; one cut short by ``max_tokens`` with ``length``.
        """
        thinking = _wrap(split_tokens(entry.reasoning or ""), reasoning)
        tokens, in_reasoning, hit = _truncate(thinking, split_tokens(entry.response or ""), max_tokens)
        planned: list[PlannedCall] = []
        budget = max_tokens - len(tokens)
        for index, call in enumerate(calls or ()):
            if hit:
                break
            pieces = split_tokens(call.arguments_text())
            taken = pieces[: max(0, budget - 1)]
            planned.append(PlannedCall(call.call_id(index), call.name, taken))
            budget -= 1 + len(taken)
            hit = budget <= 0
        if hit:
            finish = "length"
        elif planned:
            finish = "tool_calls"
        else:
            finish = entry.finish_reason or "stop"
        return Answer(tokens, in_reasoning, reasoning == "field", finish, tuple(planned))


def _wrap(reasoning_tokens: list[str], mode: ReasoningMode) -> list[str]:
    """Reasoning tokens as they are sent: dropped (none), as is (field), or inside think tags (inline)."""
    if mode == "none" or not reasoning_tokens:
        return []
    if mode == "inline":
        return [THINK_OPEN, *reasoning_tokens, THINK_CLOSE]
    return reasoning_tokens
