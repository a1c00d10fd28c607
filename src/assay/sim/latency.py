"""When each token of an answer is ready: the latency models.

A request gets a ``Ticket`` from the pacer; its handler calls ``await ticket.wait(sent)`` to learn how
many token steps are ready once at least one more than ``sent`` is. A handler that falls behind gets
several steps at once and sends them in one write, as a real server's socket would coalesce them.

- ``instant`` (every latency zero): everything is ready at once; nothing sleeps.
- ``fixed``: token ``k`` is ready at ``arrival + ttft + k * itl``. Deadlines are absolute, so sleeping late
  once does not shift the tokens after it.
- ``engine``: one scheduler task runs a continuous-batching engine. Each step admits waiting requests
  while the batch has room (each adds ``ttft_ms + prefill_ms_per_token * prompt_tokens`` to that step),
  then takes ``itl_ms + itl_ms_per_seq * running`` to decode one token for every running request.
  Finished requests leave the batch; past ``max_batch_size`` requests queue, so throughput saturates and
  latency grows like a real server's.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import deque

from assay.sim.config import SimConfig

# Event loops fire timers off their time by up to a millisecond or two: late (asyncio rounds epoll
# timeouts up to whole milliseconds; the loop has other work) or even early (uvloop rounds delays to
# the nearest millisecond from a cached clock). Aiming off by the median error seen so far centres
# token times on their deadlines. The median, tracked in small steps, ignores the rare long delays
# that would drag a mean.
_MAX_LEAD_S = 0.002
_LEAD_STEP_S = 0.00001
# The engine keeps a steady step rhythm unless it is further behind than this (host overloaded).
_ENGINE_SLACK_S = 0.002


class Waker:
    """Sleeps until absolute ``time.monotonic()`` deadlines, corrected for the loop's timer error.

    ``lead_s`` is the median lateness of past wake-ups (negative if the loop wakes early).
    """

    def __init__(self) -> None:
        self.lead_s = 0.0

    async def sleep_until(self, deadline: float) -> None:
        target = deadline - self.lead_s
        delay = target - time.monotonic()
        if delay <= 0:
            await asyncio.sleep(0)  # already due: still let other tasks run, so no caller can hog the loop
            return
        await asyncio.sleep(delay)
        late = time.monotonic() - target
        if late > self.lead_s:
            self.lead_s = min(_MAX_LEAD_S, self.lead_s + _LEAD_STEP_S)
        else:
            self.lead_s = max(-_MAX_LEAD_S, self.lead_s - _LEAD_STEP_S)


def _jittered(value: float, jitter: float, rng: random.Random) -> float:
    """``value`` scaled by a factor drawn around 1 with relative std-dev ``jitter`` (never negative)."""
    if not jitter or not value:
        return value
    return value * max(0.0, rng.gauss(1.0, jitter))


class Ticket:
    """One request's progress: ``total`` token steps, of which the pacer says how many are ready."""

    __slots__ = ("_pacer", "total")

    def __init__(self, pacer: Pacer, total: int):
        self.total = total
        self._pacer = pacer

    async def wait(self, sent: int) -> int:
        """Wait until more than ``sent`` steps are ready; the number ready (at most ``total``)."""
        return self.total

    async def wait_all(self) -> None:
        """Wait until every step is ready (a non-streamed answer)."""
        sent = 0
        while sent < self.total:
            sent = await self.wait(sent)

    def close(self) -> None:
        """The request is over (finished, failed or abandoned); it stops counting as running."""
        self._pacer._closed(self)


class Pacer:
    """Hands out tickets and counts the requests generating now (the base serves the instant model)."""

    instant = True

    def __init__(self, config: SimConfig, rng: random.Random):
        self.config = config
        self.rng = rng
        self._active = 0
        self.peak_running = 0

    @property
    def running(self) -> int:
        return self._active

    @property
    def waiting(self) -> int:
        return 0

    def start(self, arrival: float, prompt_tokens: int, total: int) -> Ticket:
        """A ticket for a request that arrived at ``arrival`` (``time.monotonic()``)."""
        self._opened()
        return Ticket(self, total)

    def _opened(self) -> None:
        self._active += 1
        self.peak_running = max(self.peak_running, self._active)

    def _closed(self, ticket: Ticket) -> None:
        self._active -= 1

    async def close(self) -> None:
        """Stop any background work."""


