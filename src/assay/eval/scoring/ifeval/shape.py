"""Instructions on the response's shape: language, case, start and end, combinations and punctuation
(IFEval groups ``language``, ``change_case``, ``startend``, ``combination``, ``punctuation``).

Language comes from langdetect (:func:`~assay.eval.scoring.ifeval.text.detect_language`), on the text as
written (lowercasing all-caps text first turned ``PIXEL PRODIGY...`` into Catalan). Text it cannot classify
(no letters at all) is given the benefit of the doubt, as in the official code.

Official rules: the detected code must equal the requested one exactly; capital words are NLTK 3.8.1
``word_tokenize`` tokens (``DON'T`` is two, ``U.S.A.`` one, ``AI-POWERED`` one); the end phrase may be
followed only by straight double quotes; only straight double quotes wrap a quotation. assay rules: a region
suffix is ignored (``zh-cn`` is ``zh``); capital words are runs of letters and digits joined by apostrophes
(``DON'T`` one, ``U.S.A.`` three, ``AI-POWERED`` two); quotes of either kind and markdown asterisks may close
the end phrase; curly quotes also wrap a quotation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assay.eval.scoring.ifeval.base import Instruction, compare, count, instruction, relation, text
from assay.eval.scoring.ifeval.text import detect_language, treebank_words

_RESPONSE_SEPARATOR = "******"
_QUOTES = (('"', '"'), ("“", "”"))


def _in_language(response: str, language: str) -> bool:
    detected = detect_language(response)
    return detected is None or detected.split("-")[0] == language.split("-")[0]


def _exactly_in_language(response: str, language: str) -> bool:
    detected = detect_language(response)
    return detected is None or detected == language


@instruction("language:response_language", rules="assay")
@dataclass
class ResponseLanguage(Instruction):
    """The entire response in {language} (an ISO 639-1 code), no other language."""

    language: Any

    def __post_init__(self) -> None:
        self.language = text(self.language, "language").strip().lower()

    def check(self, response: str) -> bool:
        return _in_language(response, self.language)


@instruction("language:response_language")
@dataclass
class OfficialResponseLanguage(ResponseLanguage):
    """The entire response in {language}: langdetect's code equals it exactly."""

    def check(self, response: str) -> bool:
        return _exactly_in_language(response, self.language)


@instruction("change_case:capital_word_frequency", rules="assay")
@dataclass
class CapitalWordFrequency(Instruction):
    """Words in all capital letters appear {capital_relation} {capital_frequency} times."""

    capital_frequency: Any
    capital_relation: Any

    def __post_init__(self) -> None:
        self.capital_frequency = count(self.capital_frequency, "capital_frequency")
        self.capital_relation = relation(self.capital_relation, "capital_relation")

    def check(self, response: str) -> bool:
        capitals = [word for word in re.findall(r"\w+(?:['’]\w+)*", response) if word.isupper()]
        return compare(len(capitals), self.capital_relation, self.capital_frequency)


@instruction("change_case:capital_word_frequency")
@dataclass
class OfficialCapitalWordFrequency(CapitalWordFrequency):
    """NLTK ``word_tokenize`` tokens in all capitals appear {capital_relation} {capital_frequency} times."""

    def check(self, response: str) -> bool:
        capitals = sum(token.isupper() for token in treebank_words(response))
        return compare(capitals, self.capital_relation, self.capital_frequency)


@instruction("change_case:english_capital")
@dataclass
class EnglishCapital(Instruction):
    """The entire response in English, in capital letters only."""

    def check(self, response: str) -> bool:
        return response.isupper() and _exactly_in_language(response, "en")


@instruction("change_case:english_lowercase")
@dataclass
class EnglishLowercase(Instruction):
    """The entire response in English, in lowercase letters only."""

    def check(self, response: str) -> bool:
        return response.islower() and _exactly_in_language(response, "en")


@instruction("startend:end_checker", rules="assay")
@dataclass
class EndChecker(Instruction):
    """Finish with the exact phrase {end_phrase}; nothing may follow (closing quotes and case aside)."""

    end_phrase: Any

    def __post_init__(self) -> None:
        self.end_phrase = text(self.end_phrase, "end_phrase").strip()

    def check(self, response: str) -> bool:
        return response.strip().strip("\"'“”*").strip().lower().endswith(self.end_phrase.lower())


@instruction("startend:end_checker")
@dataclass
class OfficialEndChecker(EndChecker):
    """Finish with {end_phrase} (case ignored); only straight double quotes may follow it."""

    def check(self, response: str) -> bool:
        return response.strip().strip('"').lower().endswith(self.end_phrase.lower())


@instruction("startend:quotation", rules="assay")
@dataclass
class Quotation(Instruction):
    """The entire response wrapped in double quotation marks."""

    def check(self, response: str) -> bool:
        body = response.strip()
        return len(body) > 1 and any(body.startswith(a) and body.endswith(b) for a, b in _QUOTES)


@instruction("startend:quotation")
@dataclass
class OfficialQuotation(Quotation):
    """The entire response wrapped in straight double quotation marks."""

    def check(self, response: str) -> bool:
        body = response.strip()
        return len(body) > 1 and body[0] == body[-1] == '"'


@instruction("combination:two_responses")
@dataclass
class TwoResponses(Instruction):
    """Two different responses, separated by six asterisks (******) and nothing else."""

    def check(self, response: str) -> bool:
        pieces = [piece.strip() for piece in response.split(_RESPONSE_SEPARATOR)]
        if any(not piece for piece in pieces[1:-1]):
            return False
        answers = [piece for piece in pieces if piece]
        return len(answers) == 2 and answers[0] != answers[1]


@instruction("combination:repeat_prompt")
@dataclass
class RepeatPrompt(Instruction):
    """First repeat the request ({prompt_to_repeat}) word for word, then answer."""

    prompt_to_repeat: Any

    def __post_init__(self) -> None:
        self.prompt_to_repeat = text(self.prompt_to_repeat, "prompt_to_repeat").strip()

    def check(self, response: str) -> bool:
        return response.strip().lower().startswith(self.prompt_to_repeat.lower())


@instruction("punctuation:no_comma")
@dataclass
class NoComma(Instruction):
    """No commas anywhere in the response."""

    def check(self, response: str) -> bool:
        return "," not in response
