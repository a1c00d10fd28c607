"""Embeddings and rerank: the non-generating ("pooling") endpoints of OpenAI-compatible servers.

- ``POST {base}/embeddings`` (OpenAI): ``{"model", "input": str | list[str]}`` →
  ``{"data": [{"index", "embedding": [...]}], "usage": {"prompt_tokens", "total_tokens"}}``.
- ``POST {base}/rerank`` (Cohere, Jina, vLLM, SGLang, TEI): ``{"model", "query", "documents": [...],
  "top_n"?}`` → ``{"results": [{"index", "relevance_score"}], "usage": {"total_tokens"}}``.

Both answer one JSON body, so a request's only timings are when it went out, when the body began to
arrive and when it was complete. The result is a ``Completion`` (empty text, ``usage.prompt_tokens`` the
server's input token count) so load tests record it like any other request.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import Any, Literal

import aiohttp
import orjson

from assay.client.config import redact_url
from assay.client.transport import arrival_ns, protocol_of, raise_for_status, transport_errors
from assay.errors import MalformedResponseError, ServerReportedError
from assay.types.completion import Completion, Timings, Usage

PoolingApi = Literal["embeddings", "rerank"]


def embeddings_payload(model: str, texts: str | list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of one embeddings request (``extra`` such as ``dimensions`` or ``encoding_format`` merged in)."""
    return {"model": model, "input": texts, **(extra or {})}


def rerank_payload(model: str, query: str, documents: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of one rerank request (``extra`` such as ``top_n`` or ``return_documents`` merged in)."""
    return {"model": model, "query": query, "documents": documents, **(extra or {})}


def pooling_usage(api: PoolingApi, data: Any) -> Usage:
    """The server's input token count from a parsed body; raises ``MalformedResponseError`` for a wrong shape.

    Embeddings need ``data[*].embedding`` (a list, or a base64 string with ``encoding_format=base64``);
    rerank needs ``results[*]`` with an ``index`` and a ``relevance_score`` (or ``score``). Token counts
    come from ``usage.prompt_tokens``, else ``usage.total_tokens`` (Jina, vLLM), else Cohere's
    ``meta.billed_units.input_tokens``.
    """
    if not isinstance(data, dict):
        raise MalformedResponseError(f"expected a JSON object, got {type(data).__name__}")
    if api == "embeddings":
        items = data.get("data")
        if not isinstance(items, list) or not items or not all(
                isinstance(item, dict) and isinstance(item.get("embedding"), (list, str)) for item in items):
            raise MalformedResponseError("an embeddings response needs data: [{embedding: [...]}, ...]")
    else:
        results = data.get("results", data.get("data"))
        if not isinstance(results, list) or not all(
                isinstance(r, dict) and "index" in r and ("relevance_score" in r or "score" in r) for r in results):
            raise MalformedResponseError("a rerank response needs results: [{index, relevance_score}, ...]")
    tokens = None
    usage = data.get("usage")
    if isinstance(usage, dict):
        tokens = usage.get("prompt_tokens") or usage.get("total_tokens")
    if tokens is None:
        billed = (data.get("meta") or {}).get("billed_units") if isinstance(data.get("meta"), dict) else None
        if isinstance(billed, dict):
            tokens = billed.get("input_tokens")
    if not isinstance(tokens, int) or isinstance(tokens, bool):
        return Usage(source="none")
    return Usage(prompt_tokens=tokens, completion_tokens=None, total_tokens=tokens, source="server")


async def post_pooling(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], api: PoolingApi,
    *, total_timeout_s: float | None = None,
) -> Completion:
    """POST one embeddings or rerank body; a ``Completion`` with timings and usage, or a ``ClientError``."""
    timings = Timings(request_start_ns=perf_counter_ns())
    timings.request_created_ns = timings.request_start_ns
    with transport_errors(url, total_timeout_s):
        async with session.post(url, data=body, headers=headers, trace_request_ctx=timings) as resp:
            protocol = protocol_of(resp)
            timings.headers_ns = arrival_ns(protocol, timings.request_start_ns)
            await raise_for_status(resp)
            raw = await resp.read()
            now = arrival_ns(protocol, timings.request_start_ns)
    timings.first_byte_ns = timings.first_token_ns = timings.done_ns = now
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedResponseError(f"{redact_url(url)} did not answer JSON: {raw[:120]!r}") from None
    if isinstance(data, dict) and isinstance(data.get("error"), (dict, str)):
        error = data["error"]
        raise ServerReportedError(str(error.get("message", error) if isinstance(error, dict) else error))
    usage = pooling_usage(api, data)
    return Completion.model_construct(
        text="", reasoning=None, finish_reason="stop", model=data.get("model"), response_id=data.get("id"),
        usage=usage, timings=timings, chunk_count=0, attempts=1, error=None)
