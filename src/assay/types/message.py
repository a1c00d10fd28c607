"""Chat messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

if TYPE_CHECKING:
    from assay.types.completion import ToolCall

Role = Literal["system", "user", "assistant", "tool", "developer"]
_TOOL_FIELDS = ("tool_calls", "tool_call_id", "name")


class Message(BaseModel):
    """One chat message. ``content`` is text, or a list of OpenAI content parts (text, image_url).

    An assistant message that called tools carries them in ``tool_calls`` (OpenAI's shape, its content may
    be ``None``); a ``tool`` message answers the call named by ``tool_call_id``.
    """

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str | list[dict[str, Any]] | None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    @model_serializer(mode="wrap")
    def _without_empty_tool_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A plain message is written as {role, content}, as before tool calls existed: stored predictions,
        # golden prompts and cache keys stay the same.
        data = handler(self)
        for key in _TOOL_FIELDS:
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @classmethod
    def system(cls, text: str) -> Message:
        return cls(role="system", content=text)

    @classmethod
    def user(cls, content: str | list[dict[str, Any]]) -> Message:
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, text: str | None, tool_calls: list[ToolCall] | None = None) -> Message:
        """An assistant turn; pass the ``ToolCall`` s of a ``Completion`` to continue a tool conversation."""
        calls = [call.to_openai() for call in tool_calls] if tool_calls else None
        return cls(role="assistant", content=text, tool_calls=calls)

    @classmethod
    def tool(cls, tool_call_id: str | None, content: str, name: str | None = None) -> Message:
        """The result of one tool call, sent back to the model."""
        return cls(role="tool", content=content, tool_call_id=tool_call_id, name=name)

    def text(self) -> str:
        """The message's text, with the text parts of a multi-part content joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.get("text", "") for part in self.content if part.get("type") == "text")
