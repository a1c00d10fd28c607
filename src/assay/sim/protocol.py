"""Reading OpenAI-style requests: the bodies of /v1/chat/completions and /v1/completions.

Bodies are validated strictly (a string where a number belongs is a 400, as on OpenAI's API); fields the
simulator does not use (temperature, ...) are accepted and ignored. ``tools``, ``tool_choice`` and
``parallel_tool_calls`` decide which of a replayed answer's tool calls go out. vLLM's extensions
``min_tokens``, ``ignore_eos`` and ``chat_template_kwargs`` are understood. Any model name is accepted
and echoed back, so clients configured for a real model can point at the simulator unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.sim.answers import DEFAULT_MAX_TOKENS, ReasoningMode, count_tokens
from assay.sim.replay import ReplayToolCall

Endpoint = Literal["chat", "completions"]


class BadRequest(ValueError):
    """A request body the simulator answers with 400; the message says what is wrong."""


class _StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    include_usage: bool = False


class _ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")


class _CommonBody(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    min_tokens: int = Field(default=0, ge=0)
    ignore_eos: bool = False
    n: int = Field(default=1, ge=1, le=128)
    stream: bool = False
    stream_options: _StreamOptions | None = None
    chat_template_kwargs: dict[str, Any] | None = None


class _ChatBody(_CommonBody):
    messages: list[_ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None


@dataclass(frozen=True)
class ToolOffer:
    """The tools a chat request offers, and how it lets the model use them."""

    names: frozenset[str] = frozenset()
    choice: str | None = None  # "auto", "none", "required", or the one function name it forces
    parallel: bool = True

    def admit(self, calls: list[ReplayToolCall] | None) -> list[ReplayToolCall]:
        """The calls a model could make under this offer: none without tools or with ``tool_choice: none``,
        only the forced function's, at most one when ``parallel_tool_calls`` is false."""
        if not calls or not self.names or self.choice == "none":
            return []
        if self.choice not in (None, "auto", "required"):
            calls = [call for call in calls if call.name == self.choice]
        return calls if self.parallel else calls[:1]


def _tool_offer(body: _ChatBody) -> ToolOffer:
    names = set()
    for tool in body.tools or ():
        function = tool.get("function")
        if tool.get("type") != "function" or not isinstance(function, dict) or not function.get("name"):
            raise BadRequest("tools: each tool needs type 'function' and a function with a name")
        names.add(function["name"])
    choice = body.tool_choice
    if isinstance(choice, dict):
        function = choice.get("function")
        if not isinstance(function, dict) or function.get("name") not in names:
            raise BadRequest("tool_choice: the named function is not one of the tools")
        choice = function["name"]
    elif choice not in (None, "auto", "none", "required"):
        raise BadRequest("tool_choice: must be 'auto', 'none', 'required' or a named function")
    if choice is not None and choice != "none" and not names:
        raise BadRequest("tool_choice: set without any tools")
    return ToolOffer(frozenset(names), choice, body.parallel_tool_calls is not False)


class _CompletionsBody(_CommonBody):
    prompt: str | list[str] | list[int]


@dataclass(frozen=True)
class GenRequest:
    """What the simulator needs from a generation request, validated and with defaults resolved.

    ``prompt_text`` is what replay entries are matched against: the last user message (chat) or the
    prompt string (completions; ``None`` for token-id prompts). ``reasoning`` is the mode this request
    gets: the server's, turned off by ``enable_thinking: false``, and inline on the completions endpoint,
    which has no reasoning field.
    """

    endpoint: Endpoint
    model: str
    prompt_text: str | None
    prompt_tokens: int
    max_tokens: int
    min_tokens: int
    ignore_eos: bool
    n: int
    stream: bool
    include_usage: bool
    reasoning: ReasoningMode
    tools: ToolOffer = ToolOffer()


def _describe(exc: ValidationError) -> str:
    """The first problem of a validation error as one line, e.g. ``messages: Field required``."""
    error = exc.errors()[0]
    if error["type"] == "json_invalid":
        return "the body is not valid JSON"
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _reasoning_mode(
    server_mode: ReasoningMode, endpoint: Endpoint, template_kwargs: dict[str, Any] | None
) -> ReasoningMode:
    if template_kwargs and template_kwargs.get("enable_thinking") is False:
        return "none"
    if endpoint == "completions" and server_mode == "field":
        return "inline"
    return server_mode


def _chat_prompt(messages: list[_ChatMessage]) -> tuple[str | None, int]:
    """The last user message's text (for replay) and the token count of all messages."""
    texts = [message.text() for message in messages]
    user_texts = [text for message, text in zip(messages, texts) if message.role == "user"]
    last_user = user_texts[-1] if user_texts else None
    return last_user, sum(count_tokens(text) for text in texts)


def _completions_prompt(prompt: str | list[str] | list[int]) -> tuple[str | None, int]:
    """The prompt text (for replay) and its token count; token-id prompts count their ids."""
    if isinstance(prompt, str):
        return prompt, count_tokens(prompt)
    if not prompt:
        raise BadRequest("prompt: must not be empty")
    if isinstance(prompt[0], int):
        return None, len(prompt)
    if len(prompt) != 1:
        raise BadRequest("prompt: the simulator answers one prompt per request, not a batch")
    return prompt[0], count_tokens(prompt[0])  # type: ignore[arg-type]


def parse_request(
    raw: bytes, endpoint: Endpoint, *, default_model: str, reasoning: ReasoningMode,
    max_model_len: int | None = None,
) -> GenRequest:
    """Validate a request body; ``BadRequest`` with a one-line reason if it is not acceptable (as vLLM does, a
    prompt plus max_tokens beyond ``max_model_len``; with no max_tokens the answer gets what the prompt leaves)."""
    try:
        if endpoint == "chat":
            chat = _ChatBody.model_validate_json(raw)
            body: _CommonBody = chat
            prompt_text, prompt_tokens = _chat_prompt(chat.messages)
            max_tokens = chat.max_completion_tokens or chat.max_tokens
            tools = _tool_offer(chat)
        else:
            text_body = _CompletionsBody.model_validate_json(raw)
            body = text_body
            prompt_text, prompt_tokens = _completions_prompt(text_body.prompt)
            max_tokens = text_body.max_tokens
            tools = ToolOffer()
    except ValidationError as exc:
        raise BadRequest(_describe(exc)) from None
    if max_model_len is not None:
        if prompt_tokens >= max_model_len or (max_tokens and prompt_tokens + max_tokens > max_model_len):
            raise BadRequest(
                f"This model's maximum context length is {max_model_len} tokens. However, you requested "
                f"{prompt_tokens + (max_tokens or 0)} tokens ({prompt_tokens} in the messages, {max_tokens or 0} in "
                "the completion). Please reduce the length of the messages or completion.")
        max_tokens = max_tokens or min(DEFAULT_MAX_TOKENS, max_model_len - prompt_tokens)
    max_tokens = max_tokens or DEFAULT_MAX_TOKENS
    if body.min_tokens > max_tokens:
        raise BadRequest(f"min_tokens ({body.min_tokens}) must not exceed max_tokens ({max_tokens})")
    return GenRequest(
        endpoint=endpoint,
        model=body.model or default_model,
        prompt_text=prompt_text,
        prompt_tokens=prompt_tokens,
        max_tokens=max_tokens,
        min_tokens=body.min_tokens,
        ignore_eos=body.ignore_eos,
        n=body.n,
        stream=body.stream,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
        reasoning=_reasoning_mode(reasoning, endpoint, body.chat_template_kwargs),
        tools=tools,
    )
