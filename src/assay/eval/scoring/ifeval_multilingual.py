"""Multi-IF's language-aware length checks: IFEval's word and sentence counts for Chinese, Japanese and Hindi.

Multi-IF (He et al., 2024, arXiv:2410.15553) grades with IFEval's checker except for two instructions, whose
official code first detects the answer's language (langdetect; English when it cannot tell) and counts in a
way that language needs:

- ``length_constraints:number_words``: Chinese or Japanese answers count each CJK ideograph, kana and Hangul
  syllable as a word, plus the whitespace-separated runs of everything else, once the punctuation of both
  scripts is removed;
- ``length_constraints:number_sentences``: Chinese or Japanese answers split each line after ``。！？．.!?``;
  Hindi answers after the danda ``।``, ``!`` or ``?``.

Other languages count as IFEval does. Two official details are not reproduced: Thai answers (no Thai
conversation is in the released data) are counted with pythainlp there and as English here, and emoji in a
Chinese or Japanese answer count as words there only when the emoji package is installed (here they are part
of the surrounding run, as the official code does without it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from assay.eval.scoring.ifeval import Instruction, build_instruction, count_sentences, count_words, detect_language
from assay.eval.scoring.ifeval.base import compare

CJK_LANGUAGES = ("zh", "zh-cn", "zh-tw", "ja")
_CJK_CHARS = re.compile(r"[\u4E00-\u9FFF\u3400-\u4DBF\u3040-\u309f\u30a0-\u30ff\uAC00-\uD7AF]")
# The Latin and CJK punctuation the official word count removes before counting.
_CJK_PUNCTUATION_MARKS = "\\.!?．/_,{}<>:;$%^&*(+\"'—！，。？、`~@#￥…（）：；《》“”()[]»〔〕-「」"
_CJK_PUNCTUATION = re.compile(f"[{re.escape(_CJK_PUNCTUATION_MARKS)}]+")
_CJK_TERMINATORS = "!?。.！？．"
_CJK_SENTENCE = re.compile(f"[^{re.escape(_CJK_TERMINATORS)}\n]+[{re.escape(_CJK_TERMINATORS)}\n]?")
_HINDI_BREAK = re.compile(r"(?<=[।!?])\s*")


def language_of(text: str) -> str:
    """The language code langdetect gives ``text``; "en" when it cannot tell, as the official code assumes."""
    return detect_language(text) or "en"


def count_words_multilingual(text: str) -> int:
    """Words as Multi-IF counts them (see the module docstring)."""
    if language_of(text) not in CJK_LANGUAGES:
        return count_words(text)
    text = _CJK_PUNCTUATION.sub("", text)
    return len(_CJK_CHARS.findall(text)) + len(_CJK_CHARS.sub(" ", text).split())


def count_sentences_multilingual(text: str) -> int:
    """Sentences as Multi-IF counts them (see the module docstring)."""
    language = language_of(text)
    if language in CJK_LANGUAGES:
        return sum(len(_CJK_SENTENCE.findall(line.strip())) for line in text.splitlines())
    if language == "hi":
        return sum(1 for part in _HINDI_BREAK.split(text) if part.strip())
    return count_sentences(text)


@dataclass
class MultilingualWords(Instruction):
    """Answer with {relation} {num_words} words, counted for the answer's language."""

    num_words: int
    relation: str

    def check(self, response: str) -> bool:
        return compare(count_words_multilingual(response), self.relation, self.num_words)


@dataclass
class MultilingualSentences(Instruction):
    """Answer with {relation} {num_sentences} sentences, counted for the answer's language."""

    num_sentences: int
    relation: str

    def check(self, response: str) -> bool:
        return compare(count_sentences_multilingual(response), self.relation, self.num_sentences)


def build_multilingual(instruction_id: str, kwargs: Mapping[str, Any] | None) -> Instruction:
    """IFEval's checker for ``instruction_id`` under the official rules, with Multi-IF's two language-aware
    length checks in place of IFEval's (their kwargs validated by IFEval's own)."""
    checker = build_instruction(instruction_id, kwargs)
    if instruction_id == "length_constraints:number_words":
        return MultilingualWords(checker.num_words, checker.relation)  # type: ignore[attr-defined]
    if instruction_id == "length_constraints:number_sentences":
        return MultilingualSentences(checker.num_sentences, checker.relation)  # type: ignore[attr-defined]
    return checker
