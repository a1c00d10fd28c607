"""What a model answered, how long it took, and what went wrong."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

TokenSource = Literal["server", "tokenizer", "none"]
NS_PER_S = 1_000_000_000


class Usage(BaseModel):
    """Token counts, and where they came from (``server`` usage, a local ``tokenizer``, or ``none``)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None
    source: TokenSource = "none"


class Timings(BaseModel):
    """Timestamps of one request, all from ``time.perf_counter_ns`` taken as bytes arrived.

    ``request_created_ns`` is when the caller asked for the request; ``request_start_ns`` when its bytes
    went to the socket (their difference is the client's own send lag, which a loaded client would
    otherwise charge to the server). ``chunk_ns`` holds one timestamp per stream event that carried
    content or reasoning (several events read in one socket read share a timestamp, which is when their
    bytes arrived). For a non-streamed request it is empty and ``first_token_ns`` is when the body
    finished arriving.
    """

    request_created_ns: int | None = None
    request_start_ns: int = 0
    headers_ns: int | None = None
    first_byte_ns: int | None = None
    first_token_ns: int | None = None
    first_content_ns: int | None = None
    done_ns: int | None = None
    chunk_ns: list[int] = Field(default_factory=list)

    def _since_start_s(self, stamp: int | None) -> float | None:
        return None if stamp is None else (stamp - self.request_start_ns) / NS_PER_S

    @property
    def send_lag_s(self) -> float | None:
        """How long the client held the request before its bytes went out (its own queueing)."""
        if self.request_created_ns is None:
            return None
        return (self.request_start_ns - self.request_created_ns) / NS_PER_S

    @property
    def time_to_first_token_s(self) -> float | None:
        """From sending the request to the first non-empty content or reasoning delta."""
        return self._since_start_s(self.first_token_ns)

    @property
    def time_to_first_content_s(self) -> float | None:
        """From sending the request to the first answer (not reasoning) text."""
        return self._since_start_s(self.first_content_ns)

    @property
    def latency_s(self) -> float | None:
        """End-to-end latency: from sending the request to the end of the response."""
        return self._since_start_s(self.done_ns)

    def inter_chunk_gaps_s(self) -> list[float]:
        """The gap between each pair of consecutive token-carrying chunks (ITL samples; TTFT excluded)."""
        stamps = self.chunk_ns
        return [(b - a) / NS_PER_S for a, b in zip(stamps, stamps[1:])]


class ErrorInfo(BaseModel):
    """A failed request, kept apart from the answer: ``kind`` is the ``ClientError.kind`` tag."""

    kind: str
    message: str
    status: int | None = None


class ToolCall(BaseModel):
    """One function call a model asked for, as the OpenAI API carries it.

    ``arguments`` is the JSON text exactly as the model wrote it (a model may write invalid JSON, which a
    tool-calling benchmark must see); ``parsed_arguments`` decodes it. ``index`` is the call's position
    in the streamed ``delta.tool_calls`` (the order the model emitted the calls in).
    """

    id: str | None = None
    type: str = "function"
    name: str = ""
    arguments: str = ""
    index: int = 0

    @property
    def parsed_arguments(self) -> dict[str, Any] | None:
        """The arguments as a JSON object; ``None`` if they are not valid JSON or not an object."""
        if not self.arguments.strip():
            return {}
        try:
            value = orjson.loads(self.arguments)
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    def to_openai(self) -> dict[str, Any]:
        """The call as an assistant message's ``tool_calls`` entry (to send the conversation back)."""
        return {"id": self.id, "type": self.type, "function": {"name": self.name, "arguments": self.arguments}}


class Completion(BaseModel):
    """One answer of a model: text and reasoning kept apart, tool calls, usage, timings, and the error if it failed."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    text: str = ""
    reasoning: str | None = None
    finish_reason: str | None = None
    model: str | None = None
    response_id: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    timings: Timings = Field(default_factory=Timings)
    chunk_count: int = 0
    attempts: int = 1
    error: ErrorInfo | None = None
    # A multi-turn conversation (``Benchmark.next_turn``: multi_if, mt_bench): this is its last answer, these the
    # earlier ones in order, so that grading (and re-grading on resume) sees the whole conversation.
    turns: list[Completion] = Field(default_factory=list)

    # Which endpoint answered, as its redacted base URL: set when requests are spread over several (api_url list).
    endpoint: str | None = None

    @model_serializer(mode="wrap")
    def _without_empty_extras(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # One-turn, one-endpoint predictions are written as they were before either existed.
        data = handler(self)
        if isinstance(data, dict):
            if not data.get("turns"):
                data.pop("turns", None)
            if data.get("endpoint") is None:
                data.pop("endpoint", None)
        return data

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def truncated(self) -> bool:
        """The answer hit the token limit (or the reasoning never closed)."""
        return self.finish_reason == "length"
