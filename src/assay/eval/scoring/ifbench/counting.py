"""IFBench's counting and ratio constraints (``count:*``, ``ratio:*``): words, names, numbers, sentence types.

Words are what each official verifier splits on, and they differ on purpose from one to the next: runs of
letters, digits and underscores (``count:word_count_range``), whitespace-separated tokens stripped of ASCII
punctuation (``count:unique_word_count``), NLTK's ``word_tokenize`` (``count:pronouns``, here
:func:`~assay.eval.scoring.ifeval.treebank_words`). Sentences are NLTK's punkt (:func:`split_sentences`).

Not graded: ``ratio:stop_words`` (it counts NLTK's English stop-word corpus, which assay does not ship).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assay.eval.scoring.ifbench.base import (
    Verifier,
    phrase,
    strip_punctuation,
    verifier,
    whole,
    without_punctuation,
)
from assay.eval.scoring.ifeval import count_words, split_sentences, treebank_words

CONJUNCTIONS = ("and", "but", "for", "nor", "or", "so", "yet")
# The names the prompt lists; the verifier counts those of them that appear (case-sensitive, whole words).
PERSON_NAMES = (
    "Emma", "Liam", "Sophia", "Jackson", "Olivia", "Noah", "Ava", "Lucas", "Isabella", "Mason", "Mia", "Ethan",
    "Charlotte", "Alexander", "Amelia", "Benjamin", "Harper", "Leo", "Zoe", "Daniel", "Chloe", "Samuel", "Lily",
    "Matthew", "Grace", "Owen", "Abigail", "Gabriel", "Ella", "Jacob", "Scarlett", "Nathan", "Victoria", "Elijah",
    "Layla", "Nicholas", "Audrey", "David", "Hannah", "Christopher", "Penelope", "Thomas", "Nora", "Andrew", "Aria",
    "Joseph", "Claire", "Ryan", "Stella", "Jonathan",
)
# Personal, possessive, reflexive, demonstrative, interrogative, relative and indefinite pronouns.
PRONOUNS = frozenset("""
    i me we us you he him she her it they them my mine our ours your yours his hers its their theirs
    myself ourselves yourself yourselves himself herself itself themselves this that these those
    who whom whose which what whoever whomever whatever whichever anybody anyone anything everybody everyone
    everything nobody nothing somebody someone something each either neither both all some any none
""".split())
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # hiragana, katakana, CJK ideographs
_DIGITS = re.compile(r"\d+")


@verifier("count:word_count_range")
@dataclass
class WordCountRange(Verifier):
    """The response must contain between {min_words} and {max_words} words (inclusive)."""

    min_words: Any
    max_words: Any

    def __post_init__(self) -> None:
        self.min_words, self.max_words = whole(self.min_words, "min_words"), whole(self.max_words, "max_words")

    def check(self, response: str) -> bool:
        return self.min_words <= count_words(response) <= self.max_words


@verifier("count:unique_word_count")
@dataclass
class UniqueWordCount(Verifier):
    """Use at least {N} unique words (lowercased, punctuation stripped from each end)."""

    N: Any

    def __post_init__(self) -> None:
        self.N = whole(self.N, "N")

    def check(self, response: str) -> bool:
        return len({strip_punctuation(word) for word in response.lower().split()}) >= self.N


def _endings(response: str) -> tuple[int, int, int]:
    sentences = split_sentences(response)
    return tuple(sum(1 for s in sentences if s.endswith(mark)) for mark in ".?!")  # type: ignore[return-value]


@verifier("ratio:sentence_type")
@dataclass
class SentenceTypeRatio(Verifier):
    """Maintain a 2:1 ratio of declarative (".") to interrogative ("?") sentences."""

    def check(self, response: str) -> bool:
        declarative, interrogative, _ = _endings(response)
        return declarative == 2 * interrogative


@verifier("ratio:sentence_balance")
@dataclass
class SentenceBalance(Verifier):
    """As many declarative as interrogative as exclamatory sentences."""

    def check(self, response: str) -> bool:
        declarative, interrogative, exclamatory = _endings(response)
        return declarative == interrogative == exclamatory


@verifier("count:conjunctions")
@dataclass
class Conjunctions(Verifier):
    """Use at least {small_n} different coordinating conjunctions.

    Officially the distinct *tokens* are counted ("and", "And" and "and," are three), not the distinct words."""

    small_n: Any

    def __post_init__(self) -> None:
        self.small_n = whole(self.small_n, "small_n")

    def check(self, response: str) -> bool:
        found = {word for word in response.split() if strip_punctuation(word).lower() in CONJUNCTIONS}
        return len(found) >= self.small_n


@verifier("count:person_names")
@dataclass
class PersonNames(Verifier):
    """Mention at least {N} different names from the prompt's list."""

    N: Any

    def __post_init__(self) -> None:
        self.N = whole(self.N, "N")

    def check(self, response: str) -> bool:
        return sum(1 for pattern in _NAME_PATTERNS if pattern.search(response)) >= self.N


