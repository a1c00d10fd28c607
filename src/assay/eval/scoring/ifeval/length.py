"""Length instructions (IFEval group ``length_constraints``): sentences, words and paragraphs.

Two paragraph conventions, as the prompts state them: ``number_paragraphs`` separates paragraphs with the
markdown divider ``***``; ``nth_paragraph_first_word`` with a blank line ("two new lines"). Sentences are
NLTK 3.8.1 punkt's under both rules (:func:`~assay.eval.scoring.ifeval.text.split_sentences`).

Official rules: an empty piece between dividers fails ``number_paragraphs`` unless it is the very first or last
piece; ``nth_paragraph_first_word`` splits on exactly ``\\n\\n``, counts the non-empty pieces, and takes the
first word up to ``. , ? ! ' "`` only (``Summary:`` is not ``summary``, ``**Then**`` is not ``then``). assay
rules: any blank line separates, empty edges of any length are dropped, and the first word is the first run
of letters or digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assay.eval.scoring.ifeval.base import Instruction, compare, count, instruction, relation, text
from assay.eval.scoring.ifeval.text import count_sentences, count_words, split_paragraphs

_DIVIDER = re.compile(r"\s?\*\*\*\s?")
_BLANK_LINE = re.compile(r"\n\s*\n")


@instruction("length_constraints:number_sentences")
@dataclass
class NumberSentences(Instruction):
    """Answer with {relation} {num_sentences} sentences."""

    num_sentences: Any
    relation: Any

    def __post_init__(self) -> None:
        self.num_sentences = count(self.num_sentences, "num_sentences")
        self.relation = relation(self.relation, "relation")

    def check(self, response: str) -> bool:
        return compare(count_sentences(response), self.relation, self.num_sentences)


@instruction("length_constraints:number_words")
@dataclass
class NumberWords(Instruction):
    """Answer with {relation} {num_words} words."""

    num_words: Any
    relation: Any

    def __post_init__(self) -> None:
        self.num_words = count(self.num_words, "num_words")
        self.relation = relation(self.relation, "relation")

    def check(self, response: str) -> bool:
        return compare(count_words(response), self.relation, self.num_words)


@instruction("length_constraints:number_paragraphs", rules="assay")
@dataclass
class NumberParagraphs(Instruction):
    """Exactly {num_paragraphs} paragraphs, separated by the markdown divider ``***``."""

    num_paragraphs: Any

    def __post_init__(self) -> None:
        self.num_paragraphs = count(self.num_paragraphs, "num_paragraphs", minimum=1)

    def check(self, response: str) -> bool:
        paragraphs = split_paragraphs(response, _DIVIDER)
        return paragraphs is not None and len(paragraphs) == self.num_paragraphs


@instruction("length_constraints:number_paragraphs")
@dataclass
class OfficialNumberParagraphs(NumberParagraphs):
    """Exactly {num_paragraphs} paragraphs around ``***`` dividers; only the first and last piece may be empty."""

    def check(self, response: str) -> bool:
        pieces = _DIVIDER.split(response)
        inner = pieces[1:-1]
        if any(not piece.strip() for piece in inner):
            return False
        edges = pieces[:1] + pieces[1:][-1:]
        return len(pieces) - sum(not piece.strip() for piece in edges) == self.num_paragraphs


@instruction("length_constraints:nth_paragraph_first_word", rules="assay")
@dataclass
class NthParagraphFirstWord(Instruction):
    """Exactly {num_paragraphs} paragraphs separated by blank lines; paragraph {nth_paragraph} (from 1)
    starts with the word {first_word} (case and surrounding punctuation or markdown ignored)."""

    num_paragraphs: Any
    nth_paragraph: Any
    first_word: Any

    def __post_init__(self) -> None:
        self.num_paragraphs = count(self.num_paragraphs, "num_paragraphs", minimum=1)
        self.nth_paragraph = count(self.nth_paragraph, "nth_paragraph", minimum=1)
        self.first_word = text(self.first_word, "first_word").strip().lower()

    def check(self, response: str) -> bool:
        paragraphs = split_paragraphs(response, _BLANK_LINE)
        if paragraphs is None or len(paragraphs) != self.num_paragraphs or self.nth_paragraph > len(paragraphs):
            return False
        first = re.match(r"[^\w]*(\w+)", paragraphs[self.nth_paragraph - 1])
        return first is not None and first.group(1).lower() == self.first_word


_FIRST_WORD_STOPS = frozenset(".,?!'\"")


@instruction("length_constraints:nth_paragraph_first_word")
@dataclass
class OfficialNthParagraphFirstWord(NthParagraphFirstWord):
    """{num_paragraphs} non-empty pieces between ``\\n\\n``; piece {nth_paragraph} (counted among all pieces,
    empty ones included) starts with {first_word}: its first whitespace-separated word, leading quotes removed,
    up to the first ``. , ? ! ' "``."""

    def check(self, response: str) -> bool:
        pieces = response.split("\n\n")
        non_empty = sum(bool(piece.strip()) for piece in pieces)
        if self.nth_paragraph > non_empty or not pieces[self.nth_paragraph - 1].strip():
            return False
        word = pieces[self.nth_paragraph - 1].split()[0].lstrip("'").lstrip('"')
        stop = next((i for i, char in enumerate(word) if char in _FIRST_WORD_STOPS), len(word))
        return non_empty == self.num_paragraphs and word[:stop].lower() == self.first_word
