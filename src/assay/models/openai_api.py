"""A model served behind an OpenAI-compatible API (vLLM, SGLang, ollama, a cloud API), through assay's client."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from assay.client import ClientConfig, OpenAIClient
from assay.client.config import DEFAULT_TOTAL_TIMEOUT_S
from assay.types import Completion, GenerationConfig, Message


class OpenAIAPIModel:
    """Chat (and raw-prompt) completions with retries on 429/5xx/timeouts/dropped connections; failures come back recorded."""

    def __init__(
        self,
        *,
        model: str,
        api_url: str,
        api_key: SecretStr | None = None,
        stream: bool = True,
        read_timeout_s: float = 600.0,
        total_timeout_s: float | None = DEFAULT_TOTAL_TIMEOUT_S,
        max_retries: int = 3,
        max_connections: int = 0,
    ) -> None:
        self.name = model
        self.stream = stream
        self.config = ClientConfig(
            base_url=api_url, api_key=api_key, model=model, read_timeout_s=read_timeout_s,
            total_timeout_s=total_timeout_s, max_retries=max_retries, max_connections=max_connections,
        )
        self.client = OpenAIClient(self.config)

    async def __aenter__(self) -> OpenAIAPIModel:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.close()

    async def generate(self, messages: list[Message], generation: GenerationConfig, *,
                       tools: list[dict[str, Any]] | None = None,
                       tool_choice: str | dict[str, Any] | None = None) -> Completion:
        """One chat answer; with ``tools`` the model may call them (``Completion.tool_calls``)."""
        return await self.client.chat(messages, generation=generation, stream=self.stream, capture_errors=True,
                                      tools=tools, tool_choice=tool_choice)

    async def complete(self, prompt: str, generation: GenerationConfig) -> Completion:
        """Continue ``prompt`` through the ``/completions`` endpoint (no chat template)."""
        return await self.client.complete(prompt, generation=generation, stream=self.stream, capture_errors=True)

    def describe(self) -> dict[str, Any]:
        return {"type": "openai_api", "model": self.name, "api_url": self.config.display_url}
