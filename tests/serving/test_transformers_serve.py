"""A real `transformers serve` on the tiny random checkpoint, spoken to with raw aiohttp.

These tests prove that the server works and pin down what its wire format looks like, for the authors of
assay's client. They use no assay code.

What `transformers serve` (transformers 5.24 and 5.25, `transformers serve <checkpoint>`, CPU) sends
=========================================================================================
Model name. The checkpoint path is FORCE_MODEL: the server answers for it alone, under the exact string
it was started with (here the absolute checkpoint path, e.g. "/tmp/.../tiny-qwen30"). Send that string as
`model`, or leave `model` out; any other name gets HTTP 400
`{"detail": "Server is pinned to '<path>'; requested 'other'."}`. Responses carry `"model": "<path>"`.
`GET /v1/models` lists just that id (`{"object": "list", "data": [{"id": "<path>", "object": "model",
"owned_by": "local", "created": 0, "status": {"value": "loaded"}}]}`). `GET /health` -> `{"status": "ok"}`.

Streamed chat completion (`"stream": true`), `Content-Type: text/event-stream; charset=utf-8`, frames
`data: <json>\n\n`, JSON with `exclude_none` (absent keys instead of nulls). A sample, max_tokens=8
(each event is ONE line on the wire; wrapped here; the id is a uuid4):

    data: {"id":"b7b7…","choices":[{"delta":{"role":"assistant"},"index":0}],"created":1795914576,
           "model":"/tmp/tc","object":"chat.completion.chunk","system_fingerprint":""}

    data: {"id":"b7b7…","choices":[{"delta":{"content":" win"},"index":0}],"created":1795914576,
           "model":"/tmp/tc","object":"chat.completion.chunk","system_fingerprint":""}

    data: {"id":"b7b7…","choices":[{"delta":{"content":" math"},"index":0}],"created":1795914576,
           "model":"/tmp/tc","object":"chat.completion.chunk","system_fingerprint":""}

    ... a frame per token or per word ("b", " after", " tokeniz", " 202", " How", " want") ...

    data: {"id":"b7b7…","choices":[{"delta":{},"index":0,"finish_reason":"length"}],"created":1795914576,
           "model":"/tmp/tc","object":"chat.completion.chunk","system_fingerprint":""}

    data: {"id":"b7b7…","choices":[],"created":1795914576,"model":"/tmp/tc",
           "object":"chat.completion.chunk","system_fingerprint":"",
           "usage":{"completion_tokens":8,"prompt_tokens":14,"total_tokens":22}}

    (end of body: no `data: [DONE]`)

- The first frame is role-only (`delta: {"role": "assistant"}`, no content), sent as soon as the request
  is accepted, before any token: time-to-first-token must be measured at the first content (or
  reasoning_content) delta, not at the first frame.
- Then text frames with `delta: {"content": "<text>"}`: usually one per generated token, but the
  streamer may release several tokens as one frame (a word, or whatever queued up while the client was
  slow), so frames <= completion_tokens. Frames that were queued together may arrive in one TCP read:
  split on blank lines, not on reads.
- Non-final frames have NO `finish_reason` key (absent, not null) and no `usage` key.
- The frame after the text: `delta: {}` and `finish_reason` ("length" when max_tokens was reached, "stop"
  on eos or a `stop` string; "tool_calls" exists too).
- Usage {prompt_tokens, completion_tokens, total_tokens} comes in one of two shapes, and the tests accept
  both (`stream_end`):
  - transformers 5.25 (OpenAI's shape): only when the request sets `stream_options.include_usage`, in a
    separate last chunk whose `choices` is EMPTY; without it, no usage at all.
  - transformers <= 5.24: always, inside the finish frame itself (non-empty `choices`); `stream_options`
    is ignored (the server logs "Ignoring unsupported fields in the request: {'stream_options'}").
- No `data: [DONE]`: the stream simply ends.
- `id` is the request id: a uuid4, or the `X-Request-ID` request header if given (echoed back as the
  `X-Request-ID` response header). `system_fingerprint` is "" in chunks, absent in non-streamed answers.
- A generation error mid-stream is sent as `data: {"error": "<message>"}` and the stream ends.
- With `chat_template_kwargs: {"enable_thinking": false}` (the template prefills an empty
  `<think>\n\n</think>\n\n`), the first delta after the role frame is `{"reasoning_content": "\n\n"}` and
  the first content delta starts with "\n\n". Any `<think>...</think>` the model writes streams as
  `reasoning_content` (Qwen3 response parser); this checkpoint suppresses `<think>`, so normally only
  `content` comes.

Non-streamed chat completion: `{"id", "choices": [{"finish_reason", "index": 0, "message": {"content",
"role": "assistant"}}], "created", "model", "object": "chat.completion", "usage": {...}}`. Its `content`
is the parsed message: leading/trailing whitespace is stripped, so it can differ from the concatenated
stream deltas (" win math..." streamed vs "win math..." here). With greedy decoding (`temperature: 0`)
the random model emits whitespace only, and `content` is "" while completion_tokens is max_tokens.

Legacy `/v1/completions` (supported; raw prompt, no chat template): non-streamed `{"choices": [{"text",
"index", "finish_reason"}], "object": "text_completion", "usage"}`; streamed frames are
`{"choices": [{"index": 0, "text": " win"}], "object": "text_completion", ...}` (no role frame, no
finish_reason key), then a finish frame `{"choices": [{"finish_reason": "length", "index": 0,
"text": ""}]}`; usage as for chat (5.25: a `choices: []` chunk after it when include_usage is set; <= 5.24:
inside the finish frame). No `[DONE]` either.

Parameters: `max_tokens` and `max_completion_tokens` both set max_new_tokens (exactly respected;
finish_reason "length" when reached). `seed` reseeds torch (same seed -> same text, when requests do
not overlap). `temperature: 0` switches to greedy. `stop` works (finish_reason "stop"), but the text is
not cut at the stop string: the whole token that completed it is kept, stop string included. `n` is
ignored (one choice, warning logged). A field outside the OpenAI request schema -> 422
`{"detail": "Unexpected fields in the request: {...}"}`; an invalid JSON body -> 422 (FastAPI's
`{"detail": [...]}`, not OpenAI's `{"error": {...}}`). `max_tokens: 0` or negative -> HTTP 500 with a
plain-text body "Internal Server Error"; after such a 500 the server may drop the keep-alive
connection, so a pooled client's next request can fail with "Connection reset by peer".

Speed on this machine (2 CPU cores): start-up ~10 s (the model loads before the port opens: poll
/health), ~2.7 ms per token for one stream; concurrent requests are served in parallel (each generation
runs in its own thread).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

# Session fixtures start the server on the first test (~10-60 s): the timeout covers that too.
pytestmark = [pytest.mark.serving, pytest.mark.timeout(240)]

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@dataclass
class Stream:
    """An SSE response taken apart."""

    status: int
    content_type: str
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False  # whether `data: [DONE]` came
    other_lines: list[str] = field(default_factory=list)  # lines that are not `data:` (comments, ...)


@dataclass
class StreamEnd:
    """A stream's text frames, its finish frame and its usage, in whichever shape the server sent them."""

    text_events: list[dict[str, Any]]
    finish_reason: str
    usage: dict[str, int] | None
    usage_in_own_chunk: bool  # OpenAI's shape (`choices: []`) rather than inside the finish frame


