"""What every event loop of a perf run shares, whichever executor runs it (``assay.perf.executors``).

The inline run, each ``--num-workers`` process and each Ray actor builds a :class:`Setup` from the run's config
(tokenizer and prompts are built where they are used, not pickled across processes), runs its share of a plan
through :meth:`Setup.recorded_run` and runs its event loop with :func:`event_loop_run`. This module imports
none of ``run``, ``workers``, ``ray_workers`` or ``executors``, so each of them can import it without a cycle.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Coroutine, Protocol, Sequence

from assay.client import OpenAIClient
from assay.client.endpoints import EndpointClients
from assay.client.transport import kernel_timestamps_supported
from assay.errors import DatasetError
from assay.perf.config import PerfConfig
from assay.perf.datasets import PromptSet, load_prompt_set
from assay.perf.health import HealthMonitor
from assay.perf.plans import LoadPlan
from assay.perf.records import RecordWriter
from assay.perf.runner import PlanRun, RequestBuilder
from assay.perf.stop_rules import ErrorGuard
from assay.utils.tokenizer import Tokenizer, load_tokenizer

log = logging.getLogger("assay.perf")


class ProgressBar(Protocol):
    """What an executor needs of the console's progress bar (a rich ``Progress`` with one task): it is entered
    while the requests run and shown the plan's done and failed counts."""

    @property
    def task_ids(self) -> Sequence[Any]: ...

    def update(self, task_id: Any, *, completed: int, failed: int) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> Any: ...


@dataclass
class Setup:
    """The parts of a run built from its config before any request (rebuilt in each worker process or actor)."""

    config: PerfConfig
    tokenizer: Tokenizer | None
    prompts: PromptSet
    api: str

    @classmethod
    def from_config(cls, config: PerfConfig) -> Setup:
        tokenizer = load_tokenizer(config.tokenizer_path) if config.tokenizer_path else None
        prompts = load_prompt_set(config, tokenizer)
        api = config.endpoint[1]
        if api == "rerank" and prompts.prompt(0).documents is None:
            raise DatasetError(f"--api rerank needs queries with documents, which --dataset {prompts.name} has not: "
                               "use --dataset rerank (a JSONL of {query, documents}) or random_rerank")
        return cls(config, tokenizer, prompts, api)

    def count_tokens(self) -> Callable[[str], int] | None:
        """Counts answer tokens when the server sends no usage (nothing to count for embeddings/rerank)."""
        tokenizer = self.tokenizer
        if tokenizer is None or self.config.pooling:
            return None
        return lambda text: len(tokenizer.encode(text))

    @asynccontextmanager
    async def recorded_run(self, client: OpenAIClient, plan: LoadPlan, records: str | Path, origin_ns: int, *,
                           worker: int = 0, workers: int = 1, stop: asyncio.Event | None = None,
                           repeat: int = 0,
                           endpoints: EndpointClients | None = None,
                           ) -> AsyncIterator[tuple[PlanRun, HealthMonitor]]:
        """``plan`` (or one worker's share of it) set up to write ``records``, with a health monitor that the
        caller starts; the monitor is stopped and the records file closed afterwards. The inline runner,
        worker processes and Ray actors all run their share this way. Repeat ``r`` of a plan draws its
        arrivals with ``seed + r``, so repeats are independent samples of the same load. With ``endpoints``
        the requests are spread over them (``client`` is then their first)."""
        writer = RecordWriter(records)
        monitor = HealthMonitor(lambda t, lag, cpu: writer.add_health(worker, t, lag, cpu), origin_ns=origin_ns)
        run = PlanRun(plan, client, self.builder(client), writer, origin_ns, seed=self.config.seed + repeat,
                      worker=worker, workers=workers, multi_turn=self.config.multi_turn,
                      count_tokens=self.count_tokens(), stop=stop or asyncio.Event(), repeat=repeat,
                      guard=ErrorGuard.from_config(self.config, workers), endpoints=endpoints)
        try:
            yield run, monitor
        finally:
            await monitor.stop()
            writer.close()

    def builder(self, client: OpenAIClient, **generation_update: object) -> RequestBuilder:
        generation = self.config.generation()
        if generation_update:
            generation = generation.model_copy(update=generation_update)
        return RequestBuilder(client, self.api, generation, self.config.stream, self.prompts)


def event_loop_run(coro: Coroutine[Any, Any, Any], kind: str = "auto") -> None:
    """Run ``coro`` on the event loop ``kind`` names (``PerfConfig.event_loop``): the parent and every worker
    process pick theirs the same way."""
    if kind == "auto":
        kind = "asyncio" if kernel_timestamps_supported() else "uvloop"
    if kind == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.info("uvloop is not installed: using asyncio's event loop")
        else:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(coro)
            return
    asyncio.run(coro)