_NAME_PATTERNS = tuple(re.compile(rf"\b{re.escape(name)}\b") for name in PERSON_NAMES)  # compiled once


def _trigrams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(len(text) - 2)}


@verifier("ratio:overlap")
@dataclass
class TrigramOverlap(Verifier):
    """Keep a trigram overlap of {percentage}% (±2) with the reference text: the share of the response's
    distinct *character* trigrams that the reference also has (the official check runs ``nltk.ngrams`` over
    the strings themselves)."""

    reference_text: Any
    percentage: Any

    def __post_init__(self) -> None:
        self.reference_text, self.percentage = phrase(self.reference_text, "reference_text"), \
            whole(self.percentage, "percentage")

    def check(self, response: str) -> bool:
        ours = _trigrams(response)
        if not ours:
            return False
        overlap = 100 * len(ours & _trigrams(self.reference_text)) / len(ours)
        return self.percentage - 2 <= overlap <= self.percentage + 2


@verifier("count:numbers")
@dataclass
class Numbers(Verifier):
    """Include exactly {N} numbers (punctuation removed first, so "3.5" and "1,000" are one number each)."""

    N: Any

    def __post_init__(self) -> None:
        self.N = whole(self.N, "N")

    def check(self, response: str) -> bool:
        return len(_DIGITS.findall(without_punctuation(response))) == self.N


@verifier("count:pronouns")
@dataclass
class Pronouns(Verifier):
    """Include at least {N} pronouns (NLTK word tokens of the lowercased response, "/" read as a space)."""

    N: Any

    def __post_init__(self) -> None:
        self.N = whole(self.N, "N")

    def check(self, response: str) -> bool:
        tokens = treebank_words(response.replace("/", " ").lower())
        return sum(1 for token in tokens if token in PRONOUNS) >= self.N


@verifier("count:punctuation")
@dataclass
class PunctuationCover(Verifier):
    """Use . , ! ? ; : at least once each, and the interrobang (?!, !? or ‽); the "?!" itself does not count
    as the "?" and "!" (one occurrence is taken out before the others are looked for)."""

    def check(self, response: str) -> bool:
        if not ("!?" in response or "?!" in response or "‽" in response):
            return False
        rest = response.replace("?!", "", 1)
        if len(rest) == len(response):
            rest = response.replace("!?", "", 1)
        return set(".,!?;:") <= set(rest)


@verifier("count:keywords_multiple")
@dataclass
class KeywordsMultiple(Verifier):
    """Include {keyword1} once, {keyword2} twice, {keyword3} three, {keyword4} five and {keyword5} seven times
    (case-insensitive substring counts)."""

    keyword1: Any
    keyword2: Any
    keyword3: Any
    keyword4: Any
    keyword5: Any

    def __post_init__(self) -> None:
        for name in ("keyword1", "keyword2", "keyword3", "keyword4", "keyword5"):
            setattr(self, name, phrase(getattr(self, name), name).strip())

    def check(self, response: str) -> bool:
        lowered = response.lower()
        wanted = zip((self.keyword1, self.keyword2, self.keyword3, self.keyword4, self.keyword5), (1, 2, 3, 5, 7))
        return all(lowered.count(keyword.lower()) == times for keyword, times in wanted)


@verifier("count:words_japanese")
@dataclass
class NthWordJapanese(Verifier):
    """Every {N}th word (whitespace-separated, counting from 1) must be in Japanese; a word that is only
    punctuation or only digits is exempt."""

    N: Any

    def __post_init__(self) -> None:
        self.N = whole(self.N, "N", minimum=1)

    def check(self, response: str) -> bool:
        for position, word in enumerate(response.split(), start=1):
            word = strip_punctuation(word)
            if position % self.N == 0 and word and not word.isdigit() and not _JAPANESE.search(word):
                return False
        return True
