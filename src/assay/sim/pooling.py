"""The simulator's embeddings and rerank routes, for load tests of those APIs with no model.

- ``POST /v1/embeddings``: OpenAI's shape. Each input's vector is a pure function of its text (unit
  length, seeded by a hash of the text), ``dimensions`` long (the request's OpenAI ``dimensions``
  field, else ``DEFAULT_DIMENSIONS``); ``encoding_format: base64`` sends little-endian float32 bytes.
- ``POST /v1/rerank`` and ``POST /rerank``: the Cohere / Jina / vLLM shape: ``results`` sorted by
  ``relevance_score`` (the share of the query's words a document contains, nudged by a hash so ties
  break the same way every time), cut to ``top_n``, with ``document.text`` when ``return_documents``.

Both take the time the latency model gives a one-token answer to a prompt of that many tokens (fixed:
``ttft_ms``; engine: prefill plus one decode step, sharing the batch with generation), and report the
input tokens in ``usage``. The ``error`` and ``429`` faults apply; the streaming faults do not.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any

import numpy as np
import orjson
from aiohttp import web

from assay.sim.answers import count_tokens
from assay.sim.faults import FAULT_HEADER, RETRY_AFTER_S, UnknownFault
from assay.sim.render import JSON_HEADERS, error_object

DEFAULT_DIMENSIONS = 384
_MAX_DIMENSIONS = 65536
_WORD = re.compile(r"\w+")


def embedding_vector(text: str, dimensions: int) -> np.ndarray:
    """The unit-length float32 vector of ``text``: the same text always gets the same vector."""
    seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(dimensions).astype(np.float32)
    norm = float(np.sqrt(np.square(vector).sum()))  # not np.linalg: a BLAS call may wake its thread pool
    return vector / norm if norm else vector


def relevance_score(query: str, document: str) -> float:
    """A score in (0, 1): the share of the query's distinct words found in the document, plus < 0.01 of hash."""
    words = {w.lower() for w in _WORD.findall(query)}
    found = {w.lower() for w in _WORD.findall(document)}
    overlap = len(words & found) / len(words) if words else 0.0
    tie = int.from_bytes(hashlib.blake2b((query + "\x00" + document).encode("utf-8"), digest_size=4).digest(),
                         "little") / 2**32
    return round(0.001 + 0.989 * overlap + 0.0099 * tie, 6)


class _Bad(ValueError):
    pass


def _json(payload: dict, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status,
                        headers={**JSON_HEADERS, **headers} if headers else JSON_HEADERS)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return _json(error_object(status, message), status, headers)


def _texts(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise _Bad(f"{what} must be a string or a non-empty list of strings")


def _documents(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _Bad("documents must be a non-empty list")
    out = []
    for doc in value:
        if isinstance(doc, dict) and isinstance(doc.get("text"), str):
            doc = doc["text"]
        if not isinstance(doc, str):
            raise _Bad("each document must be a string or {text: ...}")
        out.append(doc)
    return out


async def _body(request: web.BaseRequest) -> dict:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise _Bad("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Bad("the body must be a JSON object")
    return body


async def _pace(state: Any, arrival: float, prompt_tokens: int) -> None:
    """Wait as long as the latency model takes to answer one token for this prompt."""
    ticket = state.pacer.start(arrival, prompt_tokens, 1)
    try:
        await ticket.wait_all()
    finally:
        ticket.close()


def _early_fault(state: Any, request: web.BaseRequest) -> web.Response | None:
    fault = state.faults.pick(request.headers.get(FAULT_HEADER))
    if fault == "error":
        return _error(500, "simulated server error")
    if fault == "429":
        return _error(429, "simulated rate limit: try again later", {"Retry-After": str(RETRY_AFTER_S)})
    return None


async def embeddings(state: Any, request: web.BaseRequest, *, arrival: float) -> web.Response:
    """``POST /v1/embeddings``."""
    try:
        body = await _body(request)
        texts = _texts(body.get("input"), "input")
        dimensions = body.get("dimensions")
        dimensions = DEFAULT_DIMENSIONS if dimensions is None else dimensions
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= _MAX_DIMENSIONS:
            raise _Bad(f"dimensions must be a whole number in 1-{_MAX_DIMENSIONS}")
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise _Bad("encoding_format must be float or base64")
        fault = _early_fault(state, request)
    except (_Bad, UnknownFault) as exc:
        return _error(400, str(exc))
    if fault is not None:
        return fault
    tokens = sum(count_tokens(text) for text in texts)
    await _pace(state, arrival, tokens)
    data = []
    for index, text in enumerate(texts):
        vector = embedding_vector(text, dimensions)
        value: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode() if encoding == "base64" \
            else vector.tolist()
        data.append({"object": "embedding", "index": index, "embedding": value})
    return _json({"object": "list", "data": data, "model": body.get("model") or state.config.model,
                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


async def rerank(state: Any, request: web.BaseRequest, *, arrival: float) -> web.Response:
    """``POST /v1/rerank`` (and ``/rerank``)."""
    try:
        body = await _body(request)
        query = body.get("query")
        if not isinstance(query, str) or not query:
            raise _Bad("query must be a non-empty string")
        documents = _documents(body.get("documents"))
        top_n = body.get("top_n")
        if top_n is not None and (not isinstance(top_n, int) or top_n < 1):
            raise _Bad("top_n must be a whole number >= 1")
        fault = _early_fault(state, request)
    except (_Bad, UnknownFault) as exc:
        return _error(400, str(exc))
    if fault is not None:
        return fault
    # vLLM and TEI score each (query, document) pair: the query counts once per document.
    query_tokens = count_tokens(query)
    tokens = sum(query_tokens + count_tokens(doc) for doc in documents)
    await _pace(state, arrival, tokens)
    results = [{"index": i, "relevance_score": relevance_score(query, doc)} for i, doc in enumerate(documents)]
    results.sort(key=lambda r: -r["relevance_score"])
    if top_n is not None:
        results = results[:top_n]
    if body.get("return_documents"):
        for result in results:
            result["document"] = {"text": documents[result["index"]]}
    return _json({"id": f"rerank-{time.monotonic_ns():x}", "model": body.get("model") or state.config.model,
                  "results": results, "usage": {"total_tokens": tokens}})
