"""Text measures the IFEval checkers share: words, sentences, paragraphs and the response's language.

Sentences are split by rules rather than by NLTK's punkt model, so nothing is downloaded at run time: a
sentence ends at ``.``, ``!`` or ``?`` (and the CJK full stops) followed by space, or at a blank line; a
period does not end one after a known abbreviation ("Dr.", "e.g."), an initial ("J. R. R. Tolkien"), a
list number at the start of a line ("1. "), inside a number ("3.14") or before a lowercase word.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")

# Abbreviations that are (almost) never the last word of a sentence; compared lowercase, without the final
# period. "etc." is not among them: it ends sentences as often as not, and a capital word after it decides.
_ABBREVIATIONS = frozenset(
    "mr mrs ms mx dr prof sr jr st mt ft vs approx dept est fig figs no nos vol vols pp ed eds gen col capt lt "
    "sgt cpl rev hon gov pres sen rep supt messrs mme mlle inc ltd co corp bros jan feb mar apr jun jul aug sep "
    "sept oct nov dec mon tue tues wed thu thur thurs fri sat sun e.g i.e cf viz al ca a.m p.m u.s u.k "
    "u.n e.u ph.d b.a m.a b.sc m.sc".split()
)
_TERMINATOR = re.compile(r"([.!?]+|[。！？]+)([\"'”’)\]*_]*)(\s*)")
_INITIALS = re.compile(r"(?:[A-Za-z]\.)*[A-Z]$")  # "J", "U.S", "J.R.R"
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def count_words(text: str) -> int:
    """Words as runs of letters, digits and underscores (so "don't" is two, "3.5" two)."""
    return len(_WORD.findall(text))


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each stripped; blank lines always end a sentence."""
    sentences: list[str] = []
    for block in _BLANK_LINE.split(text):
        sentences.extend(_split_block(block))
    return sentences


def count_sentences(text: str) -> int:
    """How many sentences :func:`split_sentences` finds."""
    return len(split_sentences(text))


def _split_block(block: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _TERMINATOR.finditer(block):
        end = match.end(2)
        if match.group(3) == "" and match.end() != len(block) and match.group(1)[0] not in "。！？":
            continue  # "3.14", "example.com": no space after the mark
        if not _ends_sentence(block, start, match):
            continue
        pieces.append(block[start:end])
        start = match.end()
    pieces.append(block[start:])
    return [piece.strip() for piece in pieces if piece.strip() and _WORD.search(piece)]


def _ends_sentence(block: str, start: int, match: re.Match[str]) -> bool:
    marks = match.group(1)
    if marks in ("?", "!") or set(marks) <= set("!?") or marks[0] in "。！？":
        return True
    if marks != ".":
        return _next_starts_sentence(block, match.end())  # an ellipsis ends a sentence before a capital
    before = block[start:match.start()]
    word = before.split()[-1] if before.split() else ""
    bare = word.lstrip("(\"'“‘*_[")
    if bare.lower() in _ABBREVIATIONS or _INITIALS.fullmatch(bare):
        return False
    line_start = block.rfind("\n", 0, match.start()) + 1
    if bare.isdigit() and block[line_start:match.start()].strip() == bare:
        return False  # "1. First item": a list number
    return _next_starts_sentence(block, match.end())


def _next_starts_sentence(block: str, position: int) -> bool:
    rest = block[position:]
    return not rest or not rest[0].islower()


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


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code langdetect gives ``text`` ("en", "hi", "zh-cn"); ``None`` when it cannot tell.

    langdetect samples at random; seeding its factory before every call makes the answer deterministic.
    """
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    try:
        return str(detect(text))
    except LangDetectException:
        return None
