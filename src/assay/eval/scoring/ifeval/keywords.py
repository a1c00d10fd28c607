"""Keyword instructions (IFEval group ``keywords``): words that must, must not, or must so often appear.

Matching ignores case. A required keyword or a counted keyword matches anywhere ("cat" is found in "cats"),
while a forbidden word matches only as a whole word (forbidding "cat" does not forbid "category").

Official rules: the keyword is a regular expression (``c.t`` also finds "cut") and a forbidden word sits
between two ``\\b`` (so ``#ad`` after a space is never found: no word boundary precedes ``#``); a keyword that
is not a valid pattern, where the official code would crash, is matched literally. assay rules: keywords are
literal text and a forbidden word is found wherever no letter or digit touches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assay.eval.scoring.ifeval.base import Instruction, compare, count, instruction, relation, text, words


def _occurrences(keyword: str, response: str) -> int:
    return len(re.findall(re.escape(keyword), response, flags=re.IGNORECASE))


def _pattern(keyword: str, around: str = "") -> re.Pattern[str]:
    """``keyword`` as the official code reads it, a pattern (``around`` on both sides); literal if invalid."""
    try:
        return re.compile(around + keyword + around, flags=re.IGNORECASE)
    except re.error:
        return re.compile(around + re.escape(keyword) + around, flags=re.IGNORECASE)


@instruction("keywords:existence", rules="assay")
@dataclass
class KeywordsExist(Instruction):
    """Include keywords {keywords} in the response."""

    keywords: Any

    def __post_init__(self) -> None:
        self.keywords = words(self.keywords, "keywords")

    def check(self, response: str) -> bool:
        return all(_occurrences(keyword, response) for keyword in self.keywords)


@instruction("keywords:existence")
@dataclass
class OfficialKeywordsExist(KeywordsExist):
    """Include keywords {keywords} (each a pattern) in the response."""

    def check(self, response: str) -> bool:
        return all(_pattern(keyword).search(response) for keyword in self.keywords)


@instruction("keywords:frequency", rules="assay")
@dataclass
class KeywordFrequency(Instruction):
    """The word {keyword} should appear {relation} {frequency} times."""

    keyword: Any
    frequency: Any
    relation: Any

    def __post_init__(self) -> None:
        self.keyword = text(self.keyword, "keyword")
        self.frequency = count(self.frequency, "frequency")
        self.relation = relation(self.relation, "relation")

    def check(self, response: str) -> bool:
        return compare(_occurrences(self.keyword, response), self.relation, self.frequency)


@instruction("keywords:frequency")
@dataclass
class OfficialKeywordFrequency(KeywordFrequency):
    """The pattern {keyword} (stripped) should match {relation} {frequency} times."""

    def check(self, response: str) -> bool:
        found = len(_pattern(self.keyword.strip()).findall(response))
        return compare(found, self.relation, self.frequency)


@instruction("keywords:forbidden_words", rules="assay")
@dataclass
class ForbiddenWords(Instruction):
    """Do not include the words {forbidden_words} in the response."""

    forbidden_words: Any

    def __post_init__(self) -> None:
        self.forbidden_words = words(self.forbidden_words, "forbidden_words")

    def check(self, response: str) -> bool:
        return not any(re.search(rf"(?<!\w){re.escape(word.strip())}(?!\w)", response, flags=re.IGNORECASE)
                       for word in self.forbidden_words)


@instruction("keywords:forbidden_words")
@dataclass
class OfficialForbiddenWords(ForbiddenWords):
    """Do not include the words {forbidden_words}: each, as a pattern, between two ``\\b``."""

    def check(self, response: str) -> bool:
        return not any(_pattern(word, around=r"\b").search(response) for word in self.forbidden_words)


@instruction("keywords:letter_frequency")
@dataclass
class LetterFrequency(Instruction):
    """The letter {letter} should appear {let_relation} {let_frequency} times (either case).

    The same under both rules. Where the letter is not a-z (the dataset has ``#`` and ``!``) the official code
    draws an unseeded random letter instead, so its verdict is a coin toss; assay counts the character given.
    """

    letter: Any
    let_frequency: Any
    let_relation: Any

    def __post_init__(self) -> None:
        if not isinstance(self.letter, str) or len(self.letter) != 1:
            raise ValueError(f"letter must be one character, not {self.letter!r}")
        self.let_frequency = count(self.let_frequency, "let_frequency")
        self.let_relation = relation(self.let_relation, "let_relation")

    def check(self, response: str) -> bool:
        return compare(response.lower().count(self.letter.lower()), self.let_relation, self.let_frequency)
