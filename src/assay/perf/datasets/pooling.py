"""Prompt sets for the embeddings and rerank APIs (EvalScope's names): ``embedding``, ``random_embedding``,
``rerank`` and ``random_rerank``.

Any text prompt set also works with ``--api openai_embedding`` (each prompt's text is one input); rerank
needs a query and its documents, which only the two rerank sets give.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from assay.errors import DatasetError
from assay.perf.config import PerfConfig
from assay.perf.datasets import ListPromptSet, Prompt, PromptSet, register_prompt_set
from assay.perf.datasets.files import LengthFilter, _finish, _text_of, _user, read_records, resolve_path
from assay.perf.datasets.synthetic import RandomPromptSet, _need_tokenizer, clean_token_ids, exact_length_text
from assay.utils.tokenizer import Tokenizer

_EMBED_KEYS = ("text", "input", "sentence", "content", "prompt", "question")


@register_prompt_set("embedding")
def embedding(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """Texts to embed: a .txt file (one per non-empty line), or JSON/JSONL of strings or
    ``{text | input | sentence | content}`` objects."""
    if not config.dataset_path:
        raise DatasetError("--dataset embedding needs --dataset-path FILE")
    path = resolve_path(config)
    keep = LengthFilter(config, tokenizer)
    if path.suffix.lower() == ".txt":
        items: list[Any] = [line.strip() for line in _read_text(path).splitlines()]
    else:
        items = read_records(path)
    prompts = [_user(text) for item in items if (text := _text_of(item, _EMBED_KEYS)) and keep.keep(text)]
    return _finish("embedding", path, prompts, keep)


@register_prompt_set("random_embedding")
def random_embedding(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """Random texts of exact token lengths (as ``random``), one per embeddings request."""
    prompts = RandomPromptSet(config, _need_tokenizer(config, tokenizer))
    prompts.name = "random_embedding"
    return prompts


@register_prompt_set("rerank")
def rerank(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """JSON/JSONL of ``{"query": ..., "documents": [...]}`` (``passages`` or ``texts`` also read)."""
    if not config.dataset_path:
        raise DatasetError("--dataset rerank needs --dataset-path FILE")
    path = resolve_path(config)
    keep = LengthFilter(config, tokenizer)
    prompts = []
    for number, item in enumerate(read_records(path), 1):
        if not isinstance(item, dict):
            raise DatasetError(f"{path} item {number}: expected {{query, documents}}")
        query = item.get("query")
        documents = item.get("documents") or item.get("passages") or item.get("texts")
        if isinstance(documents, str):
            documents = [documents]
        if not isinstance(query, str) or not isinstance(documents, list) or not documents:
            raise DatasetError(f"{path} item {number}: needs a query string and a non-empty documents list")
        texts = [d.get("text", "") if isinstance(d, dict) else str(d) for d in documents]
        if keep.keep(query):
            prompts.append(Prompt([{"role": "user", "content": query}], documents=texts))
    return _finish("rerank", path, prompts, keep)


class RandomRerankSet:
    """Random queries of [min_prompt_length, max_prompt_length] tokens, each with ``num_documents``
    documents ``document_length_ratio`` times as long (exact token lengths, a pure function of seed and index).
    ``input_tokens`` is the query's plus the documents' tokens."""

    def __init__(self, config: PerfConfig, tokenizer: Tokenizer) -> None:
        self.name = "random_rerank"
        self.size = None
        self._tokenizer = tokenizer
        self._seed = config.seed
        self._low, self._high = max(1, config.min_prompt_length), config.max_prompt_length
        self._documents = config.num_documents
        self._ratio = config.document_length_ratio
        self._allowed = clean_token_ids(tokenizer)
        if self._allowed.size == 0:
            raise DatasetError("the tokenizer has no ordinary tokens to build random prompts from")

    def _text(self, rng: np.random.Generator, length: int) -> tuple[str, int]:
        ids = rng.choice(self._allowed, size=length)
        return exact_length_text(self._tokenizer, ids, length, rng, self._allowed)

    def prompt(self, index: int) -> Prompt:
        rng = np.random.default_rng([self._seed, index, 1])
        length = int(rng.integers(self._low, self._high + 1))
        query, total = self._text(rng, length)
        documents = []
        for _ in range(self._documents):
            text, count = self._text(rng, max(1, round(length * self._ratio)))
            documents.append(text)
            total += count
        return Prompt([{"role": "user", "content": query}], input_tokens=total, documents=documents)


@register_prompt_set("random_rerank")
def random_rerank(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """Random rerank requests (see ``RandomRerankSet``); needs --tokenizer-path."""
    return RandomRerankSet(config, _need_tokenizer(config, tokenizer))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not UTF-8 text") from None


__all__ = ["ListPromptSet", "RandomRerankSet"]
