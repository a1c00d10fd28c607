"""Synthetic prompts: ``random`` (exact token lengths from a local tokenizer, optional shared prefix) and
``random_vl`` (the same plus random images).

Prompt ``i`` is built from ``(seed, i)`` alone, so it is the same in every worker process and nothing is
held in memory between requests.
"""

from __future__ import annotations

import base64
import struct
import zlib
from functools import lru_cache

import numpy as np

from assay.errors import ConfigError
from assay.perf.config import PerfConfig
from assay.perf.datasets import Prompt, PromptSet, register_prompt_set
from assay.utils.tokenizer import Tokenizer

_FIT_ROUNDS = 12


def exact_length_text(tokenizer: Tokenizer, ids: np.ndarray, length: int, rng: np.random.Generator,
                      allowed: np.ndarray, prefix: str = "") -> tuple[str, int]:
    """Text that ``prefix + text`` re-encodes to ``len(encode(prefix)) + length`` tokens, or as near as
    the tokenizer allows (decode → encode is not always an identity); returns (text, its token count).
    """
    prefix_tokens = len(tokenizer.encode(prefix)) if prefix else 0
    own = list(ids[:length])
    text, count = "", prefix_tokens
    for _ in range(_FIT_ROUNDS):
        text = tokenizer.decode(own)
        count = len(tokenizer.encode(prefix + text))
        surplus = count - prefix_tokens - length
        if surplus == 0:
            break
        if surplus > 0:
            own = own[: max(0, len(own) - surplus)]
        else:
            own = own + list(rng.choice(allowed, size=-surplus))
    return text, count


class RandomPromptSet:
    """Random token sequences with lengths uniform in [min_prompt_length, max_prompt_length] tokens."""

    def __init__(self, config: PerfConfig, tokenizer: Tokenizer, *, images: int = 0) -> None:
        self.name = "random_vl" if images else "random"
        self.size = None  # every index has its own prompt
        self._tokenizer = tokenizer
        self._seed = config.seed
        self._low = max(1, config.min_prompt_length)
        self._high = config.max_prompt_length
        if self._high > 1_000_000:
            raise ConfigError("--max-prompt-length is over a million tokens for --dataset random")
        self._allowed = clean_token_ids(tokenizer)
        if self._allowed.size == 0:
            raise ConfigError("the tokenizer has no ordinary tokens to build random prompts from")
        self._images = images
        self._image_size = (config.image_width, config.image_height)
        self._prefix = ""
        if config.prefix_length:
            rng = np.random.default_rng([self._seed, 2**31])
            ids = rng.choice(self._allowed, size=config.prefix_length)
            self._prefix, _ = exact_length_text(tokenizer, ids, config.prefix_length, rng, self._allowed)

    def prompt(self, index: int) -> Prompt:
        rng = np.random.default_rng([self._seed, index])
        length = int(rng.integers(self._low, self._high + 1))
        ids = rng.choice(self._allowed, size=length)
        text, count = exact_length_text(self._tokenizer, ids, length, rng, self._allowed, self._prefix)
        content_text = self._prefix + text
        if not self._images:
            return Prompt([{"role": "user", "content": content_text}], input_tokens=count)
        parts: list[dict] = [{"type": "text", "text": content_text}]
        for k in range(self._images):
            parts.append({"type": "image_url", "image_url": {"url": random_png_data_url(*self._image_size, seed=(
                self._seed, index, k))}})
        # Image tokens depend on the model's processor: only the server can count them.
        return Prompt([{"role": "user", "content": parts}], input_tokens=None)


def clean_token_ids(tokenizer: Tokenizer) -> np.ndarray:
    """Token ids that decode to printable text on their own and encode back to themselves.

    Byte-level tokens that hold part of a UTF-8 character decode to U+FFFD and re-encode differently, so
    prompts built from them would miss their length; leaving them out keeps decode → encode stable.
    """
    ids = [i for i in range(tokenizer.vocab_size) if i not in tokenizer.special_ids]
    texts = [tokenizer.decode([i]) for i in ids]
    encoded = tokenizer.encode_batch(texts)
    keep = [i for i, text, back in zip(ids, texts, encoded)
            if back == [i] and "\ufffd" not in text and text.isprintable()]
    return np.array(keep, dtype=np.int64)


def _need_tokenizer(config: PerfConfig, tokenizer: Tokenizer | None) -> Tokenizer:
    if tokenizer is None:
        raise ConfigError(f"--dataset {config.dataset} needs --tokenizer-path (prompts of exact token lengths)")
    return tokenizer


@register_prompt_set("random")
def random_prompts(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """Random prompts of exact token lengths, optionally behind a shared prefix (prefix-caching tests)."""
    return RandomPromptSet(config, _need_tokenizer(config, tokenizer))


@register_prompt_set("random_vl")
def random_vl_prompts(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """Random prompts with ``image_num`` random images of ``image_width`` x ``image_height`` (PNG)."""
    return RandomPromptSet(config, _need_tokenizer(config, tokenizer), images=config.image_num)


def random_png_data_url(width: int, height: int, *, seed: tuple[int, ...]) -> str:
    """A ``data:image/png;base64,...`` URL of random RGB pixels (PNG written with zlib, no imaging library)."""
    return "data:image/png;base64," + base64.b64encode(_png(width, height, seed)).decode("ascii")


@lru_cache(maxsize=64)
def _png(width: int, height: int, seed: tuple[int, ...]) -> bytes:
    pixels = np.random.default_rng(list(seed)).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")