def stream_end(events: list[dict[str, Any]]) -> StreamEnd:
    """Split a stream's events into the text frames, the finish frame and the usage.

    Usage may come in its own last chunk with empty `choices` (OpenAI, transformers 5.25) or inside the
    finish frame (transformers <= 5.24); at most once, and never before the finish frame.
    """
    usage_chunk = None
    if events and events[-1].get("choices") == [] and "usage" in events[-1]:
        usage_chunk, events = events[-1], events[:-1]
    assert events, "no frames besides usage"
    finish_frame = events[-1]
    (choice,) = finish_frame["choices"]
    assert choice.get("finish_reason") in ("length", "stop"), finish_frame
    with_usage = [event for event in events if "usage" in event]
    assert with_usage in ([], [finish_frame]), "usage before the finish frame"
    assert not (usage_chunk and with_usage), "usage sent twice"
    usage = usage_chunk["usage"] if usage_chunk else (finish_frame.get("usage") if with_usage else None)
    return StreamEnd(events[:-1], choice["finish_reason"], usage, usage_chunk is not None)


def parse_sse(body: str) -> Stream:
    stream = Stream(status=0, content_type="")
    for frame in body.replace("\r\n", "\n").split("\n\n"):
        data_lines = []
        for line in frame.split("\n"):
            if line.startswith("data:"):
                data_lines.append(line[5:].lstrip(" "))
            elif line:
                stream.other_lines.append(line)
        if not data_lines:
            continue
        data = "\n".join(data_lines)
        if data == "[DONE]":
            stream.done = True
            continue
        assert not stream.done, f"data after [DONE]: {data!r}"
        stream.events.append(json.loads(data))
    return stream


async def post_stream(server, path: str, body: dict) -> Stream:
    async with (
        aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session,
        session.post(server.base_url + path, json=body) as response,
    ):
        text = await response.text()
        assert response.status == 200, text
        stream = parse_sse(text)
        stream.status = response.status
        stream.content_type = response.headers.get("Content-Type", "")
        return stream


