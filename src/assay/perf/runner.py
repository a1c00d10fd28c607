"""Executes one load plan in one event loop: drives the shared client, never retries, records every request.

Closed loop: ``parallel`` lanes, each sending its next request when the last one finished (a ramp starts
the lanes one by one). Open loop: requests go out at absolute arrival times (drawn up front), at most
``parallel`` in flight; each record keeps its scheduled time and how late it actually went out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

import orjson

from assay.client import OpenAIClient
from assay.client.pooling import embeddings_payload, rerank_payload
from assay.errors import DatasetError
from assay.perf.datasets import Prompt, PromptSet
from assay.perf.metrics import request_metrics
from assay.perf.plans import LoadPlan
from assay.perf.records import RecordWriter, RequestRecord
from assay.perf.stop_rules import ErrorGuard
from assay.types import Completion, ErrorInfo, GenerationConfig, Timings
from assay.utils.gctune import collector_tuned_for_load

if TYPE_CHECKING:
    from assay.client.endpoints import EndpointClients

log = logging.getLogger("assay.perf")

NS_PER_S = 1_000_000_000


async def _sleep_until(due_ns: int) -> None:
    """Sleep until ``due_ns`` (perf_counter), never waking early.

    The event loop's timers have millisecond resolution and may fire up to a millisecond before the
    deadline; the remainder is spent yielding to the loop, so other requests keep flowing meanwhile.
    """
    wait_s = (due_ns - time.perf_counter_ns()) / NS_PER_S
    if wait_s > 0.002:
        await asyncio.sleep(wait_s - 0.001)
    while time.perf_counter_ns() < due_ns:
        await asyncio.sleep(0)


@dataclass
class Counters:
    """Counters the runner bumps as requests finish (read by progress bars)."""

    done: int = 0
    failed: int = 0

    def add(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok


@dataclass
class RequestBuilder:
    """Turns prompts into request bodies (serialised once per distinct prompt) for one endpoint."""

    client: OpenAIClient
    api: str
    generation: GenerationConfig
    stream: bool
    prompts: PromptSet
    _cache: dict[int, bytes] = field(default_factory=dict)

    @property
    def pooling(self) -> bool:
        """Embeddings or rerank: one JSON body per request, no generation settings."""
        return self.api in ("embeddings", "rerank")

    async def send(self, body: bytes, client: OpenAIClient | None = None) -> Completion:
        """Send one prepared body to ``client``'s endpoint (else this builder's); failures come back recorded in
        the ``Completion``."""
        client = client or self.client
        if self.pooling:
            return await client.send_pooling(self.api, body, capture_errors=True)  # type: ignore[arg-type]
        return await client.send(self.api, body, capture_errors=True)  # type: ignore[arg-type]

    def body(self, prompt: Prompt, messages: list[dict[str, Any]] | None = None) -> bytes:
        if self.pooling:
            return orjson.dumps(self._pooling_payload(prompt))
        content: Any = messages if messages is not None else prompt.messages
        if self.api == "completions":
            content = prompt.text if messages is None else "\n".join(
                m["content"] for m in messages if isinstance(m["content"], str))
        payload = self.client.build_payload(self.api, content, generation=self.generation,  # type: ignore[arg-type]
                                            stream=self.stream, tools=prompt.tools, tool_choice=prompt.tool_choice)
        if prompt.max_tokens is not None:
            payload["max_tokens"] = prompt.max_tokens
            if payload.get("min_tokens") is not None:  # the run's --min-tokens may exceed a short recorded answer
                payload["min_tokens"] = min(payload["min_tokens"], prompt.max_tokens)
        if prompt.min_tokens is not None:
            payload["min_tokens"] = prompt.min_tokens
        return orjson.dumps(payload)

    def _pooling_payload(self, prompt: Prompt) -> dict[str, Any]:
        model = self.client.config.model or ""
        extra = self.generation.extra_body
        if self.api == "embeddings":
            return embeddings_payload(model, prompt.text, extra)
        if prompt.documents is None:
            raise DatasetError("--api rerank needs a query with documents: use --dataset rerank or random_rerank")
        return rerank_payload(model, prompt.text, prompt.documents, extra)

    def for_index(self, index: int) -> tuple[int, Prompt, bytes]:
        """(prompt index, prompt, body) of request ``index`` (bodies cached for finite prompt sets)."""
        size = self.prompts.size
        if size is None:
            prompt = self.prompts.prompt(index)
            return index, prompt, self.body(prompt)
        key = index % size
        prompt = self.prompts.prompt(key)
        body = self._cache.get(key)
        if body is None:
            body = self._cache[key] = self.body(prompt)
        return key, prompt, body


@dataclass
class PlanRun:
    """Everything one event loop needs to execute a plan."""

    plan: LoadPlan
    client: OpenAIClient
    builder: RequestBuilder
    writer: RecordWriter | None
    origin_ns: int
    seed: int = 0
    worker: int = 0
    workers: int = 1
    multi_turn: bool = False
    count_tokens: Callable[[str], int] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    progress: Counters = field(default_factory=Counters)
    repeat: int = 0  # which run of the plan (--repeats), stored with each record
    guard: ErrorGuard | None = None  # --stop-error-after: stops sending (in-flight requests finish), not Ctrl-C
    endpoints: EndpointClients | None = None  # several --url: who spreads the requests (else all go to ``client``)

    def global_index(self, local: int) -> int:
        # Worker k of n takes requests k, k+n, k+2n... of the plan, so prompts are spread the same way
        # whatever the number of workers.
        return local * self.workers + self.worker

    def deadline_ns(self) -> int | None:
        d = self.plan.duration_s
        return None if d is None else self.origin_ns + int(d * NS_PER_S)

    def halted(self) -> bool:
        """Whether to send no more: Ctrl-C (``stop``) or the mid-plan error guard tripped."""
        return self.stop.is_set() or (self.guard is not None and self.guard.tripped)

    async def execute(self) -> bool:
        """Run the plan; True when it ran to the end (or the error guard ended it), False when stopped (Ctrl-C)."""
        with collector_tuned_for_load():
            await _sleep_until(self.origin_ns)
            if self.plan.open_loop:
                await self._open_loop()
            else:
                await self._closed_loop()
        if self.writer is not None:
            self.writer.flush()
        return not self.stop.is_set()

    # ---- the two loops --------------------------------------------------------------------------------

    async def _closed_loop(self) -> None:
        indices = iter(range(self.plan.number))
        deadline = self.deadline_ns()

        async def lane(start_s: float) -> None:
            if start_s > 0:  # a ramp releases this lane later
                await _sleep_until(self.origin_ns + int(start_s * NS_PER_S))
            for local in indices:  # one shared iterator: each index is taken by exactly one lane
                now = time.perf_counter_ns()
                if self.halted() or (deadline is not None and now >= deadline):
                    return
                await self._conversation(local, now)

        lanes = [asyncio.ensure_future(lane(float(start_s))) for start_s in self.plan.lane_offsets_s()]
        await self._wait_or_stop(lanes)

    async def _open_loop(self) -> None:
        offsets = self.plan.arrival_offsets_s(seed=self.seed * 1000 + self.worker)
        cap = asyncio.Semaphore(self.plan.parallel) if self.plan.parallel else None
        deadline = self.deadline_ns()
        in_flight: set[asyncio.Task] = set()

        async def send(local: int, due_ns: int, prepared: tuple[int, Prompt, bytes]) -> None:
            try:
                await self._conversation(local, due_ns, prepared)
            finally:
                if cap is not None:
                    cap.release()

        async def schedule() -> None:
            for local, offset_s in enumerate(offsets):
                due_ns = self.origin_ns + int(offset_s * NS_PER_S)
                # Built before its time comes (a trace's long prompts, a tokenizer's fitting), so the send lag
                # measures sending, not making up the prompt.
                prepared = self.builder.for_index(self.global_index(local))
                await _sleep_until(due_ns)
                if self.halted() or (deadline is not None and due_ns >= deadline):
                    return
                if cap is not None:
                    await cap.acquire()
                    if self.halted():
                        cap.release()
                        return
                task = asyncio.ensure_future(send(local, due_ns, prepared))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)

        scheduler = asyncio.ensure_future(schedule())
        await self._wait_or_stop([scheduler])
        if in_flight:
            await self._wait_or_stop(list(in_flight))

    async def _wait_or_stop(self, tasks: list[asyncio.Future]) -> None:
        """Wait for ``tasks``; on ``stop`` cancel them (their unfinished requests are not recorded)."""
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending | {stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    return
                pending.discard(stopper)
                for task in done:
                    if task is not stopper and not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            stopper.cancel()

    # ---- one request (or one conversation of several turns) -------------------------------------------

    async def _conversation(self, local: int, due_ns: int,
                            prepared: tuple[int, Prompt, bytes] | None = None) -> None:
        index = self.global_index(local)
        prompt_index, prompt, body = prepared if prepared is not None else self.builder.for_index(index)
        # A conversation stays on one endpoint, where its earlier turns are cached.
        with self._endpoint() as (client, endpoint):
            completion = await self._send(body, client)
            self._record(index, prompt_index, 0, due_ns, prompt.input_tokens, completion, endpoint)
            if not (self.multi_turn and prompt.turns and len(prompt.turns) > 1):
                return
            messages = list(prompt.messages)
            for turn, text in enumerate(prompt.turns[1:], 1):
                if not completion.ok or self.halted():
                    return
                messages += [{"role": "assistant", "content": completion.text}, {"role": "user", "content": text}]
                due_ns = time.perf_counter_ns()
                completion = await self._send(self.builder.body(prompt, messages), client)
                self._record(index, prompt_index, turn, due_ns, None, completion, endpoint)

    @contextmanager
    def _endpoint(self) -> Iterator[tuple[OpenAIClient, str | None]]:
        if self.endpoints is None:
            yield self.client, None
            return
        with self.endpoints.using() as chosen:
            yield chosen

    async def _send(self, body: bytes, client: OpenAIClient) -> Completion:
        try:
            return await self.builder.send(body, client)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a client bug must not end the run; it is recorded
            log.exception("unexpected error in a request")
            now = time.perf_counter_ns()
            return Completion.model_construct(
                text="", reasoning=None, finish_reason=None, model=None, response_id=None,
                usage=Completion().usage, timings=Timings(request_start_ns=now, done_ns=now), chunk_count=0,
                attempts=1, error=ErrorInfo(kind="client_exception", message=f"{exc.__class__.__name__}: {exc}"))

    def _record(self, index: int, prompt_index: int, turn: int, due_ns: int, input_tokens: int | None,
                completion: Completion, endpoint: str | None = None) -> None:
        metrics = request_metrics(completion, input_tokens=input_tokens, count_tokens=self.count_tokens)
        timings = completion.timings
        error = completion.error
        origin = self.origin_ns
        if self.writer is not None:
            self.writer.add(RequestRecord(
                worker=self.worker, request_index=index, prompt_index=prompt_index, turn=turn,
                scheduled_s=(due_ns - origin) / NS_PER_S, start_s=(timings.request_start_ns - origin) / NS_PER_S,
                done_s=None if timings.done_ns is None else (timings.done_ns - origin) / NS_PER_S,
                metrics=metrics, error_kind=error.kind if error else None,
                error_status=error.status if error else None,
                error_message=error.message[:500] if error else None,
                chunk_count=completion.chunk_count, finish_reason=completion.finish_reason,
                response_id=completion.response_id, tool_calls=len(completion.tool_calls), repeat=self.repeat,
                endpoint=endpoint,
            ))
        self.progress.add(completion.ok)
        if self.guard is not None and not self.guard.tripped and self.guard.check(self.progress.done,
                                                                                    self.progress.failed):
            log.warning("plan %s: %d of %d requests failed: over --stop-error-rate %g%%, stopping the plan",
                        self.plan.name, self.progress.failed, self.progress.done, self.guard.error_rate_pct)
