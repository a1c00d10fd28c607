"""Generation settings sent with every request."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class GenerationConfig(BaseModel):
    """Sampling settings, named as in the OpenAI API (and vLLM/SGLang for ``top_k``, ``min_tokens``).

    ``None`` means "leave it to the server". ``extra_body`` is merged into the request body as is, e.g.
    ``{"chat_template_kwargs": {"enable_thinking": False}}``. ``n`` is the number of answers per prompt;
    the eval runner realises it as repeated requests so each answer is timed and cached on its own.
    """

    model_config = ConfigDict(extra="forbid")

    max_tokens: int | None = Field(default=None, ge=1)
    min_tokens: int | None = Field(default=None, ge=0)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = None
    n: int = Field(default=1, ge=1)
    seed: int | None = None
    stop: list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    repetition_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    extra_body: dict[str, Any] = Field(default_factory=dict)

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value

    def to_payload(self) -> dict[str, Any]:
        """The request-body fields for these settings (``n`` is not sent: one answer per request)."""
        body: dict[str, Any] = {}
        for name in (
            "max_tokens", "min_tokens", "temperature", "top_p", "top_k", "seed", "stop",
            "presence_penalty", "frequency_penalty", "repetition_penalty", "logprobs", "top_logprobs",
        ):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        body.update(self.extra_body)
        return body
