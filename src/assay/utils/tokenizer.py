"""A local tokenizer for exact-length random prompts and for counting tokens a server did not report."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from assay.errors import ConfigError


class Tokenizer(Protocol):
    """The little of a tokenizer that perf and think need."""

    vocab_size: int
    special_ids: frozenset[int]

    def encode(self, text: str) -> list[int]: ...

    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...

    def decode(self, ids: list[int]) -> str: ...


class _FastTokenizer:
    """A ``tokenizers.Tokenizer`` (a ``tokenizer.json``), without special tokens added."""

    def __init__(self, tokenizer) -> None:  # noqa: ANN001 - tokenizers.Tokenizer
        self._tok = tokenizer
        self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
        added = tokenizer.get_added_tokens_decoder() if hasattr(tokenizer, "get_added_tokens_decoder") else {}
        self.special_ids = frozenset(i for i, tok in added.items() if getattr(tok, "special", True))

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        return self._tok.decode(ids, skip_special_tokens=False)


class _HFTokenizer:
    """A transformers ``AutoTokenizer`` loaded from a local folder (for folders without tokenizer.json)."""

    def __init__(self, tokenizer) -> None:  # noqa: ANN001 - transformers tokenizer
        self._tok = tokenizer
        self.vocab_size = len(tokenizer)
        self.special_ids = frozenset(tokenizer.all_special_ids)

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return self._tok(texts, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self._tok.decode(ids)


def load_tokenizer(path: str) -> Tokenizer:
    """The tokenizer at ``path``: a ``tokenizer.json`` file or a folder holding one (or any local
    transformers tokenizer). Never downloads."""
    location = Path(path)
    if not location.exists():
        raise ConfigError(f"tokenizer not found: {path} (pass a local tokenizer.json or model folder)")
    file = location if location.is_file() else location / "tokenizer.json"
    if file.is_file():
        try:
            from tokenizers import Tokenizer as RawTokenizer
        except ImportError:
            raise ConfigError("reading a tokenizer needs the `tokenizers` package: pip install tokenizers") from None
        try:
            return _FastTokenizer(RawTokenizer.from_file(str(file)))
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exceptions
            raise ConfigError(f"cannot read tokenizer {file}: {exc}") from None
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise ConfigError(f"{path} has no tokenizer.json; reading it needs transformers") from None
    try:
        return _HFTokenizer(AutoTokenizer.from_pretrained(str(location), local_files_only=True))
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"cannot load a tokenizer from {path}: {exc}") from None