async def post_json(server, path: str, body: dict) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session,
        session.post(server.base_url + path, json=body) as response,
    ):
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except json.JSONDecodeError:
            return response.status, text


def chat_body(server, **extra: Any) -> dict:
    return {"model": server.model, "messages": MESSAGES, "max_tokens": 16, "seed": 7, **extra}


def check_usage(usage: dict, *, max_tokens: int | None = None) -> None:
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] >= 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    if max_tokens is not None:
        assert usage["completion_tokens"] <= max_tokens


def assert_stopped_by(finish_reason: str, usage: dict, max_tokens: int) -> None:
    """Finish reason "length" exactly at max_tokens; "stop" (eos, which a random model samples about
    once per 900 tokens, so rarely) only before it."""
    if finish_reason == "length":
        assert usage["completion_tokens"] == max_tokens
    else:
        assert finish_reason == "stop"
        assert usage["completion_tokens"] < max_tokens


def chat_prompt_tokens(checkpoint: Path, **template_kwargs: Any) -> int:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    ids = tokenizer.apply_chat_template(
        MESSAGES, add_generation_prompt=True, tokenize=True, **template_kwargs
    )
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return len(ids)


# ---- health and models ----


async def test_health_and_models(transformers_server):
    async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session:
        async with session.get(transformers_server.root_url + "/health") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
        async with session.get(transformers_server.base_url + "/models") as response:
            assert response.status == 200
            listed = await response.json()
    assert [model["id"] for model in listed["data"]] == [transformers_server.model]


# ---- chat completions ----


async def test_chat_non_streamed_returns_text_and_usage(transformers_server, tiny_checkpoint):
    status, answer = await post_json(transformers_server, "/chat/completions", chat_body(transformers_server))
    assert status == 200, answer
    assert answer["object"] == "chat.completion"
    assert answer["model"] == transformers_server.model
    (choice,) = answer["choices"]
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"].strip()
    assert choice["finish_reason"] in ("length", "stop")
    check_usage(answer["usage"], max_tokens=16)
    # Usage counts real tokens: the prompt is the chat template rendered and tokenized.
    assert answer["usage"]["prompt_tokens"] == chat_prompt_tokens(tiny_checkpoint)


async def test_chat_streamed_role_then_text_then_finish_then_usage(transformers_server):
    body = chat_body(transformers_server, max_tokens=24, stream=True, stream_options={"include_usage": True})
    stream = await post_stream(transformers_server, "/chat/completions", body)
    assert stream.content_type.startswith("text/event-stream")
    events = stream.events
    assert all(event["object"] == "chat.completion.chunk" for event in events)
    assert len({event["id"] for event in events}) == 1

    # First frame: the role, no content.
    first = events[0]["choices"][0]
    assert first["delta"] == {"role": "assistant"}
    assert first.get("finish_reason") is None

    # Then the finish frame (empty delta) and the usage asked for, in either shape.
    end = stream_end(events)
    assert end.usage is not None, "include_usage was set but no usage came"
    check_usage(end.usage, max_tokens=24)
    finish_index = len(end.text_events)
    assert events[finish_index]["choices"][0]["delta"] == {}

    # In between: text frames (a token or a few each), no finish_reason, no usage.
    middle = end.text_events[1:]
    contents = [event["choices"][0]["delta"].get("content") for event in middle]
    assert all(isinstance(text, str) and text for text in contents), middle
    assert all("finish_reason" not in event["choices"][0] for event in middle)
    assert all("usage" not in event for event in middle)
    assert 1 <= len(contents) <= end.usage["completion_tokens"]
    assert_stopped_by(end.finish_reason, end.usage, 24)


async def test_chat_streamed_usage_only_when_asked_or_in_the_finish_frame(transformers_server):
    """Without include_usage, 5.25 sends no usage and <= 5.24 puts it in the finish frame: never a
    `choices: []` chunk that a client did not ask for."""
    for options in (None, {"include_usage": False}):
        extra = {} if options is None else {"stream_options": options}
        body = chat_body(transformers_server, max_tokens=5, stream=True, **extra)
        end = stream_end((await post_stream(transformers_server, "/chat/completions", body)).events)
        assert not end.usage_in_own_chunk
        if end.usage is not None:
            check_usage(end.usage, max_tokens=5)


async def test_chat_stream_and_non_stream_agree_with_same_seed(transformers_server):
    body = chat_body(transformers_server, max_tokens=12, seed=11)
    stream = await post_stream(transformers_server, "/chat/completions",
                               {**body, "stream": True, "stream_options": {"include_usage": True}})
    end = stream_end(stream.events)
    streamed = "".join(event["choices"][0]["delta"].get("content") or "" for event in end.text_events)
    status, answer = await post_json(transformers_server, "/chat/completions", body)
    assert status == 200, answer
    assert answer["usage"] == end.usage
    # Same tokens; the non-streamed content is stripped of surrounding whitespace.
    assert answer["choices"][0]["message"]["content"] == streamed.strip()


