"""Token counts of a reasoning trace and of its prefixes: a local tokenizer, or the server's count.

With a tokenizer, the tokens up to a point are the tokens of that prefix of the text. With only the
server's ``reasoning_tokens`` (no tokenizer), the total is exact and a prefix gets the share of the total
that its characters are of the text, rounded: an estimate, and the report says so.
"""

from __future__ import annotations

from typing import Literal, Protocol

from assay.errors import ConfigError

TokenSourceName = Literal["tokenizer", "server"]


class _Encoder(Protocol):
    def encode(self, text: str) -> list[int]: ...


class TraceTokens:
    """Counts for one trace: ``total`` and ``upto(char_index)``."""

    def __init__(self, text: str, *, encoder: _Encoder | None = None, server_total: int | None = None) -> None:
        if encoder is None and server_total is None:
            raise ValueError("a trace needs a tokenizer or the server's count")
        self.text = text
        self._encoder = encoder
        self._cache: dict[int, int] = {}
        self.total = len(encoder.encode(text)) if encoder is not None else int(server_total)  # type: ignore[arg-type]
        self._cache[len(text)] = self.total

    def upto(self, end: int) -> int:
        """Tokens of ``text[:end]``."""
        end = max(0, min(end, len(self.text)))
        if end not in self._cache:
            if self._encoder is not None:
                self._cache[end] = min(self.total, len(self._encoder.encode(self.text[:end])))
            else:
                self._cache[end] = round(self.total * end / len(self.text)) if self.text else 0
        return self._cache[end]


class TokenCounter:
    """Makes ``TraceTokens``: from the tokenizer at ``tokenizer_path``, else from server counts."""

    def __init__(self, tokenizer_path: str | None) -> None:
        self.source: TokenSourceName = "tokenizer" if tokenizer_path else "server"
        self._encoder: _Encoder | None = None
        if tokenizer_path:
            from assay.utils.tokenizer import load_tokenizer  # the one tokenizer loader (never downloads)

            self._encoder = load_tokenizer(tokenizer_path)

    def trace(self, text: str, server_reasoning_tokens: int | None, *, where: str) -> TraceTokens:
        """Counts for one trace; a ``ConfigError`` naming ``where`` when neither source can count it."""
        if self._encoder is not None:
            return TraceTokens(text, encoder=self._encoder)
        if server_reasoning_tokens is None:
            raise ConfigError(f"{where}: the run recorded no server reasoning_tokens; pass --tokenizer-path "
                              "(a local tokenizer.json or model folder) to count tokens")
        return TraceTokens(text, server_total=server_reasoning_tokens)

    def describe(self) -> str:
        if self.source == "tokenizer":
            return "local tokenizer"
        return "server reasoning_tokens (first-correct point prorated by characters)"
