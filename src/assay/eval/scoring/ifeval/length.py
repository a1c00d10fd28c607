"""Length instructions (IFEval group ``length_constraints``): sentences, words and paragraphs.

Two paragraph conventions, as the prompts state them: ``number_paragraphs`` separates paragraphs with the
markdown divider ``***``; ``nth_paragraph_first_word`` with a blank line ("two new lines").
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


@instruction("length_constraints:number_paragraphs")
@dataclass
class NumberParagraphs(Instruction):
    """Exactly {num_paragraphs} paragraphs, separated by the markdown divider ``***``."""

    num_paragraphs: Any

    def __post_init__(self) -> None:
        self.num_paragraphs = count(self.num_paragraphs, "num_paragraphs", minimum=1)

    def check(self, response: str) -> bool:
        paragraphs = split_paragraphs(response, _DIVIDER)
        return paragraphs is not None and len(paragraphs) == self.num_paragraphs


@instruction("length_constraints:nth_paragraph_first_word")
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
