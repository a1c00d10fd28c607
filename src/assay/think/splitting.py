"""Reasoning traces: where the reasoning is, how it is cut into steps, and how many thoughts it holds.

Steps follow the two rule-based strategies of EvalScope's thinking-efficiency guide: paragraphs (blank
lines) or the "switch" markers with which a model opens a new line of thought ("alternatively", "but
wait", ...). A step keeps its character span in the reasoning, so token counts up to any step are counts of
a prefix of the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from assay.types import Completion

THINK_END = "</think>"


@dataclass(frozen=True)
class Step:
    """One step of a trace: ``reasoning[start:end]``."""

    index: int
    start: int
    end: int
    text: str


def reasoning_of(completion: Completion) -> str:
    """The reasoning of a completion: ``reasoning_content`` when the server sent it apart, else the text
    before the last ``</think>`` (empty when there is none)."""
    if completion.reasoning:
        return completion.reasoning
    text = completion.text or ""
    cut = text.rfind(THINK_END)
    if cut < 0:
        return ""
    return text[:cut].replace("<think>", "", 1)


@lru_cache(maxsize=32)
def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def marker_positions(text: str, markers: Sequence[str]) -> list[int]:
    """Where each marker occurs in ``text`` (case-insensitive, whole words, no overlaps)."""
    return [m.start() for m in _marker_pattern(tuple(markers)).finditer(text)]


def count_thoughts(text: str, markers: Sequence[str]) -> int:
    """Sub-chains of thought: the first chain plus one per marker that opens another (0 for no reasoning).

    EvalScope's ``thought_num`` counts the markers alone; ours is that count plus one.
    """
    if not text.strip():
        return 0
    return 1 + len(marker_positions(text, markers))


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def split_steps(text: str, strategy: str, markers: Sequence[str]) -> list[Step]:
    """Cut ``text`` into non-empty steps: ``paragraphs`` at blank lines, ``markers`` before each marker.

    Whitespace between steps belongs to no step; each step's span is stripped of surrounding whitespace.
    """
    if strategy == "paragraphs":
        cuts = [(m.start(), m.end()) for m in _BLANK_LINE.finditer(text)]
    elif strategy == "markers":
        cuts = [(p, p) for p in marker_positions(text, markers)]
    else:
        raise ValueError(f"unknown split strategy {strategy!r}")
    spans, start = [], 0
    for cut_start, cut_end in cuts:
        spans.append((start, cut_start))
        start = cut_end
    spans.append((start, len(text)))
    return _steps_of(text, spans)


def steps_at(text: str, starts: Sequence[int]) -> list[Step]:
    """Cut ``text`` into steps beginning at ``starts`` (increasing); the first step also takes whatever
    precedes the first start, so every character of the reasoning belongs to a step."""
    bounds = [0, *starts[1:], len(text)]
    return _steps_of(text, list(zip(bounds[:-1], bounds[1:])))


def _steps_of(text: str, spans: Sequence[tuple[int, int]]) -> list[Step]:
    steps: list[Step] = []
    for begin, end in spans:
        piece = text[begin:end]
        if not piece.strip():
            continue
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        begin, end = begin + lead, end - trail
        steps.append(Step(len(steps), begin, end, text[begin:end]))
    return steps
