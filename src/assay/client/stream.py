"""One parser for OpenAI-style responses: SSE framing, chunk deltas, and the final JSON body.

Perf and eval share it, so a protocol quirk is fixed once. The hot path is written for speed: the client
must keep up with servers that send hundreds of thousands of chunks per second. Every socket read is
decoded as a block: the complete events in it are turned into one JSON array and parsed with a single
``orjson.loads`` call (a JSON payload cannot hold a raw newline, so ``\n\ndata: `` only ever separates
events), and their deltas are folded in one loop. Anything unusual (comments, ``event:`` lines,
multi-line data, a bad chunk) takes the general path, which parses event by event. Substring scans of
the block are avoided on purpose: on a 40 kB read each costs more than the whole delta loop.
"""

from __future__ import annotations

from typing import Any

import orjson

from assay.errors import MalformedResponseError, ServerReportedError
from assay.types.completion import Completion, Timings, ToolCall, Usage

DONE = object()


class SSEDecoder:
    """Splits a byte stream into the ``data`` payloads of server-sent events."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes read from the socket; return the data payloads of every event now complete."""
        buffer = self._buffer + data if self._buffer else data
        if b"\r" in buffer:
            # CRLF framing; a lone trailing CR waits for its LF in the next read.
            buffer = buffer.replace(b"\r\n", b"\n")
        payloads: list[bytes] = []
        start = 0
        while True:
            end = buffer.find(b"\n\n", start)
            if end < 0:
                break
            event = buffer[start:end]
            start = end + 2
            if event.startswith(b"data:") and b"\n" not in event:
                payloads.append(event[5:].strip())
            elif event:
                payload = _data_of_event(event)
                if payload is not None:
                    payloads.append(payload)
        self._buffer = buffer[start:]
        return payloads

    def feed_events(self, data: bytes) -> tuple[list[Any], bool]:
        """Add bytes; return the parsed JSON of every event now complete, and whether ``[DONE]`` came."""
        buffer = self._buffer + data if self._buffer else data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return [], False
        block = buffer[:end]
        self._buffer = buffer[end + 2:]
        if block.startswith(b"data: "):
            # Plain "data: {json}" events become one JSON array; any other newline left means
            # comments, other fields or multi-line data, which the general path handles.
            body = block[6:].replace(b"\n\ndata: ", b",")
            done = body.endswith(b"[DONE]")
            if done:
                body = body[:-6].rstrip(b",")
            if b"\n" not in body:
                try:
                    return (orjson.loads(b"[" + body + b"]") if body else []), done
                except orjson.JSONDecodeError:
                    pass  # the general path names the bad chunk
        return _parse_block(block + b"\n\n")

    def flush(self) -> list[bytes]:
        """The payload of a last event the server did not terminate with a blank line."""
        rest, self._buffer = self._buffer.strip(), b""
        if not rest:
            return []
        payload = _data_of_event(rest)
        return [] if payload is None else [payload]


def _parse_block(block: bytes) -> tuple[list[Any], bool]:
    events: list[Any] = []
    for payload in SSEDecoder().feed(block):
        if payload == b"[DONE]":
            return events, True
        try:
            events.append(orjson.loads(payload))
        except orjson.JSONDecodeError:
            raise MalformedResponseError(f"stream chunk is not JSON: {payload[:120]!r}") from None
    return events, False


def _data_of_event(event: bytes) -> bytes | None:
    # Multi-line event: join its data lines; ignore comments (":...") and other fields (event:, id:).
    lines = [line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


def _error_message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("msg") or error)
    return str(error)


def parse_usage(raw: dict[str, Any] | None) -> Usage | None:
    """Usage from a response's ``usage`` object (``None`` if the server sent none)."""
    if not raw or not isinstance(raw, dict):
        return None
    details = raw.get("completion_tokens_details") or {}
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    if reasoning is None:
        reasoning = raw.get("reasoning_tokens")
    return Usage.model_construct(
        prompt_tokens=raw.get("prompt_tokens"),
        completion_tokens=raw.get("completion_tokens"),
        reasoning_tokens=reasoning,
        total_tokens=raw.get("total_tokens"),
        source="server",
    )


