"""The simulator's HTTP side: routes, request handling, streaming and fault injection (aiohttp.web).

It runs on aiohttp's low-level ``web.Server``: five fixed routes need no router, and the server's
connection handler can note when each request's bytes arrived (see ``_StampingHandler``).

Routes: ``POST /v1/chat/completions``, ``POST /v1/completions``, ``GET /v1/models``, ``GET /health`` and
``GET /sim/stats`` (counters for tests and benchmarks); ``POST /v1/embeddings``, ``/v1/rerank`` and
``/rerank`` (see ``assay.sim.pooling``). Anything else is a 404 with an OpenAI error
object. With ``api_key`` set, every ``/v1`` route needs ``Authorization: Bearer KEY``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from assay.sim import pooling
from assay.sim.answers import Answer, AnswerMaker
from assay.sim.config import SimConfig
from assay.sim.faults import FAULT_HEADER, RETRY_AFTER_S, FaultPicker, UnknownFault
from assay.sim.latency import Pacer, Ticket, make_pacer
from assay.sim.protocol import BadRequest, Endpoint, GenRequest, parse_request
from assay.sim.render import (
    DONE,
    JSON_HEADERS,
    SSE_HEADERS,
    Renderer,
    error_object,
    malformed_body,
    malformed_event,
)
from assay.sim.metrics import Observation, SimMetrics
from assay.sim.replay import ReplayBook

logger = logging.getLogger("assay.sim")

# A disconnect fault drops the connection after this many token steps (fewer if the answer is shorter).
_DISCONNECT_AFTER_STEPS = 2
# Long prompts are part of what the simulator is for; aiohttp's default cap is 1 MiB.
_MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass
class SimState:
    """Everything the handlers share: settings, answer source, latency model, faults and counters."""

    config: SimConfig
    answers: AnswerMaker
    pacer: Pacer
    faults: FaultPicker
    auth: str | None
    requests_total: int = 0
    requests_by_endpoint: dict[str, int] = field(default_factory=dict)
    active_streams: int = 0
    peak_active_streams: int = 0
    handler_tasks: set[asyncio.Task] = field(default_factory=set)
    metrics: SimMetrics = field(default_factory=lambda: SimMetrics("assay-sim"))

    @classmethod
    def from_config(cls, config: SimConfig) -> SimState:
        # One seeded generator for lengths, faults and jitter: a seed reproduces a run's draws.
        rng = random.Random(config.seed)
        replay = ReplayBook.load(config.replay_path) if config.replay_path is not None else None
        return cls(
            config=config,
            answers=AnswerMaker(config, rng, replay),
            pacer=make_pacer(config, rng),
            faults=FaultPicker(config, rng),
            auth=f"Bearer {config.api_key}" if config.api_key else None,
            metrics=SimMetrics(config.model),
        )

    def stats(self) -> dict:
        """The counters ``GET /sim/stats`` returns."""
        return {
            "requests_total": self.requests_total,
            "requests_by_endpoint": dict(self.requests_by_endpoint),
            "running": self.pacer.running,
            "waiting": self.pacer.waiting,
            "peak_running": self.pacer.peak_running,
            "active_streams": self.active_streams,
            "peak_active_streams": self.peak_active_streams,
            "faults": dict(self.faults.injected),
        }


class _StampingHandler(web.RequestHandler):
    """aiohttp's connection handler, noting when bytes last arrived.

    A request reaches its handler a few event-loop turns after its bytes arrive, which under load is
    a millisecond or more. Latencies count from the arrival instead, so the TTFT a client measures is
    the configured one, not that plus the server's own queueing.
    """

    arrived_at: float | None = None

    def data_received(self, data: bytes) -> None:
        self.arrived_at = time.monotonic()
        super().data_received(data)


class _Server(web.Server):
    def __call__(self) -> web.RequestHandler:
        try:
            return _StampingHandler(self, loop=self._loop, **self._kwargs)
        except (AttributeError, TypeError):  # aiohttp changed its internals: count from the handler
            return super().__call__()


def _arrival(request: web.BaseRequest) -> float:
    """When the request's last bytes arrived (``time.monotonic()``), or now if that is unknown."""
    now = time.monotonic()
    stamp = getattr(request.protocol, "arrived_at", None)
    return now if stamp is None else min(stamp, now)