class FixedTicket(Ticket):
    __slots__ = ("_deadlines", "_first", "_itl", "_waker")

    def __init__(self, pacer: FixedPacer, arrival: float, total: int):
        super().__init__(pacer, total)
        config, rng = pacer.config, pacer.rng
        self._waker = pacer.waker
        self._first = arrival + config.ttft_ms / 1000
        self._itl = config.itl_ms / 1000
        self._deadlines: list[float] | None = None
        if config.jitter:
            gaps = [_jittered(config.ttft_ms / 1000, config.jitter, rng)]
            gaps += [_jittered(self._itl, config.jitter, rng) for _ in range(total - 1)]
            self._deadlines = list(itertools.accumulate(gaps, initial=arrival))[1:]

    def deadline(self, step: int) -> float:
        """When token ``step`` (0-based) is due."""
        if self._deadlines is not None:
            return self._deadlines[step]
        return self._first + step * self._itl

    async def wait(self, sent: int) -> int:
        await self._waker.sleep_until(self.deadline(sent))
        now = time.monotonic()
        ready = sent + 1
        while ready < self.total and self.deadline(ready) <= now:
            ready += 1
        return ready

    async def wait_all(self) -> None:
        await self._waker.sleep_until(self.deadline(self.total - 1))


class FixedPacer(Pacer):
    """Exactly ``ttft_ms`` before the first token and ``itl_ms`` between tokens, for every request."""

    instant = False

    def __init__(self, config: SimConfig, rng: random.Random):
        super().__init__(config, rng)
        self.waker = Waker()

    def start(self, arrival: float, prompt_tokens: int, total: int) -> Ticket:
        self._opened()
        return FixedTicket(self, arrival, total)


class EngineTicket(Ticket):
    __slots__ = ("_waiter", "admitted", "closed", "prompt_tokens", "ready")

    def __init__(self, pacer: EnginePacer, prompt_tokens: int, total: int):
        super().__init__(pacer, total)
        self.prompt_tokens = prompt_tokens
        self.ready = 0
        self.closed = False
        self.admitted = False
        self._waiter: asyncio.Future[None] | None = None

    async def wait(self, sent: int) -> int:
        while self.ready <= sent:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self.ready

    def advance(self, steps: int) -> None:
        """The engine decoded ``steps`` more tokens of this request; wake its handler."""
        self.ready = min(self.total, self.ready + steps)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class EnginePacer(Pacer):
    """A continuous-batching engine driven by one scheduler task (see the module docstring)."""

    instant = False

    def __init__(self, config: SimConfig, rng: random.Random):
        super().__init__(config, rng)
        self._waiting: deque[EngineTicket] = deque()
        self._running: list[EngineTicket] = []
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._waker = Waker()
        # Free decoding (no step time) hands out every token in the step that admits the request.
        self._tokens_per_step = 1 if (config.itl_ms or config.itl_ms_per_seq) else 1 << 62

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def start(self, arrival: float, prompt_tokens: int, total: int) -> Ticket:
        ticket = EngineTicket(self, prompt_tokens, total)
        self._waiting.append(ticket)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="assay-sim-engine")
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        return ticket

    def _closed(self, ticket: Ticket) -> None:
        assert isinstance(ticket, EngineTicket)
        ticket.closed = True
        if not ticket.admitted:
            self._waiting.remove(ticket)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            if not self._waiting and not self._running:
                self._wakeup = loop.create_future()
                await self._wakeup
                deadline = None
                continue
            now = time.monotonic()
            if deadline is None or now - deadline > _ENGINE_SLACK_S:
                deadline = now  # idle before, or the host is too busy to keep the rhythm
            deadline += self._step_ms(self._admit()) / 1000
            await self._waker.sleep_until(deadline)
            self._decode()

    def _admit(self) -> float:
        """Move waiting requests into the batch while it has room; their prefill cost in ms."""
        limit = self.config.max_batch_size or float("inf")
        prefill_ms = 0.0
        while self._waiting and len(self._running) < limit:
            ticket = self._waiting.popleft()
            ticket.admitted = True
            self._running.append(ticket)
            prefill_ms += self.config.ttft_ms + self.config.prefill_ms_per_token * ticket.prompt_tokens
        self.peak_running = max(self.peak_running, len(self._running))
        return prefill_ms

    def _step_ms(self, prefill_ms: float) -> float:
        decode_ms = self.config.itl_ms + self.config.itl_ms_per_seq * len(self._running)
        return _jittered(prefill_ms + decode_ms, self.config.jitter, self.rng)

    def _decode(self) -> None:
        """One token for every running request; finished and abandoned ones leave the batch."""
        still_running = []
        for ticket in self._running:
            if ticket.closed:
                continue
            ticket.advance(self._tokens_per_step)
            if ticket.ready < ticket.total:
                still_running.append(ticket)
        self._running = still_running


def make_pacer(config: SimConfig, rng: random.Random) -> Pacer:
    """The pacer for ``config``: instant when every latency is zero, else the configured model."""
    if config.instant:
        return Pacer(config, rng)
    if config.latency_model == "fixed":
        return FixedPacer(config, rng)
    return EnginePacer(config, rng)
