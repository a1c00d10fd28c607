"""A model served behind an OpenAI-compatible API (vLLM, SGLang, ollama, a cloud API), through assay's client."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from assay.client import ClientConfig, OpenAIClient
from assay.client.config import DEFAULT_TOTAL_TIMEOUT_S
from assay.client.endpoints import EndpointPicker, EndpointPolicy
from assay.types import Completion, GenerationConfig, Message


class OpenAIAPIModel:
    """Chat (and raw-prompt) completions with retries on 429/5xx/timeouts/dropped connections; failures come back recorded.

    ``api_url`` may list several replicas of the model: each request goes to the one ``endpoint_policy`` picks
    (the eval runner's pool still bounds the requests in flight over all of them), its retries stay there, and
    its ``Completion.endpoint`` says which answered.
    """

    def __init__(
        self,
        *,
        model: str,
        api_url: str | list[str],
        api_key: SecretStr | None = None,
        stream: bool = True,
        read_timeout_s: float = 600.0,
        total_timeout_s: float | None = DEFAULT_TOTAL_TIMEOUT_S,
        max_retries: int = 3,
        max_connections: int = 0,
        endpoint_policy: EndpointPolicy = "round-robin",
    ) -> None:
        self.name = model
        self.stream = stream
        urls = [api_url] if isinstance(api_url, str) else list(api_url)
        self.configs = [ClientConfig(
            base_url=url, api_key=api_key, model=model, read_timeout_s=read_timeout_s,
            total_timeout_s=total_timeout_s, max_retries=max_retries, max_connections=max_connections,
        ) for url in urls]
        self.config = self.configs[0]
        self.clients = [OpenAIClient(config) for config in self.configs]
        self.client = self.clients[0]
        self.picker = EndpointPicker(len(self.clients), endpoint_policy)

    async def __aenter__(self) -> OpenAIAPIModel:
        for client in self.clients:
            await client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for client in self.clients:
            await client.close()

    async def generate(self, messages: list[Message], generation: GenerationConfig, *,
                       tools: list[dict[str, Any]] | None = None,
                       tool_choice: str | dict[str, Any] | None = None) -> Completion:
        """One chat answer; with ``tools`` the model may call them (``Completion.tool_calls``)."""
        with self.picker.using() as index:
            completion = await self.clients[index].chat(messages, generation=generation, stream=self.stream,
                                                        capture_errors=True, tools=tools, tool_choice=tool_choice)
        return self._tagged(completion, index)

    async def complete(self, prompt: str, generation: GenerationConfig) -> Completion:
        """Continue ``prompt`` through the ``/completions`` endpoint (no chat template)."""
        with self.picker.using() as index:
            completion = await self.clients[index].complete(prompt, generation=generation, stream=self.stream,
                                                            capture_errors=True)
        return self._tagged(completion, index)

    def _tagged(self, completion: Completion, index: int) -> Completion:
        # One endpoint: nothing to tell apart, and predictions stay as they were before several were allowed.
        if len(self.clients) > 1:
            completion.endpoint = self.configs[index].display_url
        return completion

    def describe(self) -> dict[str, Any]:
        if len(self.configs) == 1:
            return {"type": "openai_api", "model": self.name, "api_url": self.config.display_url}
        return {"type": "openai_api", "model": self.name, "api_url": [c.display_url for c in self.configs]}
