"""Prompts for a replayed trace (``--trace FILE``): each request's prompt rebuilt to its recorded length.

Traces hold lengths, not text, so the text is made up, but so that a server's prefix cache sees the
sharing the trace recorded: a Mooncake hash id always stands for the same 512 tokens of text (built
from ``(seed, hash id)`` alone), so requests whose ``hash_ids`` start alike send prompts that start with
exactly the same characters, and different ids give different text. Tokens past the hash ids (BurstGPT has
none) are text of the request's own.

Without ``--tokenizer-path`` a block is common English words, one token each in the simulator's count
and in OpenAI's cl100k_base and o200k_base vocabularies (checked: 5,120 of these words, space-separated,
are 5,120 tokens in both), so a prompt is ``input_length`` tokens on ``assay sim`` and close to it for
byte-level BPE vocabularies of the same family; other vocabularies may split a few words. With a tokenizer
each block is fitted to exactly its token count (as ``--dataset random`` does); block boundaries may merge a
token or two.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from assay.perf.config import PerfConfig
from assay.perf.datasets import Prompt
from assay.perf.datasets.synthetic import clean_token_ids, exact_length_text
from assay.perf.traces import BLOCK_TOKENS, Trace, read_trace
from assay.utils.tokenizer import Tokenizer

# Short, frequent words: one token each with a leading space in cl100k_base and o200k_base (and for assay sim).
_WORDS = tuple("""
the of and to in is was for on are with as by at be this from or have an they which one you were all we
her she there been his has when who will more no if out so said what up its about into than them can only
other new some could time these two may then do first any my now such like our over man me even most made
after also did many before must through back years where much your way well down should because each just
those people how too little state good very make world still own see men work long get here between both
life being under never day same another know while last might us great old year off come since against go
came right used take three place home small found part high every house point sea water side city land far
""".split())
# Seeds are (run seed, kind, id): a block of a hash id, or the own tail of request i.
_HASH_BLOCK, _OWN_TAIL = 1, 2
_CACHED_BLOCKS = 8192


class TracePromptSet:
    """Request ``i`` of the trace as a prompt of its input length, with ``max_tokens`` = its output length.

    ``exact_output`` also sends ``min_tokens`` = the output length, so a server that honours it (vLLM,
    SGLang, ``assay sim``) answers exactly as long as the trace recorded.
    """

    def __init__(self, trace: Trace, *, seed: int = 0, tokenizer: Tokenizer | None = None,
                 exact_output: bool = False) -> None:
        self.name = f"trace:{trace.format}"
        self.size = None  # prompts are built per request: a long trace's prompts never all sit in memory
        self.trace = trace
        self._seed = seed
        self._exact_output = exact_output
        self._tokenizer = tokenizer
        self._allowed = clean_token_ids(tokenizer) if tokenizer is not None else None
        self._block = lru_cache(maxsize=_CACHED_BLOCKS)(self._make_block)

    def prompt(self, index: int) -> Prompt:
        request = self.trace.requests[index % len(self.trace)]
        text, tokens = self.text(index)
        return Prompt([{"role": "user", "content": text}], input_tokens=tokens,
                      max_tokens=request.output_tokens,
                      min_tokens=request.output_tokens if self._exact_output else None)

    def text(self, index: int) -> tuple[str, int | None]:
        """Request ``index``'s prompt text and, with a tokenizer, its token count (the sum of its blocks')."""
        request = self.trace.requests[index % len(self.trace)]
        remaining = request.input_tokens
        parts: list[str] = []
        counted = 0
        for hash_id in request.hash_ids:
            if remaining <= 0:
                break
            size = min(BLOCK_TOKENS, remaining)
            text, count = self._block(_HASH_BLOCK, hash_id, size)
            parts.append(text)
            counted += count
            remaining -= size
        tail = 0
        while remaining > 0:  # beyond the hash ids (or none at all): the request's own text
            size = min(BLOCK_TOKENS, remaining)
            text, count = self._make_block(_OWN_TAIL, index * 1_000_003 + tail, size)
            parts.append(text)
            counted += count
            remaining -= size
            tail += 1
        joiner = " " if self._tokenizer is None else ""
        return joiner.join(parts), (counted if self._tokenizer is not None else None)

    def _make_block(self, kind: int, key: int, size: int) -> tuple[str, int]:
        """The text of block ``key`` cut to its first ``size`` tokens, and its token count."""
        rng = np.random.default_rng([self._seed, kind, key])
        if self._tokenizer is None or self._allowed is None:
            picks = rng.integers(0, len(_WORDS), size=BLOCK_TOKENS)[:size]
            return " ".join(_WORDS[i] for i in picks), size
        ids = rng.choice(self._allowed, size=BLOCK_TOKENS)
        return exact_length_text(self._tokenizer, ids, size, rng, self._allowed)


def trace_prompt_set(config: PerfConfig, tokenizer: Tokenizer | None) -> TracePromptSet:
    """The prompt set of ``--trace``: the trace file read with the run's limit and start offset."""
    assert config.trace is not None
    trace = read_trace(config.trace, limit=config.trace_limit, start_s=config.trace_start)
    return TracePromptSet(trace, seed=config.seed, tokenizer=tokenizer, exact_output=config.trace_exact_output)
