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

    def describe(self) -> dict[str, Any]:
        """What identifies the model in a run's fingerprint (no secrets)."""
        ...
