"""Answer filters, applied in order to a completion's answer text before it is scored.

The reasoning a server returns apart (``reasoning_content``, or inline ``<think>`` split off by the client) is
never scored. These filters handle what is left inside the answer text itself: a ``<think>`` block the server
did not split, or a wrapper around the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class FilteredAnswer:
    """The text to score, and whether the reasoning never ended (then there is no answer to score)."""

    text: str
    unfinished_reasoning: bool = False


def remove_until(text: str, marker: str) -> FilteredAnswer:
    """Keep what follows the last ``marker``. An opened ``<think>`` with no ``marker`` means the model was
    cut off while thinking: the answer is empty, so unfinished reasoning is never graded as an answer."""
    if marker in text:
        return FilteredAnswer(text.rsplit(marker, 1)[1].strip())
    opener = marker.replace("</", "<", 1) if marker.startswith("</") else None
    if opener and opener in text:
        return FilteredAnswer("", unfinished_reasoning=True)
    return FilteredAnswer(text)


def regex_extract(text: str, pattern: str) -> FilteredAnswer:
    """Keep the first group (or the whole match) of the last match of ``pattern``; no match keeps the text."""
    matches = list(re.finditer(pattern, text, flags=re.DOTALL))
    if not matches:
        return FilteredAnswer(text)
    last = matches[-1]
    return FilteredAnswer((last.group(1) if last.groups() else last.group(0)).strip())


FILTERS: dict[str, Callable[[str, str], FilteredAnswer]] = {"remove_until": remove_until, "regex": regex_extract}


def apply_filters(text: str, filters: dict[str, str]) -> FilteredAnswer:
    """Run ``filters`` (name → argument) in order; ``remove_until '</think>'`` always runs first."""
    result = remove_until(text, "</think>")
    for name, argument in filters.items():
        step = FILTERS[name](result.text, argument)
        result = FilteredAnswer(step.text, result.unfinished_reasoning or step.unfinished_reasoning)
    return result
