"""IFBench's word and sentence games (``words:*``, ``sentence:*``): letters, vowels, palindromes, positions.

"Words" are whitespace-separated tokens with ASCII punctuation removed (or stripped from their ends) unless a
docstring says NLTK's ``word_tokenize`` (:func:`~assay.eval.scoring.ifeval.treebank_words`); sentences are
NLTK's punkt (:func:`split_sentences`), as in the official verifiers.

Not graded: ``words:start_verb`` (NLTK's part-of-speech tagger) and ``words:odd_even_syllables`` (syllapy's
syllable counts), which assay does not ship.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import Any

from assay.eval.scoring.ifbench.base import (
    PUNCTUATION,
    Verifier,
    phrase,
    strip_punctuation,
    verifier,
    whole,
    without_punctuation,
)
from assay.eval.scoring.ifeval import split_sentences, treebank_words

ALPHABET = string.ascii_lowercase
CONSONANTS = frozenset("bcdfghjklmnpqrstvwxyz")
PRIMES = frozenset((2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97))


def plain_words(text: str) -> list[str]:
    """Whitespace-separated words of ``text`` with every ASCII punctuation mark removed."""
    return without_punctuation(text).split()


@verifier("words:alphabet")
@dataclass
class AlphabetLoop(Verifier):
    """Each word starts with the letter after the previous word's, "z" looping back to "a"; the first word
    must start with a letter."""

    def check(self, response: str) -> bool:
        words = plain_words(response)
        if not words or words[0][0].lower() not in ALPHABET:
            return False
        letter = words[0][0].lower()
        for word in words[1:]:
            letter = ALPHABET[(ALPHABET.index(letter) + 1) % 26]
            if word.lower()[0] != letter:
                return False
        return True


@verifier("words:vowel")
@dataclass
class ThreeVowelParagraph(Verifier):
    """One paragraph (no newline inside it) using at most three of the vowels a, e, i, o, u."""

    def check(self, response: str) -> bool:
        lines = response.strip().split("\n")
        return len(lines) == 1 and len(set(lines[0].lower()) & set("aeiou")) <= 3


@verifier("words:consonants")
@dataclass
class ConsonantClusters(Verifier):
    """Every whitespace-separated word (punctuation included, lowercased) has two consonants in a row."""

    def check(self, response: str) -> bool:
        return all(any(a in CONSONANTS and b in CONSONANTS for a, b in zip(word, word[1:]))
                   for word in response.lower().split())


def _alliteration(sentence: str) -> int:
    """Words in runs of consecutive words sharing their first letter: a run of k words scores k."""
    words = [word for word in (w.lstrip(PUNCTUATION + " ") for w in sentence.lower().split()) if word]
    score, in_run = 0, False
    for first, second in zip(words, words[1:]):
        if first[0] == second[0]:
            score += 1 if in_run else 2
            in_run = True
        else:
            in_run = False
    return score


@verifier("sentence:alliteration_increment")
@dataclass
class AlliterationIncrement(Verifier):
    """Each sentence has more alliterative words than the one before."""

    def check(self, response: str) -> bool:
        scores = [_alliteration(sentence) for sentence in split_sentences(response)]
        return all(a < b for a, b in zip(scores, scores[1:]))


@verifier("words:palindrome")
@dataclass
class Palindromes(Verifier):
    """At least 10 palindromic words (repeats count) of 5 letters or more."""

    def check(self, response: str) -> bool:
        return sum(1 for word in plain_words(response.lower()) if len(word) >= 5 and word == word[::-1]) >= 10


@verifier("words:prime_lengths")
@dataclass
class PrimeLengths(Verifier):
    """Only words whose length is a prime number (below 100)."""

    def check(self, response: str) -> bool:
        return all(len(word) in PRIMES for word in plain_words(response))


@verifier("words:repeats")
@dataclass
class LimitedRepeats(Verifier):
    """No word (lowercased) more than {small_n} times."""

    small_n: Any

    def __post_init__(self) -> None:
        self.small_n = whole(self.small_n, "small_n")

    def check(self, response: str) -> bool:
        return max(Counter(plain_words(response.lower())).values(), default=0) <= self.small_n


@verifier("sentence:keyword")
@dataclass
class KeywordInSentence(Verifier):
    """The {N}th sentence contains the whole word {word} (case-insensitive)."""

    word: Any
    N: Any

    def __post_init__(self) -> None:
        self.word, self.N = phrase(self.word, "word"), whole(self.N, "N", minimum=1)

    def check(self, response: str) -> bool:
        sentences = split_sentences(response)
        return len(sentences) >= self.N and \
            re.search(rf"\b{re.escape(self.word)}\b", sentences[self.N - 1], re.IGNORECASE) is not None


@verifier("words:last_first")
@dataclass
class LastWordFirstNext(Verifier):
    """Each sentence's last word starts the next sentence (case-insensitive; punctuation stripped from the
    sentence's end and from the next one's start, so a comma after that first word makes it differ)."""

    def check(self, response: str) -> bool:
        sentences = split_sentences(response)
        for before, after in zip(sentences, sentences[1:]):
            last, first = before.rstrip(PUNCTUATION + " ").split(), after.lstrip(PUNCTUATION + " ").split()
            if not last or not first or last[-1].lower() != first[0].lower():
                return False
        return True


@verifier("words:paragraph_last_first")
@dataclass
class ParagraphLastFirst(Verifier):
    """Each line (paragraphs are separated by a newline) ends with the word it starts with."""

    def check(self, response: str) -> bool:
        for line in response.split("\n"):
            words = strip_punctuation(line.strip().lower()).split()
            if words and words[0] != words[-1]:
                return False
        return True


@verifier("sentence:increment")
@dataclass
class IncrementingWordCount(Verifier):
    """Each sentence has exactly {small_n} more words than the one before."""

    small_n: Any

    def __post_init__(self) -> None:
        self.small_n = whole(self.small_n, "small_n")

    def check(self, response: str) -> bool:
        counts = [len(plain_words(sentence)) for sentence in split_sentences(response)]
        return bool(counts) and all(b == a + self.small_n for a, b in zip(counts, counts[1:]))


@verifier("words:no_consecutive")
@dataclass
class NoConsecutiveFirstLetter(Verifier):
    """No two consecutive words start with the same letter."""

    def check(self, response: str) -> bool:
        words = plain_words(response.lower())
        return all(a[0] != b[0] for a, b in zip(words, words[1:]))


def _word_tokens(text: str) -> list[str]:
    """NLTK word tokens that hold a letter or digit (standalone punctuation left out)."""
    return [token for token in treebank_words(text) if any(ch.isalnum() for ch in token)]


@verifier("words:keywords_specific_position")
@dataclass
class KeywordAtPosition(Verifier):
    """{keyword} is the {m}th word of the {n}th sentence (NLTK word tokens, punctuation tokens left out)."""

    keyword: Any
    n: Any
    m: Any

    def __post_init__(self) -> None:
        self.keyword = phrase(self.keyword, "keyword").strip()
        self.n, self.m = whole(self.n, "n", minimum=1), whole(self.m, "m", minimum=1)

    def check(self, response: str) -> bool:
        sentences = split_sentences(response)
        if len(sentences) < self.n:
            return False
        words = _word_tokens(sentences[self.n - 1])
        return len(words) >= self.m and words[self.m - 1].lower() == self.keyword.lower()


@verifier("words:words_position")
@dataclass
class WordsPosition(Verifier):
    """The second word and the second-to-last word are both {keyword} (NLTK word tokens; a final punctuation
    token is skipped when counting from the end)."""

    keyword: Any

    def __post_init__(self) -> None:
        self.keyword = phrase(self.keyword, "keyword").strip()

    def check(self, response: str) -> bool:
        tokens = treebank_words(response)
        if len(tokens) < 2:
            return False
        # Officially ``tokens[-1] in string.punctuation``: a substring test, so only one-mark tokens qualify.
        from_end = -3 if tokens[-1] in PUNCTUATION else -2
        if len(tokens) < -from_end:
            return False
        return tokens[1].lower() == tokens[from_end].lower() == self.keyword.lower()