def build_server(state: SimState) -> web.Server:
    """aiohttp's low-level server answering with ``state``: a fixed route table needs no router."""
    routes = {
        "/v1/chat/completions": ("POST", functools.partial(_generate, state, "chat")),
        "/v1/completions": ("POST", functools.partial(_generate, state, "completions")),
        "/v1/models": ("GET", functools.partial(models, state)),
        "/v1/embeddings": ("POST", functools.partial(_pooling, state, pooling.embeddings)),
        "/v1/rerank": ("POST", functools.partial(_pooling, state, pooling.rerank)),
        "/rerank": ("POST", functools.partial(_pooling, state, pooling.rerank)),
        "/health": ("GET", health),
        "/sim/stats": ("GET", functools.partial(stats, state)),
        "/metrics": ("GET", functools.partial(prometheus, state)),
    }

    async def dispatch(request: web.BaseRequest) -> web.StreamResponse:
        route = routes.get(request.path)
        if route is None:
            return _error(404, f"no route {request.method} {request.path}")
        method, handler = route
        if request.method != method:
            return _error(405, f"use {method} for {request.path}")
        return await handler(request)

    def make_request(*args: Any) -> web.BaseRequest:
        # aiohttp's default factory, but with room for long prompts.
        return web.BaseRequest(*args, asyncio.get_running_loop(), client_max_size=_MAX_BODY_BYTES)

    # handler_cancellation: a client that hangs up cancels its handler, which takes the request out of
    # the engine's batch at once, as vLLM aborts a request whose client went away.
    return _Server(dispatch, request_factory=make_request, handler_cancellation=True, access_log=None)


