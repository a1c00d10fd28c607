"""The interface every model backend offers the eval runner."""

from __future__ import annotations

from typing import Any, Protocol

from assay.types import Completion, GenerationConfig, Message


class ModelBackend(Protocol):
    """Answers chat prompts. ``generate`` never raises for a failed request: it returns a ``Completion``
    whose ``error`` is set, so failures are recorded apart from answers."""

    name: str

    async def __aenter__(self) -> ModelBackend: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def generate(self, messages: list[Message], generation: GenerationConfig) -> Completion: ...

    # Backends that reach an OpenAI-compatible server also take ``tools=`` and ``tool_choice=`` keyword
    # arguments in ``generate`` (tool-calling benchmarks); the calls come back in ``Completion.tool_calls``.
    # Optional: ``async def complete(self, prompt: str, generation) -> Completion`` continues a raw prompt
    # (no chat template) for benchmarks that ask for it; without it they get the prompt as a chat message.

    def describe(self) -> dict[str, Any]:
        """What identifies the model in a run's fingerprint (no secrets)."""
        ...
