"""The one async client for OpenAI-compatible servers, used by perf and eval alike."""

from __future__ import annotations

import asyncio
import logging
import random
from time import perf_counter_ns
from typing import Any, Sequence

import aiohttp
import orjson

from assay.client.config import Api, ClientConfig, redact_url
from assay.client.pooling import PoolingApi, embeddings_payload, post_pooling, rerank_payload
from assay.client.sink import StreamSink
from assay.client.stream import ResponseAccumulator, SSEDecoder
from assay.client.transport import (
    StampingHandler,
    arrival_ns,
    new_session,
    protocol_of,
    raise_for_status,
    transport_errors,
)
from assay.errors import ClientError, ConfigError, DisconnectedError, MalformedResponseError
from assay.types.completion import Completion, ErrorInfo, Timings, Usage
from assay.types.generation import GenerationConfig
from assay.types.message import Message

log = logging.getLogger("assay.client")


class OpenAIClient:
    """Async client for ``/chat/completions`` and ``/completions``, streaming (SSE) or plain JSON.

    Use it as ``async with OpenAIClient(config) as client:``. Every call returns a ``Completion`` whose
    timings were stamped with ``time.perf_counter_ns`` as the bytes arrived. Failures raise a typed
    ``ClientError``; with ``capture_errors=True`` they come back instead as a ``Completion`` whose
    ``error`` is set (and which keeps any text and timings received before the failure).
    """

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._headers = config.request_headers()
        self._timeout = aiohttp.ClientTimeout(
            total=config.total_timeout_s,
            sock_connect=config.connect_timeout_s,
            sock_read=config.read_timeout_s,
        )

    async def __aenter__(self) -> OpenAIClient:
        self._ensure_session()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = new_session(self.config.max_connections, self._timeout)
        return self._session

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # ---- public calls -------------------------------------------------------------------------------

    async def chat(
        self,
        messages: Sequence[Message | dict[str, Any]],
        *,
        model: str | None = None,
        generation: GenerationConfig | None = None,
        stream: bool = True,
        capture_errors: bool = False,
        headers: dict[str, str] | None = None,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
    ) -> Completion:
        """One chat completion for ``messages``.

        ``tools`` are OpenAI tool definitions (``{"type": "function", "function": {"name", "description",
        "parameters"}}``); the calls the model makes come back in ``Completion.tool_calls``.
        """
        payload = self.build_payload(
            "chat", [m.model_dump(exclude_none=True) if isinstance(m, Message) else m for m in messages],
            model=model, generation=generation, stream=stream, tools=tools, tool_choice=tool_choice,
            parallel_tool_calls=parallel_tool_calls,
        )
        return await self.send("chat", payload, capture_errors=capture_errors, headers=headers)

    async def complete(
        self,
        prompt: str,
        *,
        model: str | None = None,
        generation: GenerationConfig | None = None,
        stream: bool = True,
        capture_errors: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Completion:
        """One text completion for ``prompt`` (the legacy ``/completions`` endpoint)."""
        payload = self.build_payload("completions", prompt, model=model, generation=generation, stream=stream)
        return await self.send("completions", payload, capture_errors=capture_errors, headers=headers)

    def build_payload(
        self,
        api: Api,
        messages_or_prompt: list[dict[str, Any]] | str,
        *,
        model: str | None = None,
        generation: GenerationConfig | None = None,
        stream: bool = True,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
    ) -> dict[str, Any]:
        """The JSON body for one request (load generators build these once, up front)."""
        name = model or self.config.model
        if not name:
            raise ConfigError("no model name: pass model= or set ClientConfig.model")
        payload: dict[str, Any] = {"model": name}
        if api == "chat":
            payload["messages"] = messages_or_prompt
        else:
            payload["prompt"] = messages_or_prompt
            if tools:
                raise ConfigError("tools need the chat endpoint: the completions API has no tool calls")
        if tools:
            payload["tools"] = list(tools)
        if tool_choice is not None:
            payload["tool_choice"] = tool_choice
        if parallel_tool_calls is not None:
            payload["parallel_tool_calls"] = parallel_tool_calls
        if generation is not None:
            payload.update(generation.to_payload())
        payload["stream"] = stream
        if stream and self.config.include_usage:
            payload.setdefault("stream_options", {"include_usage": True})
        return payload

    async def send(
        self,
        api: Api,
        payload: dict[str, Any] | bytes,
        *,
        capture_errors: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Completion:
        """POST a prepared body to the ``api`` endpoint, with the configured retries."""
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        stream = (b'"stream":true' in body) if isinstance(payload, bytes) else bool(payload.get("stream"))
        request_headers = {**self._headers, **headers} if headers else self._headers
        url = self.config.url_for(api)
        attempt = 0
        while True:
            attempt += 1
            accumulator = ResponseAccumulator(perf_counter_ns())
            try:
                completion = await self._attempt(url, api, body, stream, request_headers, accumulator)
                completion.attempts = attempt
                return completion
            except ClientError as exc:
                if exc.retryable and attempt <= self.config.max_retries:
                    delay = self._backoff_s(attempt, exc)
                    log.info("retrying %s after %s (attempt %d, in %.2fs)", redact_url(url), exc.kind, attempt, delay)
                    await asyncio.sleep(delay)
                    continue
                if not capture_errors:
                    raise
                return _failed_completion(accumulator, exc, attempt)

    async def list_models(self) -> list[str]:
        """The model ids the server lists at ``GET /models``."""
        session = self._ensure_session()
        url = self.config.url_for("models")
        with transport_errors(url, self.config.total_timeout_s):
            async with session.get(url, headers=self._headers) as resp:
                await raise_for_status(resp)
                body = await resp.read()
        try:
            return [item["id"] for item in orjson.loads(body)["data"]]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise MalformedResponseError(f"GET /models did not return an OpenAI model list: {body[:120]!r}") from None

    # ---- internals ----------------------------------------------------------------------------------

    def _backoff_s(self, attempt: int, exc: ClientError) -> float:
        if exc.retry_after_s is not None:
            return min(exc.retry_after_s, self.config.retry_max_backoff_s)
        base = self.config.retry_backoff_s * (2 ** (attempt - 1))
        return min(base, self.config.retry_max_backoff_s) * (0.5 + random.random() / 2)

    async def _attempt(
        self,
        url: str,
        api: Api,
        body: bytes,
        stream: bool,
        headers: dict[str, str],
        acc: ResponseAccumulator,
    ) -> Completion:
        session = self._ensure_session()
        config = self.config
        with transport_errors(url, config.total_timeout_s):
            timings = acc.timings
            timings.request_created_ns = timings.request_start_ns = perf_counter_ns()
            async with session.post(url, data=body, headers=headers, trace_request_ctx=timings) as resp:
                protocol = protocol_of(resp)
                acc.timings.headers_ns = arrival_ns(protocol, acc.timings.request_start_ns)
                await raise_for_status(resp)
                content_type = resp.headers.get("Content-Type", "")
                if stream and "text/event-stream" in content_type:
                    now = await self._read_stream(resp, protocol, acc)
                else:
                    raw = await resp.read()
                    now = arrival_ns(protocol, acc.timings.request_start_ns)
                    acc.timings.first_byte_ns = now
                    if raw.lstrip().startswith(b"data:"):
                        # A stream sent without the SSE content type.
                        acc.add_read(SSEDecoder(), raw + b"\n\n", now)
                        _check_stream_end(acc)
                    else:
                        if "html" in content_type:
                            raise MalformedResponseError(
                                f"{redact_url(url)} answered with an HTML page, not the OpenAI API (check the URL path)")
                        acc.add_body(raw, now, chat=api == "chat")
                return acc.finish(now, split_think=config.split_think, think_end_tag=config.think_end_tag)

    async def _read_stream(self, resp: aiohttp.ClientResponse, protocol: Any,
                           acc: ResponseAccumulator) -> int:
        """Read an SSE answer; return when its last bytes arrived."""
        if resp.connection is None or not isinstance(protocol, StampingHandler) or protocol.sink is not None:
            # Already complete and its connection released (maybe to another request): no sink to attach.
            await _read_stream_by_task(resp, protocol, acc, self.config.read_timeout_s)
            return arrival_ns(protocol, acc.timings.request_start_ns)
        config = self.config
        sink = StreamSink(resp.content, acc, read_timeout_s=config.read_timeout_s)
        protocol.read_timeout = None  # the sink times reads from here on, without a timer per read
        protocol.sink = sink
        try:
            sink.pump(arrival_ns(protocol, acc.timings.request_start_ns))  # bytes that came with the headers
            if config.total_timeout_s is None:
                now = await sink.wait()
            else:
                spent_s = (perf_counter_ns() - acc.timings.request_created_ns) / 1e9
                async with asyncio.timeout(max(0.0, config.total_timeout_s - spent_s)):
                    now = await sink.wait()
        finally:
            protocol.sink = None
        if not acc.saw_done:
            _check_stream_end(acc)
        return now

    # ---- embeddings and rerank (assay.client.pooling) ------------------------------------------------

    async def embed(self, texts: str | list[str], *, model: str | None = None, capture_errors: bool = False,
                    **extra: Any) -> Completion:
        """One ``/embeddings`` request; the ``Completion`` carries timings and ``usage.prompt_tokens``."""
        payload = embeddings_payload(self._model_name(model), texts, extra)
        return await self.send_pooling("embeddings", payload, capture_errors=capture_errors)

    async def rerank(self, query: str, documents: list[str], *, model: str | None = None,
                     capture_errors: bool = False, **extra: Any) -> Completion:
        """One ``/rerank`` request (Cohere/Jina/vLLM shape); extra fields such as ``top_n`` go in the body."""
        payload = rerank_payload(self._model_name(model), query, documents, extra)
        return await self.send_pooling("rerank", payload, capture_errors=capture_errors)

    async def send_pooling(self, api: PoolingApi, payload: dict[str, Any] | bytes, *,
                           capture_errors: bool = False) -> Completion:
        """POST a prepared embeddings or rerank body (never retried); failures as in ``send``."""
        return await _pooling_send(self, api, payload, capture_errors=capture_errors)

    def _model_name(self, model: str | None) -> str:
        name = model or self.config.model
        if not name:
            raise ConfigError("no model name: pass model= or set ClientConfig.model")
        return name


async def _read_stream_by_task(resp: aiohttp.ClientResponse, protocol: Any, acc: ResponseAccumulator,
                               read_timeout_s: float) -> None:
    """Read an SSE answer in the calling task, one wake-up per read (where no ``StreamSink`` can attach)."""
    decoder = SSEDecoder()
    start = acc.timings.request_start_ns
    async for data in resp.content.iter_any():
        if acc.add_read(decoder, data, arrival_ns(protocol, start)):
            return
        # aiohttp's read timeout restarts on any byte; only answer events count here, as in ``StreamSink``.
        if perf_counter_ns() - max(start, acc.answer_ns) > read_timeout_s * 1e9:
            raise aiohttp.SocketTimeoutError("no answer data within the read timeout")
    acc.add_last(decoder, perf_counter_ns())
    _check_stream_end(acc)


def _check_stream_end(acc: ResponseAccumulator) -> None:
    # Some servers omit [DONE]; a finish_reason still proves the answer is complete.
    if not acc.saw_done and acc.finish_reason is None:
        raise DisconnectedError("the stream ended before [DONE] or a finish_reason")


def _failed_completion(acc: ResponseAccumulator, exc: ClientError, attempts: int) -> Completion:
    timings: Timings = acc.timings
    timings.done_ns = perf_counter_ns()
    return Completion.model_construct(
        text=acc.partial_text, reasoning=None, finish_reason=None, model=acc.model, response_id=acc.response_id,
        tool_calls=acc.tool_calls(),
        usage=acc.usage or Usage.model_construct(
            prompt_tokens=None, completion_tokens=None, reasoning_tokens=None, total_tokens=None, source="none"),
        timings=timings, chunk_count=acc.chunk_count, attempts=attempts,
        error=ErrorInfo(kind=exc.kind, message=exc.message, status=exc.status),
    )


async def _pooling_send(client: OpenAIClient, api: PoolingApi, payload: dict[str, Any] | bytes, *,
                        capture_errors: bool) -> Completion:
    """``OpenAIClient.send_pooling``: one attempt (pooling calls are for load tests, which never retry)."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    started = perf_counter_ns()
    try:
        return await post_pooling(client._ensure_session(), client.config.url_for(api), body,
                                  client._headers, api, total_timeout_s=client.config.total_timeout_s)
    except ClientError as exc:
        if not capture_errors:
            raise
        acc = ResponseAccumulator(started)
        acc.timings.request_start_ns = started
        return _failed_completion(acc, exc, 1)
