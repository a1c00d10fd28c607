"""Writing OpenAI-style responses: JSON bodies, SSE streams and error objects, as bytes.

Token chunks are the hot path of every benchmark against the simulator, so they are built from
byte templates (a prefix and suffix per request and choice around the JSON-encoded token) instead of
serialising a dict per token. The other frames are rare and go through ``orjson``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import orjson

from assay.sim.answers import Answer, filler_vocabulary
from assay.sim.protocol import GenRequest

DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
JSON_HEADERS = {"Content-Type": "application/json"}

# JSON strings of the tokens filler answers are made of, encoded once.
_ENCODED = {token: orjson.dumps(token) for token in filler_vocabulary()}

_ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
    405: "invalid_request_error", 429: "rate_limit_error", 500: "server_error",
}


def error_object(status: int, message: str) -> dict:
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": _ERROR_TYPES.get(status, "server_error"), "param": None,
                      "code": status}}


@dataclass(frozen=True)
class StreamPlan:
    """A streamed response cut at token steps.

    ``head`` goes out with step 0 (the role frames of a chat stream); ``steps[k]`` holds every chunk of
    token step ``k`` (one token per choice) plus the finish chunk of each choice that ends there;
    ``tail`` is the usage chunk (if asked for) and ``[DONE]``, sent with the last step.
    """

    head: bytes
    steps: list[bytes]
    tail: bytes

    def whole(self) -> bytes:
        return self.head + b"".join(self.steps) + self.tail


class Renderer:
    """Builds one response's bytes: the id, creation time and model are fixed per response."""

    def __init__(self, request: GenRequest):
        self.request = request
        self.chat = request.endpoint == "chat"
        prefix = "chatcmpl-" if self.chat else "cmpl-"
        self.id = prefix + uuid.uuid4().hex
        self.created = int(time.time())
        self.object = "chat.completion" if self.chat else "text_completion"
        self.chunk_object = "chat.completion.chunk" if self.chat else "text_completion"

    # --- non-streamed ---------------------------------------------------------------------------------
    def body(self, answers: list[Answer]) -> bytes:
        """The whole JSON response, usage included."""
        choices = [self._choice(index, answer) for index, answer in enumerate(answers)]
        return orjson.dumps({
            "id": self.id, "object": self.object, "created": self.created, "model": self.request.model,
            "choices": choices, "usage": self.usage(answers),
        })

    def _choice(self, index: int, answer: Answer) -> dict:
        if not self.chat:
            return {"index": index, "text": answer.content_text, "logprobs": None,
                    "finish_reason": answer.finish_reason}
        message: dict = {"role": "assistant", "content": answer.content_text}
        reasoning = answer.reasoning_text
        if reasoning is not None:
            message["reasoning_content"] = reasoning
        if answer.tool_calls:
            # OpenAI's shape: a message that only calls tools has null content.
            message["content"] = message["content"] or None
            message["tool_calls"] = [call.to_openai() for call in answer.tool_calls]
        return {"index": index, "message": message, "logprobs": None, "finish_reason": answer.finish_reason}

    def usage(self, answers: list[Answer]) -> dict:
        """Usage over all choices; reasoning tokens (with think tags when inline) count as completion."""
        completion = sum(answer.completion_tokens for answer in answers)
        reasoning = sum(answer.reasoning_count for answer in answers)
        prompt = self.request.prompt_tokens
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                "completion_tokens_details": {"reasoning_tokens": reasoning}}

    # --- streamed -------------------------------------------------------------------------------------
    def stream(self, answers: list[Answer]) -> StreamPlan:
        """The stream of ``answers`` cut into token steps (at least one step, even for empty answers)."""
        head, tail = self._head(answers), self._tail(answers)
        if len(answers) == 1:  # the common case, without the regrouping below
            steps = self._token_chunks(0, answers[0]) or [b""]
            steps[-1] += self._finish_chunk(0, answers[0].finish_reason)
            return StreamPlan(head, steps, tail)
        step_count = max(1, max(answer.completion_tokens for answer in answers))
        parts: list[list[bytes]] = [[] for _ in range(step_count)]
        for index, answer in enumerate(answers):
            for step, chunk in enumerate(self._token_chunks(index, answer)):
                parts[step].append(chunk)
            last_step = max(0, answer.completion_tokens - 1)
            parts[last_step].append(self._finish_chunk(index, answer.finish_reason))
        return StreamPlan(head, [b"".join(step) for step in parts], tail)

    def _head(self, answers: list[Answer]) -> bytes:
        # vLLM opens every chat stream with a role-only frame; a client must not take it for the first token.
        return b"".join(self._role_chunk(index) for index in range(len(answers))) if self.chat else b""

    def _tail(self, answers: list[Answer]) -> bytes:
        return self._usage_chunk(answers) + DONE if self.request.include_usage else DONE

    def _frame(self, choices: list[dict], **extra: object) -> bytes:
        event = {"id": self.id, "object": self.chunk_object, "created": self.created,
                 "model": self.request.model, "choices": choices, **extra}
        return b"data: " + orjson.dumps(event) + b"\n\n"

    def _role_chunk(self, index: int) -> bytes:
        return self._frame([{"index": index, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                             "finish_reason": None}])

    def _finish_chunk(self, index: int, finish_reason: str) -> bytes:
        if self.chat:
            choice = {"index": index, "delta": {}, "logprobs": None, "finish_reason": finish_reason}
        else:
            choice = {"index": index, "text": "", "logprobs": None, "finish_reason": finish_reason}
        return self._frame([choice])

    def _usage_chunk(self, answers: list[Answer]) -> bytes:
        return self._frame([], usage=self.usage(answers))

    def _template(self, index: int, field: str) -> tuple[bytes, bytes]:
        """The bytes before and after a token's JSON string in a chunk of choice ``index``."""
        head = orjson.dumps({"id": self.id, "object": self.chunk_object, "created": self.created,
                             "model": self.request.model})[:-1]
        if self.chat:
            opening = b',"choices":[{"index":%d,"delta":{"%s":' % (index, field.encode())
            closing = b'},"logprobs":null,"finish_reason":null}]}\n\n'
        else:
            opening = b',"choices":[{"index":%d,"text":' % index
            closing = b',"logprobs":null,"finish_reason":null}]}\n\n'
        return b"data: " + head + opening, closing

    def _runs(self, index: int, answer: Answer) -> list[tuple[bytes, bytes, list[bytes]]]:
        """The answer's tokens JSON-encoded, in runs that share a template: (prefix, suffix, tokens)."""
        encoded = [_ENCODED.get(token) or orjson.dumps(token) for token in answer.tokens]
        split = answer.reasoning_count if (self.chat and answer.reasoning_field) else 0
        content_prefix, suffix = self._template(index, "content")
        runs = [(content_prefix, suffix, encoded[split:])]
        if split:
            runs.insert(0, (self._template(index, "reasoning_content")[0], suffix, encoded[:split]))
        return runs

    def _token_chunks(self, index: int, answer: Answer) -> list[bytes]:
        """One SSE event per token (a tool call's name is one, then one per argument token)."""
        chunks = [prefix + token + suffix for prefix, suffix, run in self._runs(index, answer) for token in run]
        for position, call in enumerate(answer.tool_calls):
            # As vLLM streams them: id, type and name first with empty arguments, then argument pieces.
            opening = {"index": position, "id": call.id, "type": "function",
                       "function": {"name": call.name, "arguments": ""}}
            chunks.append(self._tool_chunk(index, opening))
            chunks.extend(self._tool_chunk(index, {"index": position, "function": {"arguments": piece}})
                          for piece in call.pieces)
        return chunks

    def _tool_chunk(self, index: int, fragment: dict) -> bytes:
        return self._frame([{"index": index, "delta": {"tool_calls": [fragment]}, "logprobs": None,
                             "finish_reason": None}])

    def stream_bytes(self, answers: list[Answer]) -> bytes:
        """The whole stream at once (what ``stream(answers).whole()`` gives, built faster)."""
        if len(answers) != 1 or answers[0].tool_calls:
            return self.stream(answers).whole()
        # Joining with suffix + prefix as the separator builds every token's event in one C-level call.
        body = b"".join(prefix + (suffix + prefix).join(run) + suffix
                        for prefix, suffix, run in self._runs(0, answers[0]) if run)
        finish = self._finish_chunk(0, answers[0].finish_reason)
        return self._head(answers) + body + finish + self._tail(answers)


def malformed_event() -> bytes:
    """An SSE event whose data is cut-off JSON, as a broken proxy or server might send."""
    return b'data: {"id": "broken", "choices": [{"index": 0, "delta": {"content": "\n\n'


def malformed_body() -> bytes:
    """A 200 body that is not JSON."""
    return b'{"id": "broken", "object": "chat.completion", "choices": [{"index": 0, "message": '
