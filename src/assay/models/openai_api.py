"""A model served behind an OpenAI-compatible API (vLLM, SGLang, ollama, a cloud API), through assay's client."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from assay.client import ClientConfig
from assay.client.config import DEFAULT_TOTAL_TIMEOUT_S
from assay.client.endpoints import EndpointClients, EndpointPolicy, url_list
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
        urls = url_list(api_url)
        self.configs = [ClientConfig(
            base_url=url, api_key=api_key, model=model, read_timeout_s=read_timeout_s,
            total_timeout_s=total_timeout_s, max_retries=max_retries, max_connections=max_connections,
        ) for url in urls]
        self.config = self.configs[0]
        self.endpoints = EndpointClients(self.configs, endpoint_policy)
        self.client = self.endpoints.first

    async def __aenter__(self) -> OpenAIAPIModel:
        await self.endpoints.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.endpoints.__aexit__(*exc_info)

    async def generate(self, messages: list[Message], generation: GenerationConfig, *,
                       tools: list[dict[str, Any]] | None = None,
                       tool_choice: str | dict[str, Any] | None = None) -> Completion:
        """One chat answer; with ``tools`` the model may call them (``Completion.tool_calls``)."""
        with self.endpoints.using() as (client, endpoint):
            completion = await client.chat(messages, generation=generation, stream=self.stream, capture_errors=True,
                                           tools=tools, tool_choice=tool_choice)
        return self._tagged(completion, endpoint)

    async def complete(self, prompt: str, generation: GenerationConfig) -> Completion:
        """Continue ``prompt`` through the ``/completions`` endpoint (no chat template)."""
        with self.endpoints.using() as (client, endpoint):
            completion = await client.complete(prompt, generation=generation, stream=self.stream, capture_errors=True)
        return self._tagged(completion, endpoint)

    def _tagged(self, completion: Completion, endpoint: str) -> Completion:
        # One endpoint: nothing to tell apart, and predictions stay as they were before several were allowed.
        if len(self.configs) > 1:
            completion.endpoint = endpoint
        return completion

    def describe(self) -> dict[str, Any]:
        labels = self.endpoints.labels
        return {"type": "openai_api", "model": self.name, "api_url": labels[0] if len(labels) == 1 else labels}
