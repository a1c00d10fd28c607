"""Content and format instructions (IFEval groups ``detectable_content`` and ``detectable_format``).

Official rules (Google's checker): a placeholder is ``[...]`` on one line; a postscript marker may stand
anywhere in a line; a bullet is any line starting with ``-`` (``---`` included) or with one ``*`` (an
``*italic*`` line included); highlights count ``*text*`` and ``**text**`` matches separately
(``***Important***`` is two); a section marker is the splitter, at most one space, then digits
(``Section  1`` with two spaces is none); JSON may be fenced only as ```` ``` ````, ```` ```json ````,
```` ```Json ```` or ```` ```JSON ````.

assay rules: placeholders may span lines but not nest; a postscript starts a line (markdown emphasis allowed
before it); bullets are ``*`` or ``-`` then a space and text; each highlight counts once; any spacing before the
section number; any fence language.
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

_OFFICIAL_PLACEHOLDER = re.compile(r"\[.*?\]")
_OFFICIAL_STAR_BULLET = re.compile(r"^\s*\*[^\*].*$", flags=re.MULTILINE)
_OFFICIAL_DASH_BULLET = re.compile(r"^\s*-.*$", flags=re.MULTILINE)
_OFFICIAL_HIGHLIGHT = re.compile(r"\*[^\n\*]*\*")
_OFFICIAL_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n\*]*\*\*")
_OFFICIAL_TITLE = re.compile(r"<<[^\n]+>>")
_OFFICIAL_FENCE_OPENINGS = ("```json", "```Json", "```JSON", "```")
# The official postscript patterns; any other marker is used as a pattern itself, lowercased.
_OFFICIAL_POSTSCRIPTS = {"P.P.S": r"\s*p\.\s?p\.\s?s.*$", "P.S.": r"\s*p\.\s?s\..*$"}


@instruction("detectable_content:number_placeholders", rules="assay")
@dataclass
class NumberPlaceholders(Instruction):
    """At least {num_placeholders} placeholders in square brackets, such as [address]."""

    num_placeholders: Any

    def __post_init__(self) -> None:
        self.num_placeholders = count(self.num_placeholders, "num_placeholders")

    def check(self, response: str) -> bool:
        return len(_PLACEHOLDER.findall(response)) >= self.num_placeholders


@instruction("detectable_content:postscript", rules="assay")
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


@instruction("detectable_format:number_bullet_lists", rules="assay")
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


@instruction("detectable_format:number_highlighted_sections", rules="assay")
@dataclass
class NumberHighlightedSections(Instruction):
    """At least {num_highlights} sections highlighted with markdown, *like this* (or **like this**)."""

    num_highlights: Any

    def __post_init__(self) -> None:
        self.num_highlights = count(self.num_highlights, "num_highlights")

    def check(self, response: str) -> bool:
        found = [m for m in _HIGHLIGHT.finditer(response) if (m.group(1) or m.group(2)).strip()]
        return len(found) >= self.num_highlights


@instruction("detectable_format:multiple_sections", rules="assay")
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


@instruction("detectable_format:json_format", rules="assay")
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


@instruction("detectable_format:title", rules="assay")
@dataclass
class Title(Instruction):
    """A title in double angular brackets, such as <<poem of joy>>."""

    def check(self, response: str) -> bool:
        return any(m.group(1).strip() for m in _TITLE.finditer(response))


@instruction("detectable_content:number_placeholders")
@dataclass
class OfficialNumberPlaceholders(NumberPlaceholders):
    """At least {num_placeholders} ``[...]`` on one line each (the shortest match from each ``[``)."""

    def check(self, response: str) -> bool:
        return len(_OFFICIAL_PLACEHOLDER.findall(response)) >= self.num_placeholders


@instruction("detectable_content:postscript")
@dataclass
class OfficialPostscript(Postscript):
    """{postscript_marker} anywhere in a line, case ignored ("P. S." with one space allowed)."""

    def check(self, response: str) -> bool:
        pattern = _OFFICIAL_POSTSCRIPTS.get(self.postscript_marker, r"\s*" + self.postscript_marker.lower() + r".*$")
        try:
            return re.search(pattern, response.lower(), flags=re.MULTILINE) is not None
        except re.error:  # the official code would crash; read such a marker literally
            return re.escape(self.postscript_marker.lower()) in response.lower()


@instruction("detectable_format:number_bullet_lists")
@dataclass
class OfficialNumberBulletLists(NumberBulletLists):
    """Exactly {num_bullets} lines starting (after spaces) with ``-`` or with one ``*``."""

    def check(self, response: str) -> bool:
        found = len(_OFFICIAL_STAR_BULLET.findall(response)) + len(_OFFICIAL_DASH_BULLET.findall(response))
        return found == self.num_bullets


@instruction("detectable_format:number_highlighted_sections")
@dataclass
class OfficialNumberHighlightedSections(NumberHighlightedSections):
    """At least {num_highlights}: non-empty ``*...*`` matches plus non-empty ``**...**`` matches."""

    def check(self, response: str) -> bool:
        single = sum(bool(m.strip("*").strip()) for m in _OFFICIAL_HIGHLIGHT.findall(response))
        double = sum(bool(m[2:-2].strip()) for m in _OFFICIAL_DOUBLE_HIGHLIGHT.findall(response))
        return single + double >= self.num_highlights


@instruction("detectable_format:multiple_sections")
@dataclass
class OfficialMultipleSections(MultipleSections):
    """At least {num_sections} of "{section_spliter}" (a pattern), at most one space, digits."""

    def check(self, response: str) -> bool:
        try:
            marker = re.compile(r"\s?" + self.section_spliter + r"\s?\d+\s?")
        except re.error:  # the official code would crash; read such a splitter literally
            marker = re.compile(r"\s?" + re.escape(self.section_spliter) + r"\s?\d+\s?")
        return len(marker.split(response)) - 1 >= self.num_sections


@instruction("detectable_format:json_format")
@dataclass
class OfficialJsonFormat(JsonFormat):
    """The stripped output, less one leading ```` ```json ```` (or ```` ``` ````) and one trailing ```` ``` ````,
    is JSON."""

    def check(self, response: str) -> bool:
        body = response.strip()
        for opening in _OFFICIAL_FENCE_OPENINGS:  # the official code removes these prefixes one after another
            body = body.removeprefix(opening)
        try:
            json.loads(body.removesuffix("```").strip())
        except ValueError:
            return False
        return True


@instruction("detectable_format:title")
@dataclass
class OfficialTitle(Title):
    """A ``<<...>>`` on one line (greedy) with something other than brackets and spaces inside."""

    def check(self, response: str) -> bool:
        return any(title.lstrip("<").rstrip(">").strip() for title in _OFFICIAL_TITLE.findall(response))
