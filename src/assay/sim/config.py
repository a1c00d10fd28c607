"""The simulator's settings: one model that the CLI (``assay sim --help``), the Python API and files fill.

Every field's description is the help text of its ``--flag``, so keep them short, complete sentences.

Defaults describe a small demo server: a continuous-batching engine whose time to first token comes
mostly from prefill (2 ms per request plus 0.05 ms per prompt token, so a 1,000-token prompt costs
52 ms), that takes 8 ms per decode step plus 0.05 ms per running sequence, runs at most 256 sequences at
once and answers with 16-256 filler tokens.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_SPEC_HELP = "expected N, uniform:MIN:MAX, normal:MEAN:STD or max"


@dataclass(frozen=True)
class LengthSpec:
    """A distribution of token counts, parsed from a spec such as ``uniform:16:256``.

    ``kind`` is ``fixed`` (always ``a``), ``uniform`` (an integer in ``[a, b]``), ``normal`` (mean ``a``,
    standard deviation ``b``, rounded, never below 0) or ``max`` (the request's ``max_tokens``).
    """

    kind: Literal["fixed", "uniform", "normal", "max"]
    a: float = 0
    b: float = 0

    def draw(self, rng: random.Random, max_tokens: int) -> int:
        """One token count; ``max_tokens`` is what ``max`` stands for."""
        if self.kind == "fixed":
            return int(self.a)
        if self.kind == "uniform":
            return rng.randint(int(self.a), int(self.b))
        if self.kind == "normal":
            return max(0, round(rng.gauss(self.a, self.b)))
        return max_tokens


def parse_length_spec(spec: str) -> LengthSpec:
    """Parse ``N``, ``uniform:MIN:MAX``, ``normal:MEAN:STD`` or ``max``; a clear ``ValueError`` otherwise."""
    text = spec.strip().lower()
    if text == "max":
        return LengthSpec("max")
    parts = text.split(":")
    try:
        if len(parts) == 1:
            value = int(parts[0])
            if value < 0:
                raise ValueError
            return LengthSpec("fixed", value)
        kind, *numbers = parts
        if kind == "uniform" and len(numbers) == 2:
            low, high = int(numbers[0]), int(numbers[1])
            if not 0 <= low <= high:
                raise ValueError
            return LengthSpec("uniform", low, high)
        if kind == "normal" and len(numbers) == 2:
            mean, std = float(numbers[0]), float(numbers[1])
            if mean < 0 or std < 0:
                raise ValueError
            return LengthSpec("normal", mean, std)
    except ValueError:
        pass
    raise ValueError(f"bad length spec {spec!r}: {_SPEC_HELP}, with counts >= 0 and MIN <= MAX")


class SimConfig(BaseModel):
    """How the simulated OpenAI-compatible server behaves: address, answers, latency and faults."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8801, ge=0, le=65535, description="Port to listen on (0: any free port).")
    model: str = Field(
        default="assay-sim", description="Model name listed by /v1/models (answers echo the requested one)."
    )
    api_key: str | None = Field(
        default=None,
        description="When set, /v1 requests need 'Authorization: Bearer KEY' or get 401.",
    )
    max_model_len: int | None = Field(
        default=None, ge=1,
        description="Context length: a request whose prompt plus max_tokens exceeds it gets HTTP 400 with vLLM's "
        "message (none: no limit).",
    )
    output_len: str = Field(
        default="uniform:16:256",
        description="Answer length in tokens: N, uniform:MIN:MAX, normal:MEAN:STD, or max (the request's "
        "max_tokens). Clamped to the request's min_tokens and max_tokens.",
    )
    reasoning: Literal["none", "field", "inline"] = Field(
        default="none",
        description="Reasoning before the answer: none; field (reasoning_content deltas); inline "
        "(<think>...</think> in the content). A request turns it off with "
        "chat_template_kwargs.enable_thinking=false.",
    )
    reasoning_len: str = Field(
        default="uniform:16:128", description="Reasoning length in tokens, same spec as --output-len."
    )
    latency_model: Literal["engine", "fixed"] = Field(
        default="engine",
        description="engine: a continuous-batching engine (prefill by prompt length, decode step time "
        "growing with the batch, max batch size queues the rest); fixed: exactly ttft-ms, then itl-ms "
        "between tokens.",
    )
    ttft_ms: float = Field(
        default=2.0, ge=0,
        description="fixed: time to first token; engine: base prefill cost of each request, added to "
        "the step that admits it.",
    )
    itl_ms: float = Field(
        default=8.0, ge=0, description="fixed: time between tokens; engine: base decode step time."
    )
    prefill_ms_per_token: float = Field(
        default=0.05, ge=0, description="engine: prefill cost per prompt token."
    )
    itl_ms_per_seq: float = Field(
        default=0.05, ge=0, description="engine: decode step time added per running sequence."
    )
    max_batch_size: int = Field(
        default=256, ge=0, description="engine: most sequences decoded at once; the rest wait (0: unlimited)."
    )
    jitter: float = Field(
        default=0.0, ge=0, description="Relative standard deviation of each step time (0.1 = 10%)."
    )
    replay_path: Path | None = Field(
        default=None,
        description="JSONL file of {prompt or prompt_contains, response and/or tool_calls, reasoning?, "
        "finish_reason?} answered for matching prompts (the last user message for chat); tool_calls are "
        "[{name, arguments}], sent to requests that offer tools.",
    )
    replay_strict: bool = Field(
        default=False, description="With a replay file: answer 404 to unmatched prompts instead of filler."
    )
    error_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of requests answered with HTTP 500."
    )
    rate_429: float = Field(
        default=0.0, ge=0, le=1, description="Share of requests answered with HTTP 429 and Retry-After."
    )
    disconnect_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of requests whose connection is dropped mid-answer."
    )
    malformed_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of requests that get a chunk or body that is not JSON."
    )
    stall_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of requests that stop sending for stall-s mid-answer."
    )
    error_200_rate: float = Field(
        default=0.0, ge=0, le=1,
        description="Share of requests answered HTTP 200 with an OpenAI error object as body or first event.",
    )
    stall_s: float = Field(default=3600.0, ge=0, description="How long a stalled answer stops sending.")
    seed: int | None = Field(
        default=None, description="Seed of answer lengths, faults and jitter (none: random)."
    )

    @field_validator("output_len", "reasoning_len")
    @classmethod
    def _check_length_spec(cls, value: str) -> str:
        parse_length_spec(value)
        return value

    @model_validator(mode="after")
    def _check_fault_rates(self) -> SimConfig:
        if sum(self.fault_rates().values()) > 1.0 + 1e-9:
            raise ValueError("the fault rates add up to more than 1")
        return self

    def fault_rates(self) -> dict[str, float]:
        """Fault kind (as in the ``X-Sim-Fault`` header) → the share of requests that get it."""
        return {
            "error": self.error_rate, "429": self.rate_429, "disconnect": self.disconnect_rate,
            "malformed": self.malformed_rate, "stall": self.stall_rate, "error_200": self.error_200_rate,
        }

    @property
    def instant(self) -> bool:
        """Every latency is zero: no sleeping at all, and a streamed answer goes out in one write."""
        if self.latency_model == "fixed":
            return self.ttft_ms == 0 and self.itl_ms == 0
        if self.ttft_ms or self.itl_ms:
            return False
        return self.latency_model == "fixed" or not (self.prefill_ms_per_token or self.itl_ms_per_seq)
