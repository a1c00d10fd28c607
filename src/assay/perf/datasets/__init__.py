"""Prompt sets for load tests.

Each set answers ``prompt(index)`` for any request index: file-based sets cycle through their prompts,
synthetic sets build the prompt for an index from the seed, so every worker process sees the same prompts
and a 100,000-request run never holds 100,000 prompts in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from assay.errors import DatasetError
from assay.perf.config import PerfConfig
from assay.utils.tokenizer import Tokenizer


@dataclass(slots=True)
class Prompt:
    """What one request sends.

    ``turns`` holds the user turns of a conversation (``messages`` is the first request of it);
    ``input_tokens`` is the prompt's length when the prompt set knows it exactly (random prompts);
    ``documents`` are what a rerank request ranks against the query (the prompt's text); ``tools`` and
    ``tool_choice`` go into a chat request as they are (a tool-calling load test); ``max_tokens`` and
    ``min_tokens``, when set, replace the run's for this request (a replayed trace's recorded answer length).
    """

    messages: list[dict[str, Any]]
    input_tokens: int | None = None
    turns: list[str] | None = None
    documents: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    max_tokens: int | None = None
    min_tokens: int | None = None

    @property
    def text(self) -> str:
        """The prompt as one string (for the completions endpoint)."""
        parts = []
        for message in self.messages:
            content = message["content"]
            if isinstance(content, str):
                parts.append(content)
            else:
                parts.extend(p.get("text", "") for p in content if p.get("type") == "text")
        return "\n".join(parts)


class PromptSet(Protocol):
    """A source of prompts by request index."""

    name: str
    size: int | None  # distinct prompts; None = a new one for every index

    def prompt(self, index: int) -> Prompt: ...


class ListPromptSet:
    """Prompts held in a list, cycled when a plan asks for more requests than there are prompts."""

    def __init__(self, name: str, prompts: list[Prompt]) -> None:
        if not prompts:
            raise DatasetError(f"prompt set {name!r} is empty")
        self.name = name
        self.size = len(prompts)
        self._prompts = prompts

    def prompt(self, index: int) -> Prompt:
        return self._prompts[index % len(self._prompts)]


Loader = Callable[[PerfConfig, "Tokenizer | None"], PromptSet]
_LOADERS: dict[str, Loader] = {}


def register_prompt_set(name: str) -> Callable[[Loader], Loader]:
    """Register a prompt-set loader under ``name`` (the value of ``--dataset``)."""

    def decorate(loader: Loader) -> Loader:
        _LOADERS[name] = loader
        return loader

    return decorate


def load_prompt_set(config: PerfConfig, tokenizer: Tokenizer | None) -> PromptSet:
    """The prompt set the config names (``--trace`` overrides ``--prompt``, which overrides ``--dataset``)."""
    from assay.perf.datasets import files, pooling, synthetic  # noqa: F401 - registers the loaders

    if config.trace:
        from assay.perf.datasets.trace import trace_prompt_set

        return trace_prompt_set(config, tokenizer)
    if config.prompt:
        return ListPromptSet("prompt", [Prompt([{"role": "user", "content": config.prompt}])])
    try:
        loader = _LOADERS[config.dataset]
    except KeyError:
        raise DatasetError(f"unknown prompt set {config.dataset!r} (known: {', '.join(sorted(_LOADERS))})") from None
    return loader(config, tokenizer)


def prompt_set_names() -> list[str]:
    from assay.perf.datasets import files, pooling, synthetic  # noqa: F401

    return sorted(_LOADERS)


__all__ = ["ListPromptSet", "Prompt", "PromptSet", "load_prompt_set", "prompt_set_names", "register_prompt_set"]
