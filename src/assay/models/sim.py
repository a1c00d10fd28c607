"""The simulated server, started in this process: ``eval_type='sim'`` runs a whole evaluation with no GPU."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from assay.client.config import DEFAULT_TOTAL_TIMEOUT_S
from assay.models.openai_api import OpenAIAPIModel, client_options
from assay.models.registry import register_backend
from assay.sim.config import SimConfig
from assay.types import Completion, GenerationConfig, Message

if TYPE_CHECKING:
    from assay.eval.config import TaskConfig


class SimArgs(SimConfig):
    """``model_args`` of ``sim``: the simulator's own settings (``SimConfig``), on any free port by default.

    An unknown key is an error: a misspelt ``replay_path`` would otherwise answer filler and score zero."""

    port: int = Field(default=0, ge=0, le=65535, description="Port to listen on (0: any free port).")


@register_backend("sim", aliases=("mock_llm",), args=SimArgs,
                  summary="The simulator, started in-process: a whole evaluation with no GPU (replay files for "
                          "known answers).",
                  args_note="the simulator's settings (`SimConfig`, `assay sim --help`): `replay_path`, "
                            "`reasoning`, `latency_model`, `ttft_ms`, `itl_ms`, `output_len`, fault rates...")
class SimModel:
    """Starts ``SimServer(SimConfig(**model_args))`` on a free loopback port and talks to it with the client.

    Use ``model_args={"replay": "answers.jsonl"}`` to make it answer from a file, so scores are known.
    """

    def __init__(self, *, model: str, model_args: dict[str, Any], stream: bool = True, read_timeout_s: float = 600.0,
                 total_timeout_s: float | None = DEFAULT_TOTAL_TIMEOUT_S, max_retries: int = 3,
                 max_connections: int = 0, args: SimArgs | None = None) -> None:
        from assay.models.registry import get_backend

        self.name = model
        self.model_args = dict(model_args)
        self.sim_config: SimConfig = args or get_backend("sim").parse_args(self.model_args)  # type: ignore[assignment]
        self._options = dict(stream=stream, read_timeout_s=read_timeout_s, total_timeout_s=total_timeout_s,
                             max_retries=max_retries, max_connections=max_connections)
        self._server: Any = None
        self._api: OpenAIAPIModel | None = None

    @classmethod
    def from_task(cls, task: TaskConfig, args: SimArgs) -> SimModel:
        # The raw model_args, not ``args``: describe() (the run's fingerprint) lists the keys as they were given.
        return cls(model=task.model_name, model_args=task.model_args, args=args, **client_options(task))

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
