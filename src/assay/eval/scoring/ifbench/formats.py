"""IFBench's format constraints (``format:*``): nesting, lines, bullets, templates, casing, whitespace.

Not graded: ``format:emoji`` (it asks the emoji package's table which characters are emoji).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from assay.eval.scoring.ifbench.base import PUNCTUATION, Verifier, phrase, verifier, without_punctuation
from assay.eval.scoring.ifeval import split_sentences, treebank_words

_PAIRS = {")": "(", "]": "[", "}": "{"}
_LETTERED_OPTIONS = re.compile(r"\W*[aA]\W*[bB]\W*[cC]\W*")


@verifier("format:parentheses")
@dataclass
class NestedBrackets(Verifier):
    """Brackets of any of the three kinds nested at least 5 deep and closed: the check passes at the first
    correct close once 5 levels were open; a mismatched close forgets everything open so far."""

    def check(self, response: str) -> bool:
        open_, deepest = [], 0
        for char in response:
            if char in "([{":
                open_.append(char)
                deepest = max(deepest, len(open_))
            elif char in _PAIRS:
                if open_ and open_[-1] == _PAIRS[char]:
                    open_.pop()
                    if deepest >= 5:
                        return True
                else:
                    open_, deepest = [], 0
        return False


@verifier("format:quotes")
@dataclass
class NestedQuotes(Verifier):
    """Quotes within quotes at least 3 deep: a quote mark equal to the innermost open one closes it, any
    other straight quote (" or ') opens a level; passes once a close leaves 3 levels below the deepest."""

    def check(self, response: str) -> bool:
        open_: list[str] = []
        deepest = 0
        for char in response:
            if open_ and char == open_[-1]:
                open_.pop()
                if deepest - len(open_) >= 3:
                    return True
            elif char in "\"'":
                open_.append(char)
                deepest = max(deepest, len(open_))
        return False


@verifier("format:options")
@dataclass
class Options(Verifier):
    """Answer with exactly one of {options} ("yes/no/maybe", "I know or I don't know", "a), b), c), d)"...).

    The options are split on "/" if present, else on "or" (anywhere, even inside a word), else on ",". Lettered
    options must match exactly as written; others ignoring case and surrounding punctuation."""

    options: Any

    def __post_init__(self) -> None:
        self.options = phrase(self.options, "options")

    def check(self, response: str) -> bool:
        separator = "/" if "/" in self.options else "or" if "or" in self.options else ","
        choices = [option.strip() for option in self.options.split(separator)]
        if _LETTERED_OPTIONS.match(self.options):
            return response in choices
        answer = response.strip(PUNCTUATION + " ").lower()
        return any(choice.strip(PUNCTUATION + " ").lower() == answer for choice in choices)


@verifier("format:newline")
@dataclass
class WordPerLine(Verifier):
    """Each word on a line of its own: after removing punctuation, the non-empty lines are as many as the
    words (a line of spaces counts as a line)."""

    def check(self, response: str) -> bool:
        text = without_punctuation(response).strip()
        return len([line for line in text.split("\n") if line != ""]) == len(text.split())


@verifier("ratio:sentence_words")
@dataclass
class EqualLengthSentences(Verifier):
    """Exactly three sentences of the same number of characters."""

    def check(self, response: str) -> bool:
        sentences = split_sentences(response)
        return len(sentences) == 3 and len({len(sentence.strip()) for sentence in sentences}) == 1


def _official_blank_line_removal(lines: list[str]) -> list[str]:
    """The official check removes blank lines while iterating over the same list, so a blank line right
    after a removed one is skipped and stays; kept so that such answers are decided the same way."""
    lines, index = list(lines), 0
    while index < len(lines):
        if not lines[index].strip():
            lines.remove(lines[index])  # ``list.remove`` drops the first equal line, as the official loop does
        index += 1
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@verifier("format:line_indent")
@dataclass
class IndentStairs(Verifier):
    """Every line indented by more spaces than the line before."""

    def check(self, response: str) -> bool:
        lines = _official_blank_line_removal(response.split("\n"))
        return all(_indent(b) > _indent(a) for a, b in zip(lines, lines[1:]))


@verifier("format:quote_unquote")
@dataclass
class QuoteExplanation(Verifier):
    """Every quoted phrase followed by an unquoted explanation: with whitespace removed, no two straight double
    quotes touch, and the answer does not end in one (digits and other punctuation after it ignored).
    Curly quotes are not read as quotes (the official code's replacement of them is a no-op)."""

    def check(self, response: str) -> bool:
        text = "".join(response.replace("'\"'", "").split())
        if '""' in text:
            return False
        rest = text.strip(string.digits + PUNCTUATION.replace('"', ""))
        return not (rest and rest[-1] == '"')


@verifier("format:list")
@dataclass
class SpecialBullets(Verifier):
    """A list whose bullets are {sep}: the separator appears at least twice (anywhere)."""

    sep: Any

    def __post_init__(self) -> None:
        self.sep = phrase(self.sep, "sep")

    def check(self, response: str) -> bool:
        return response.count(self.sep) >= 2  # non-overlapping, as the official ``re.findall`` counts


@verifier("format:thesis")
@dataclass
class ItalicThesis(Verifier):
    """An HTML-italic thesis (<i> or <em>) with text after it. The official offsets assume the 3- and 4-letter
    <i> tags, so an <em> thesis is read as starting 3 characters in and the text as starting 4 after ``</``."""

    def check(self, response: str) -> bool:
        start = response.find("<i>")
        if start == -1:
            start = response.find("<em>")
            if start == -1:
                return False
        text = response[start:]
        end = text.find("</i>")
        if end == -1:
            end = text.find("</em>")
            if end == -1:
                return False
        return text[3:end].strip() != "" and text[end + 4:].strip() != ""


@verifier("format:sub-bullets")
@dataclass
class SubBullets(Verifier):
    """Each "*" bullet has a "-" sub-bullet: every piece of the answer after a "*" holds a "-" (an answer with
    no "*" passes, as officially)."""

    def check(self, response: str) -> bool:
        return all("-" in piece for piece in response.split("*")[1:])


@verifier("format:no_bullets_bullets")
@dataclass
class SentencesThenBullets(Verifier):
    """At least two sentences, then at least two "*" bullet lines and nothing after them. Officially the
    prose counter is the last line's sentence list, so a blank line inside the prose ends it."""

    def check(self, response: str) -> bool:
        prose: Any = True
        sentences = bullets = 0
        for line in response.split("\n"):
            if line.strip().startswith("*"):
                prose = False
                if sentences < 2:
                    return False
                bullets += 1
            elif prose:
                prose = split_sentences(line.strip())
                sentences += len(prose)
            else:
                return False
        return bullets >= 2


@verifier("format:title_case")
@dataclass
class TitleCase(Verifier):
    """Every word capitalised (NLTK word tokens): a token starting with a letter fails if it starts lowercase
    and the rest is all lower or all upper case; one-letter tokens must be capitals; mixed forms pass."""

    def check(self, response: str) -> bool:
        for token in treebank_words(response):
            if not token[0].isalpha():
                continue
            if len(token) == 1:
                if token.islower():
                    return False
                continue
            if token[0].isupper() and token[1:].islower():
                continue
            if token[0].islower() and (token[1:].isupper() or token[1:].islower()):
                return False
        return True


@verifier("format:output_template")
@dataclass
class OutputTemplate(Verifier):
    """The template's three labels "My Answer:", "My Conclusion:" and "Future Outlook:" all appear."""

    def check(self, response: str) -> bool:
        return all(label in response for label in ("My Answer:", "My Conclusion:", "Future Outlook:"))


@verifier("format:no_whitespace")
@dataclass
class NoWhitespace(Verifier):
    """No whitespace character at all."""

    def check(self, response: str) -> bool:
        return not any(char.isspace() for char in response)
