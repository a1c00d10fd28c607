"""The simulated server, started in this process: ``eval_type='sim'`` runs a whole evaluation with no GPU."""

from __future__ import annotations

from typing import Any

from assay.client.config import DEFAULT_TOTAL_TIMEOUT_S
from assay.errors import ConfigError
from assay.models.openai_api import OpenAIAPIModel
from assay.types import Completion, GenerationConfig, Message


class SimModel:
    """Starts ``SimServer(SimConfig(**model_args))`` on a free loopback port and talks to it with the client.

    Use ``model_args={"replay": "answers.jsonl"}`` to make it answer from a file, so scores are known.
    """

    def __init__(self, *, model: str, model_args: dict[str, Any], stream: bool = True, read_timeout_s: float = 600.0,
                 total_timeout_s: float | None = DEFAULT_TOTAL_TIMEOUT_S, max_retries: int = 3,
                 max_connections: int = 0) -> None:
        from assay.sim import SimConfig

        self.name = model
        self.model_args = dict(model_args)
        try:
            self.sim_config = SimConfig(**{"port": 0, **self.model_args})
        except Exception as exc:  # pydantic's ValidationError, named in one line
            raise ConfigError(f"bad --model-args for the simulator: {str(exc).splitlines()[0]}") from None
        self._options = dict(stream=stream, read_timeout_s=read_timeout_s, total_timeout_s=total_timeout_s,
                             max_retries=max_retries, max_connections=max_connections)
        self._server: Any = None
        self._api: OpenAIAPIModel | None = None

    async def __aenter__(self) -> SimModel:
        from assay.sim import SimServer

        self._server = SimServer(self.sim_config)
        await self._server.__aenter__()
        api_key = getattr(self.sim_config, "api_key", None)
        self._api = OpenAIAPIModel(model=self.name, api_url=self._server.base_url, api_key=api_key, **self._options)
        await self._api.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._api is not None:
            await self._api.__aexit__(*exc_info)
        if self._server is not None:
            await self._server.__aexit__(*exc_info)

    async def generate(self, messages: list[Message], generation: GenerationConfig, *,
                       tools: list[dict[str, Any]] | None = None,
                       tool_choice: str | dict[str, Any] | None = None) -> Completion:
        assert self._api is not None, "use `async with SimModel(...)`"
        return await self._api.generate(messages, generation, tools=tools, tool_choice=tool_choice)

    async def complete(self, prompt: str, generation: GenerationConfig) -> Completion:
        assert self._api is not None, "use `async with SimModel(...)`"
        return await self._api.complete(prompt, generation)

    def describe(self) -> dict[str, Any]:
        args = {k: v for k, v in self.model_args.items() if k not in ("api_key", "port", "host")}
        return {"type": "sim", "model": self.name, "model_args": args}
