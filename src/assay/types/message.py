"""Chat messages."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["system", "user", "assistant", "tool", "developer"]


class Message(BaseModel):
    """One chat message. ``content`` is text, or a list of OpenAI content parts (text, image_url)."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str | list[dict[str, Any]]

    @classmethod
    def system(cls, text: str) -> Message:
        return cls(role="system", content=text)

    @classmethod
    def user(cls, content: str | list[dict[str, Any]]) -> Message:
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, text: str) -> Message:
        return cls(role="assistant", content=text)

    def text(self) -> str:
        """The message's text, with the text parts of a multi-part content joined."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.get("text", "") for part in self.content if part.get("type") == "text")
