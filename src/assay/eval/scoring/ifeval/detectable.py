"""Content and format instructions (IFEval groups ``detectable_content`` and ``detectable_format``).

Placeholders are ``[anything]``; bullets are markdown list items starting ``*`` or ``-`` then a space;
highlights are ``*text*`` or ``**text**`` on one line; a title is ``<<text>>`` on one line; JSON may sit in a
markdown code fence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from assay.eval.scoring.ifeval.base import Instruction, count, instruction, text

_PLACEHOLDER = re.compile(r"\[[^\[\]]*\]")
_BULLET = re.compile(r"^[ \t]*[*-][ \t]+\S", flags=re.MULTILINE)
_HIGHLIGHT = re.compile(r"\*\*([^\n*]+)\*\*|\*([^\n*]+)\*")
_TITLE = re.compile(r"<<([^\n]+?)>>")
_FENCE = re.compile(r"^```[\w-]*\s*\n?(.*?)\n?```$", flags=re.DOTALL)
CONSTRAINED_ANSWERS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@instruction("detectable_content:number_placeholders")
@dataclass
class NumberPlaceholders(Instruction):
    """At least {num_placeholders} placeholders in square brackets, such as [address]."""

    num_placeholders: Any

    def __post_init__(self) -> None:
        self.num_placeholders = count(self.num_placeholders, "num_placeholders")

    def check(self, response: str) -> bool:
        return len(_PLACEHOLDER.findall(response)) >= self.num_placeholders


@instruction("detectable_content:postscript")
@dataclass
class Postscript(Instruction):
    """A postscript starting with {postscript_marker} ("P.S.", "P.P.S") at the start of a line.

    Spaces inside the marker ("P. S.") and markdown emphasis before it ("**P.S.**") are tolerated; case is
    ignored.
    """

    postscript_marker: Any

    def __post_init__(self) -> None:
        self.postscript_marker = text(self.postscript_marker, "postscript_marker").strip()

    def check(self, response: str) -> bool:
        letters = [re.escape(char) for char in self.postscript_marker if not char.isspace()]
        marker = r"\s*".join(letters)
        return re.search(rf"^[ \t*_>#]*{marker}", response, flags=re.MULTILINE | re.IGNORECASE) is not None


@instruction("detectable_format:number_bullet_lists")
@dataclass
class NumberBulletLists(Instruction):
    """Exactly {num_bullets} markdown bullet points ("* point" or "- point")."""

    num_bullets: Any

    def __post_init__(self) -> None:
        self.num_bullets = count(self.num_bullets, "num_bullets")

    def check(self, response: str) -> bool:
        return len(_BULLET.findall(response)) == self.num_bullets


@instruction("detectable_format:constrained_response")
@dataclass
class ConstrainedResponse(Instruction):
    """Answer with one of "My answer is yes.", "My answer is no.", "My answer is maybe."."""

    def check(self, response: str) -> bool:
        return any(answer in response for answer in CONSTRAINED_ANSWERS)


@instruction("detectable_format:number_highlighted_sections")
@dataclass
class NumberHighlightedSections(Instruction):
    """At least {num_highlights} sections highlighted with markdown, *like this* (or **like this**)."""

    num_highlights: Any

    def __post_init__(self) -> None:
        self.num_highlights = count(self.num_highlights, "num_highlights")

    def check(self, response: str) -> bool:
        found = [m for m in _HIGHLIGHT.finditer(response) if (m.group(1) or m.group(2)).strip()]
        return len(found) >= self.num_highlights


@instruction("detectable_format:multiple_sections")
@dataclass
class MultipleSections(Instruction):
    """{num_sections} sections, each starting with "{section_spliter} N" (at least that many markers)."""

    section_spliter: Any
    num_sections: Any

    def __post_init__(self) -> None:
        self.section_spliter = text(self.section_spliter, "section_spliter").strip()
        self.num_sections = count(self.num_sections, "num_sections")

    def check(self, response: str) -> bool:
        markers = re.findall(rf"(?<!\w){re.escape(self.section_spliter)}\s*\d+", response)
        return len(markers) >= self.num_sections


@instruction("detectable_format:json_format")
@dataclass
class JsonFormat(Instruction):
    """The entire output is JSON (a markdown code fence around it is allowed)."""

    def check(self, response: str) -> bool:
        body = response.strip()
        fenced = _FENCE.match(body)
        if fenced:
            body = fenced.group(1).strip()
        try:
            json.loads(body)
        except ValueError:
            return False
        return True


@instruction("detectable_format:title")
@dataclass
class Title(Instruction):
    """A title in double angular brackets, such as <<poem of joy>>."""

    def check(self, response: str) -> bool:
        return any(m.group(1).strip() for m in _TITLE.finditer(response))
