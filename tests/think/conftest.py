"""Helpers for the think tests: a word-level encoder, a tokenizer.json that counts the same way, and an
equality check that needs no process pool."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assay.eval.scoring.math import math_equal

# The simulator's token rule (a run of word characters, or one other non-space character), so a local
# tokenizer built on it agrees with the server's reasoning_tokens exactly.
_WORD = re.compile(r"\w+|[^\w\s]")


class WordEncoder:
    """``encode`` gives one id per word or punctuation mark."""

    def encode(self, text: str) -> list[int]:
        return [0] * len(_WORD.findall(text))


def count(text: str) -> int:
    return len(_WORD.findall(text))


class PlainEquality:
    """``MathChecker.aequal`` without the process pool (math_equal in this process)."""

    async def aequal(self, pred: str, target: str) -> bool | None:
        return math_equal(pred, target)


def build_word_tokenizer(path: Path) -> Path:
    """A tokenizer.json whose tokens are the simulator's: words and single punctuation marks."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import Regex, models, pre_tokenizers

    tokenizer = tokenizers.Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(r"\w+|[^\w\s]"), behavior="isolated"),
    ])
    tokenizer.save(str(path))
    return path


@pytest.fixture
def word_tokenizer(tmp_path: Path) -> Path:
    return build_word_tokenizer(tmp_path / "tokenizer.json")