def _json(payload: dict, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    all_headers = {**JSON_HEADERS, **headers} if headers else JSON_HEADERS
    return web.Response(body=orjson.dumps(payload), status=status, headers=all_headers)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """An OpenAI error object with its HTTP status."""
    return _json(error_object(status, message), status, headers)


def _denied(state: SimState, request: web.BaseRequest) -> web.Response | None:
    """A 401 when an api key is set and the request does not carry it."""
    if state.auth is None or request.headers.get("Authorization") == state.auth:
        return None
    return _error(401, "Incorrect API key provided: pass it as 'Authorization: Bearer KEY'.")


async def health(request: web.BaseRequest) -> web.Response:
    return _json({"status": "ok"})


async def stats(state: SimState, request: web.BaseRequest) -> web.Response:
    return _json(state.stats())


async def prometheus(state: SimState, request: web.BaseRequest) -> web.Response:
    """``/metrics`` in vLLM's names (``assay.sim.metrics``)."""
    text = state.metrics.render(state.pacer.running, state.pacer.waiting, state.config.max_batch_size)
    return web.Response(text=text, content_type="text/plain", charset="utf-8",
                        headers={"X-Prometheus-Format": "0.0.4"})


async def models(state: SimState, request: web.BaseRequest) -> web.Response:
    denied = _denied(state, request)
    if denied is not None:
        return denied
    model = {"id": state.config.model, "object": "model", "created": 0, "owned_by": "assay-sim"}
    return _json({"object": "list", "data": [model]})


async def _pooling(state: SimState, handler: Any, request: web.BaseRequest) -> web.Response:
    """Embeddings and rerank (``assay.sim.pooling``), timed from the arrival of the whole body."""
    state.requests_total += 1
    denied = _denied(state, request)
    if denied is not None:
        return denied
    await request.read()
    return await handler(state, request, arrival=_arrival(request))


async def _generate(state: SimState, endpoint: Endpoint, request: web.BaseRequest) -> web.StreamResponse:
    """Validate, pick a fault, draw the answers, then answer at the pace of the latency model."""
    state.requests_total += 1
    state.requests_by_endpoint[endpoint] = state.requests_by_endpoint.get(endpoint, 0) + 1
    denied = _denied(state, request)
    if denied is not None:
        return denied
    try:
        raw = await request.read()
        arrival = _arrival(request)  # after the body: the request is complete once its last bytes are in
        gen = parse_request(raw, endpoint, default_model=state.config.model, reasoning=state.config.reasoning,
                            max_model_len=state.config.max_model_len)
        answers = _answers(state, gen)
        if answers is None:
            return _error(404, "no replay entry matches the prompt (replay_strict is on)")
        fault = state.faults.pick(request.headers.get(FAULT_HEADER))
    except (BadRequest, UnknownFault) as exc:
        return _error(400, str(exc))
    early = _early_fault(fault, gen)
    if early is not None:
        return early
    steps = max(1, max(answer.completion_tokens for answer in answers))
    ticket = state.pacer.start(arrival, gen.prompt_tokens, steps)
    task = asyncio.current_task()
    state.handler_tasks.add(task)  # type: ignore[arg-type]
    state.active_streams += 1
    state.peak_active_streams = max(state.peak_active_streams, state.active_streams)
    obs = state.metrics.begin(arrival, gen.prompt_tokens)
    try:
        if gen.stream:
            response = await _stream(request, state, Renderer(gen), answers, ticket, fault, obs)
        else:
            response = await _respond(request, state, Renderer(gen), answers, ticket, fault)
        if fault is None:
            state.metrics.finish(obs, time.monotonic(), sum(a.completion_tokens for a in answers),
                                 answers[0].finish_reason)
        return response
    finally:
        ticket.close()
        state.active_streams -= 1
        state.handler_tasks.discard(task)  # type: ignore[arg-type]


def _answers(state: SimState, gen: GenRequest) -> list[Answer] | None:
    """The ``n`` answers of a request, or ``None`` when strict replay finds no entry."""
    entry = state.answers.lookup(gen.prompt_text)
    if entry is not None:
        calls = gen.tools.admit(entry.tool_calls)
        return [state.answers.replayed(entry, max_tokens=gen.max_tokens, reasoning=gen.reasoning, calls=calls)] * gen.n
    if state.answers.strict:
        return None
    return [
        state.answers.filler(max_tokens=gen.max_tokens, min_tokens=gen.min_tokens, ignore_eos=gen.ignore_eos,
                             reasoning=gen.reasoning)
        for _ in range(gen.n)
    ]


def _early_fault(fault: str | None, gen: GenRequest) -> web.Response | None:
    """The response of a fault that answers at once, before any generation; ``None`` for the others."""
    if fault == "error":
        return _error(500, "simulated server error")
    if fault == "429":
        return _error(429, "simulated rate limit: try again later", {"Retry-After": str(RETRY_AFTER_S)})
    if fault == "error_200":
        error = error_object(500, "simulated error reported in a 200 response")
        if gen.stream:
            return web.Response(body=b"data: " + orjson.dumps(error) + b"\n\n" + DONE, headers=SSE_HEADERS)
        return _json(error)
    return None


async def _stall(state: SimState) -> None:
    # Cancelled by SimServer.stop(), so a stalled answer never holds up shutdown.
    await asyncio.sleep(state.config.stall_s)


def _drop_connection(request: web.BaseRequest) -> None:
    """Abort the connection: no more bytes, no end of the chunked body, no ``[DONE]``."""
    transport = request.transport
    if transport is not None:
        transport.abort()


async def _respond(
    request: web.BaseRequest, state: SimState, renderer: Renderer, answers: list[Answer], ticket: Ticket,
    fault: str | None,
) -> web.StreamResponse:
    """A non-streamed answer, sent when its last token is ready."""
    if fault == "stall":
        await _stall(state)
    await ticket.wait_all()
    if fault == "disconnect":
        _drop_connection(request)
        return web.Response()  # aiohttp finds the connection closed and sends nothing
    if fault == "malformed":
        return web.Response(body=malformed_body(), headers=JSON_HEADERS)
    return web.Response(body=renderer.body(answers), headers=JSON_HEADERS)


async def _stream(
    request: web.BaseRequest, state: SimState, renderer: Renderer, answers: list[Answer], ticket: Ticket,
    fault: str | None, obs: Observation | None = None,
) -> web.StreamResponse:
    """A streamed answer: each token step written when the latency model has it ready."""
    if fault is None and state.pacer.instant:
        # The whole stream in one write, so a benchmark against the simulator measures the client.
        return web.Response(body=renderer.stream_bytes(answers), headers=SSE_HEADERS)
    plan = renderer.stream(answers)
    steps = plan.steps
    total = len(steps)
    if fault == "malformed":
        bad = min(1, total - 1)
        steps[bad] = malformed_event() + steps[bad]
    # A disconnect drops the connection after `cut` steps; a stall pauses after the first step (or, for a
    # one-token answer, before it), so the pause is mid-stream either way.
    cut = min(_DISCONNECT_AFTER_STEPS, total - 1) if fault == "disconnect" else total
    stall_at = min(1, total - 1) if fault == "stall" else None
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)  # headers go out now, as a real server's do
    head = plan.head
    sent = 0
    try:
        while True:
            if sent == stall_at:
                stall_at = None
                if head:
                    await response.write(head)
                    head = b""
                await _stall(state)
            if sent >= cut:
                if head:
                    await response.write(head)
                _drop_connection(request)
                return response
            ready = min(await ticket.wait(sent), cut if stall_at is None else stall_at)
            data = head + b"".join(steps[sent:ready])
            head = b""
            if obs is not None and obs.first_token is None and ready > 0:
                obs.first_token = time.monotonic()
            if ready == total:
                await response.write_eof(data + plan.tail)
                return response
            await response.write(data)
            sent = ready
    except ConnectionError:
        logger.debug("client went away mid-stream")
        return response