class ResponseAccumulator:
    """Builds a ``Completion`` from stream events (or one JSON body), stamping times as they arrive."""

    __slots__ = (
        "timings", "_content", "_reasoning", "_content_ends", "_content_ns", "_content_len",
        "finish_reason", "usage", "model", "response_id", "chunk_count", "saw_done", "_first_token",
        "_first_content", "_tools", "answer_ns",
    )

    def __init__(self, request_start_ns: int) -> None:
        self.timings = Timings.model_construct(
            request_created_ns=None, request_start_ns=request_start_ns, headers_ns=None, first_byte_ns=None, first_token_ns=None,
            first_content_ns=None, done_ns=None, chunk_ns=[],
        )
        self._content: list[str] = []
        self._reasoning: list[str] = []
        # Where each content chunk ends in the joined text, and when it came: lets an inline
        # "<think>...</think>" answer know when its real answer started.
        self._content_ends: list[int] = []
        self._content_ns: list[int] = []
        self._content_len = 0
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model: str | None = None
        self.response_id: str | None = None
        self.chunk_count = 0
        self.saw_done = False
        self._first_token = False
        self._first_content = False
        # Tool calls by their stream index: [id, type, name, argument fragments].
        self._tools: dict[int, list[Any]] = {}
        # When the last event carrying answer (content, reasoning, tool calls, usage or a finish) came:
        # keep-alive bytes, SSE comments and empty deltas don't move it, so a trickling server still times out.
        self.answer_ns = 0

    def add_event(self, payload: bytes, now_ns: int) -> bool:
        """Take one SSE data payload; return True when it was ``[DONE]``."""
        if payload == b"[DONE]":
            self.saw_done = True
            return True
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise MalformedResponseError(f"stream chunk is not JSON: {payload[:120]!r}") from None
        self.add_events([event], now_ns)
        return False

    def add_events(self, events: list[Any], now_ns: int) -> None:
        """Take the parsed events of one socket read, all of which arrived at ``now_ns``."""
        parts = self._content
        tokens = content_added = 0
        finish = None
        for event in events:
            if type(event) is not dict:
                raise MalformedResponseError(f"stream chunk is not a JSON object: {str(event)[:120]!r}")
            if "error" in event and event["error"]:
                raise ServerReportedError(f"server error in stream: {_error_message(event['error'])}")
            choices = event.get("choices")
            if choices:
                choice = choices[0]
                delta = choice.get("delta")
                if delta is not None:
                    content = delta.get("content")
                    if content is None or len(delta) > 1:
                        # Not a plain content delta (the hot case): reasoning, tool calls, a role.
                        reasoning = calls = None
                        if "reasoning_content" in delta or "reasoning" in delta:
                            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                            if reasoning:
                                self._reasoning.append(reasoning)
                        if reasoning is None or len(delta) > 1:
                            calls = delta.get("tool_calls")
                            if calls:
                                self._fold_tool_calls(calls)
                        if (reasoning or calls) and not content:
                            tokens += 1
                else:
                    content = choice.get("text")
                if content:
                    parts.append(content)
                    content_added += len(content)
                    tokens += 1
                reason = choice.get("finish_reason")
                if reason:
                    finish = reason
            if "usage" in event and event["usage"]:
                self.usage = parse_usage(event["usage"])
                self.answer_ns = now_ns
        if not events:
            return
        if tokens or finish:
            self.answer_ns = now_ns
        if finish:
            self.finish_reason = finish
        self.chunk_count += len(events)
        if self.response_id is None:
            self.response_id = events[0].get("id")
            self.model = events[0].get("model")
        if tokens:
            self._stamp(tokens, content_added, now_ns)

    def _fold_tool_calls(self, fragments: Any) -> None:
        """Fold streamed ``delta.tool_calls`` fragments into the calls they belong to (by ``index``).

        The first fragment of a call carries its id, type and name; later ones carry pieces of the
        arguments' JSON text, which are joined in arrival order. A server that sends each call whole in
        one fragment, or leaves out ``index``, is read the same way (position stands in for the index).
        """
        if not isinstance(fragments, list):
            raise MalformedResponseError(f"delta.tool_calls is not a list: {str(fragments)[:120]!r}")
        tools = self._tools
        for position, fragment in enumerate(fragments):
            if not isinstance(fragment, dict):
                raise MalformedResponseError(f"a tool call fragment is not an object: {str(fragment)[:120]!r}")
            index = fragment.get("index")
            if not isinstance(index, int):
                index = position
            call = tools.get(index)
            if call is None:
                call = tools[index] = [None, "function", "", []]
            if fragment.get("id") and call[0] is None:
                call[0] = fragment["id"]
            if fragment.get("type"):
                call[1] = fragment["type"]
            function = fragment.get("function") or {}
            name = function.get("name")
            if name and name != call[2]:
                call[2] += name
            arguments = function.get("arguments")
            if arguments:
                call[3].append(arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode())

    def tool_calls(self) -> list[ToolCall]:
        """The tool calls received so far, in index order."""
        return [
            ToolCall.model_construct(id=call[0], type=call[1], name=call[2], arguments="".join(call[3]), index=index)
            for index, call in sorted(self._tools.items())
        ]

    def add_read(self, decoder: SSEDecoder, data: bytes, now_ns: int) -> bool:
        """Take one socket read of an SSE stream that arrived at ``now_ns``; True once ``[DONE]`` came."""
        timings = self.timings
        if timings.first_byte_ns is None:
            timings.first_byte_ns = now_ns
        events, done = decoder.feed_events(data)
        if events:
            self.add_events(events, now_ns)
        if done:
            self.saw_done = True
        return done

    def add_last(self, decoder: SSEDecoder, now_ns: int) -> None:
        """At the end of the stream: a last event the server did not terminate with a blank line."""
        for payload in decoder.flush():
            if self.add_event(payload, now_ns):
                return

    def _stamp(self, tokens: int, content_added: int, now_ns: int) -> None:
        timings = self.timings
        timings.chunk_ns.extend([now_ns] * tokens)
        if not self._first_token:
            self._first_token = True
            timings.first_token_ns = now_ns
        if content_added:
            self._content_len += content_added
            self._content_ends.append(self._content_len)
            self._content_ns.append(now_ns)

    def add_body(self, body: bytes, now_ns: int, *, chat: bool) -> None:
        """Take a whole non-streamed JSON response."""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise MalformedResponseError(f"response is not JSON: {body[:120]!r}") from None
        if not isinstance(data, dict):
            raise MalformedResponseError(f"response is not a JSON object: {body[:120]!r}")
        if data.get("error"):
            raise ServerReportedError(f"server error: {_error_message(data['error'])}")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedResponseError(f"response has no choices: {body[:120]!r}")
        choice = choices[0]
        if chat:
            message = choice.get("message")
            if not isinstance(message, dict):
                raise MalformedResponseError("chat response choice has no message")
            content = message.get("content") or ""
            reasoning = message.get("reasoning_content") or message.get("reasoning")
            calls = message.get("tool_calls")
            if calls:
                self._fold_tool_calls(calls)
        else:
            content = choice.get("text") or ""
            reasoning = None
        self.response_id = data.get("id")
        self.model = data.get("model")
        self.finish_reason = choice.get("finish_reason")
        self.usage = parse_usage(data.get("usage"))
        if reasoning:
            self._reasoning.append(reasoning)
        if content:
            self._content.append(content)
            self._content_len = len(content)
            self._content_ends.append(self._content_len)
            self._content_ns.append(now_ns)
        if content or reasoning or self._tools:
            self.timings.first_token_ns = now_ns

    def finish(self, now_ns: int, *, split_think: bool, think_end_tag: str) -> Completion:
        """The finished ``Completion``: reasoning split off an inline ``</think>`` when asked."""
        self.timings.done_ns = now_ns
        text = full_text = "".join(self._content)
        reasoning = "".join(self._reasoning) or None
        answer_start = 0
        if split_think and reasoning is None and think_end_tag:
            cut = text.rfind(think_end_tag)
            if cut >= 0:
                head = text[:cut]
                reasoning = head.split("<think>", 1)[-1].strip("\n") if "<think>" in head else head.strip("\n")
                answer_start = cut + len(think_end_tag)
                text = text[answer_start:].lstrip("\n")
        self.timings.first_content_ns = self._first_content_after(full_text, answer_start)
        return Completion.model_construct(
            text=text, reasoning=reasoning, finish_reason=self.finish_reason, model=self.model,
            response_id=self.response_id, tool_calls=self.tool_calls(), usage=self.usage or Usage.model_construct(
                prompt_tokens=None, completion_tokens=None, reasoning_tokens=None, total_tokens=None,
                source="none"),
            timings=self.timings, chunk_count=self.chunk_count, attempts=1, error=None,
        )

    def _first_content_after(self, full_text: str, offset: int) -> int | None:
        """When the first content chunk with visible text past ``offset`` (the answer's start) arrived."""
        start = 0
        for end, stamp in zip(self._content_ends, self._content_ns):
            if end > offset and full_text[max(start, offset):end].strip():
                return stamp
            start = end
        return None

    @property
    def partial_text(self) -> str:
        return "".join(self._content)
