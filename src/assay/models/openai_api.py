"""A model served behind an OpenAI-compatible API (vLLM, SGLang, ollama, a cloud API), through assay's client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from assay.client import ClientConfig
from assay.client.config import DEFAULT_TOTAL_TIMEOUT_S
from assay.client.endpoints import EndpointClients, EndpointPolicy, url_list
from assay.models.registry import register_backend
from assay.types import Completion, GenerationConfig, Message

if TYPE_CHECKING:
    from assay.eval.config import TaskConfig


class OpenAIArgs(BaseModel):
    """``model_args`` of ``openai_api``: the URL, key and timeouts are TaskConfig fields; only extras live here.

    Other keys are ignored with a warning (EvalScope configs carry keys this backend has no use for)."""

    model_config = ConfigDict(extra="ignore")

    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers sent with every request (a gateway's routing key...).")


@register_backend("openai_api", aliases=("service", "server", "openai"), args=OpenAIArgs,
                  summary="An OpenAI-compatible server (vLLM, SGLang, ollama, a cloud API) through assay's client.",
                  requires={"api_url": ""})
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
        headers: dict[str, str] | None = None,
    ) -> None:
        self.name = model
        self.stream = stream
        urls = url_list(api_url)
        self.configs = [ClientConfig(
            base_url=url, api_key=api_key, model=model, read_timeout_s=read_timeout_s,
            total_timeout_s=total_timeout_s, max_retries=max_retries, max_connections=max_connections,
            headers=dict(headers or {}),
        ) for url in urls]
        self.config = self.configs[0]
        self.endpoints = EndpointClients(self.configs, endpoint_policy)
        self.client = self.endpoints.first

    @classmethod
    def from_task(cls, task: TaskConfig, args: OpenAIArgs) -> OpenAIAPIModel:
        assert task.api_url  # TaskConfig refuses openai_api without one
        return cls(model=task.model_name, api_url=task.api_url, api_key=task.api_key,
                   endpoint_policy=task.endpoint_policy, headers=args.headers, **client_options(task))

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


def client_options(task: TaskConfig) -> dict[str, Any]:
    """The client settings a task gives every backend that talks HTTP (the API and the simulator)."""
    return dict(stream=task.stream, read_timeout_s=task.read_timeout, total_timeout_s=task.total_timeout,
                max_retries=task.max_retries, max_connections=task.eval_batch_size)