async def test_chat_without_model_field_uses_forced_model(transformers_server):
    body = chat_body(transformers_server, max_tokens=4)
    del body["model"]
    status, answer = await post_json(transformers_server, "/chat/completions", body)
    assert status == 200, answer
    assert answer["model"] == transformers_server.model


async def test_chat_other_model_name_is_rejected(transformers_server):
    status, answer = await post_json(
        transformers_server, "/chat/completions", chat_body(transformers_server, model="not-the-model")
    )
    assert status == 400
    assert "pinned" in answer["detail"]


async def test_chat_template_kwargs_reach_the_template(transformers_server, tiny_checkpoint):
    body = chat_body(transformers_server, max_tokens=4, chat_template_kwargs={"enable_thinking": False})
    status, answer = await post_json(transformers_server, "/chat/completions", body)
    assert status == 200, answer
    # enable_thinking=False prefills "<think>\n\n</think>\n\n": the prompt grows by exactly those tokens.
    assert answer["usage"]["prompt_tokens"] == chat_prompt_tokens(tiny_checkpoint, enable_thinking=False)
    assert answer["usage"]["prompt_tokens"] > chat_prompt_tokens(tiny_checkpoint)


# ---- max_tokens ----


@pytest.mark.parametrize("stream", [False, True], ids=["non-streamed", "streamed"])
@pytest.mark.parametrize("max_tokens", [1, 3, 9])
async def test_max_tokens_is_respected(transformers_server, stream, max_tokens):
    body = chat_body(transformers_server, max_tokens=max_tokens, seed=100 + max_tokens, stream=stream)
    if stream:
        body["stream_options"] = {"include_usage": True}
        end = stream_end((await post_stream(transformers_server, "/chat/completions", body)).events)
        assert end.usage is not None
        usage, finish = end.usage, end.finish_reason
        # role frame, then text frames carrying one token or more each
        assert 1 <= len(end.text_events) - 1 <= usage["completion_tokens"]
    else:
        status, answer = await post_json(transformers_server, "/chat/completions", body)
        assert status == 200, answer
        usage, finish = answer["usage"], answer["choices"][0]["finish_reason"]
    check_usage(usage, max_tokens=max_tokens)
    assert_stopped_by(finish, usage, max_tokens)


async def test_max_completion_tokens_is_respected(transformers_server):
    body = chat_body(transformers_server, max_completion_tokens=5)
    del body["max_tokens"]
    status, answer = await post_json(transformers_server, "/chat/completions", body)
    assert status == 200, answer
    check_usage(answer["usage"], max_tokens=5)
    assert_stopped_by(answer["choices"][0]["finish_reason"], answer["usage"], 5)


# ---- legacy completions ----


async def _completions_or_skip(server, body: dict) -> tuple[int, Any]:
    status, answer = await post_json(server, "/completions", body)
    if status in (404, 405, 501):
        pytest.skip(f"this `transformers serve` has no /v1/completions (HTTP {status})")
    return status, answer


async def test_completions_non_streamed(transformers_server):
    body = {"model": transformers_server.model, "prompt": "Once upon a time", "max_tokens": 6, "seed": 3}
    status, answer = await _completions_or_skip(transformers_server, body)
    assert status == 200, answer
    assert answer["object"] == "text_completion"
    (choice,) = answer["choices"]
    assert isinstance(choice["text"], str) and choice["text"]
    check_usage(answer["usage"], max_tokens=6)
    assert_stopped_by(choice["finish_reason"], answer["usage"], 6)


async def test_completions_streamed(transformers_server):
    body = {"model": transformers_server.model, "prompt": "Once upon a time", "max_tokens": 6, "seed": 3}
    await _completions_or_skip(transformers_server, body)  # skips if the endpoint is missing
    stream = await post_stream(transformers_server, "/completions",
                               {**body, "stream": True, "stream_options": {"include_usage": True}})
    events = stream.events
    assert all(event["object"] == "text_completion" for event in events)
    end = stream_end(events)
    assert end.usage is not None
    check_usage(end.usage, max_tokens=6)
    assert_stopped_by(end.finish_reason, end.usage, 6)
    assert events[len(end.text_events)]["choices"][0]["text"] == ""
    texts = [event["choices"][0]["text"] for event in end.text_events]
    assert all(texts)
    assert 1 <= len(texts) <= end.usage["completion_tokens"]
    assert all("finish_reason" not in event["choices"][0] for event in end.text_events)
