"""Replay: answers read from a JSONL file, so end-to-end tests know exactly what the "model" says.

One entry a line::

    {"prompt": "What is 2+2?", "response": "4", "reasoning": "Two plus two.", "finish_reason": "stop"}
    {"prompt_contains": "capital of France", "response": "Paris"}

An entry with ``prompt`` matches a prompt equal to it; one with ``prompt_contains`` matches a prompt that
contains it. Exact entries win; substring entries are tried in file order after them. The prompt is the
last user message's text for chat, the prompt string for completions.

An entry may answer with tool calls instead of (or after) text::

    {"prompt_contains": "weather in Paris", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}

``arguments`` is an object (written as JSON the way models write it) or a string sent exactly as given,
so a test can replay invalid JSON too. The calls go out only to a request that offers ``tools`` (and
are filtered by its ``tool_choice`` and ``parallel_tool_calls``), as a real server's would.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from assay.errors import ConfigError


class ReplayToolCall(BaseModel):
    """One function call a replayed answer makes."""

    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] | str = ""
    id: str | None = None

    def arguments_text(self) -> str:
        """The arguments as the model writes them: JSON with the usual spaces, or the given string."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)

    def call_id(self, index: int) -> str:
        """The given id, or one made from the call itself (the same call always gets the same id)."""
        if self.id:
            return self.id
        digest = hashlib.sha1(f"{index}:{self.name}:{self.arguments_text()}".encode()).hexdigest()
        return "call_" + digest[:24]


class ReplayEntry(BaseModel):
    """One recorded answer and the prompt it answers."""

    model_config = ConfigDict(extra="forbid")

    prompt: str | None = None
    prompt_contains: str | None = None
    response: str | None = None
    reasoning: str | None = None
    finish_reason: str | None = None
    tool_calls: list[ReplayToolCall] | None = None

    @model_validator(mode="after")
    def _one_key(self) -> ReplayEntry:
        if (self.prompt is None) == (self.prompt_contains is None):
            raise ValueError("give exactly one of 'prompt' and 'prompt_contains'")
        if self.response is None and not self.tool_calls:
            raise ValueError("give a 'response', 'tool_calls' or both")
        return self


class ReplayBook:
    """The entries of a replay file, looked up by prompt."""

    def __init__(self, entries: list[ReplayEntry]):
        self._exact: dict[str, ReplayEntry] = {}
        self._contains: list[ReplayEntry] = []
        for entry in entries:
            if entry.prompt is not None:
                # The first entry for a prompt wins, as the substring entries do.
                self._exact.setdefault(entry.prompt, entry)
            else:
                self._contains.append(entry)

    @classmethod
    def load(cls, path: Path) -> ReplayBook:
        """Read a replay file; a ``ConfigError`` naming the file and line if it cannot be read."""
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read replay file {path}: {exc.strerror or exc}") from None
        entries = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entries.append(ReplayEntry.model_validate_json(line))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                detail = f"{where}: {first['msg']}" if where else first["msg"]
                raise ConfigError(f"{path}:{number}: bad replay entry ({detail})") from None
        return cls(entries)

    def __len__(self) -> int:
        return len(self._exact) + len(self._contains)

    def match(self, prompt: str) -> ReplayEntry | None:
        """The entry answering ``prompt``, or ``None``."""
        entry = self._exact.get(prompt)
        if entry is not None:
            return entry
        for entry in self._contains:
            if entry.prompt_contains in prompt:  # type: ignore[operator]
                return entry
        return None
