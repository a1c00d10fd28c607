"""Executors: how one run of a plan sends its requests, in this event loop, in worker processes or on Ray actors.

``run_perf`` writes each plan's settings into its ``records.sqlite``, then asks one executor, picked from the
config by :func:`executor_for`, to run the plan once per repeat. Every executor has the same interface::

    class Executor(Protocol):
        async def run_plan(self, plan: LoadPlan, records: Path, stop: asyncio.Event,
                           progress: ProgressBar | None, *, repeat: int = 0) -> bool: ...

- ``plan``: the whole plan; an executor with several workers splits it (``LoadPlan.split``: worker ``k`` of
  ``n`` takes requests ``k, k+n, ...`` and an even share of the concurrency or rate).
- ``records``: the plan's records file; the executor adds this repeat's request rows and health samples to it
  (merged from the workers' own files, which it removes), and nothing else: summarising is the caller's.
- ``stop``: set on Ctrl-C; the executor stops sending, drops the requests still in flight and keeps what
  finished.
- ``progress``: the console's bar or None; entered while the requests run and shown the done and failed counts.
- ``repeat``: which run of the plan (``--repeats``); its arrivals are drawn with ``seed + repeat`` and each row
  carries it.
- Returns False when ``stop`` cut the run short, True when it ran to the end (or the error guard ended it);
  raises ``AssayError`` (one line) when a worker cannot start or fails.

The executors are :class:`InlineExecutor` (one event loop, this one; the default), :class:`ProcessExecutor`
(``--num-workers N``: N processes on this machine) and :class:`RayExecutor` (``--ray-address``: N Ray actors,
possibly on several machines). Each is built from the run's :class:`~assay.perf.run_setup.Setup`; the inline one
also sends through the run's open endpoints, while worker processes and actors open their own. What the three
share lives in ``assay.perf.run_setup``, which none of them reaches through ``assay.perf.run``.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Protocol, runtime_checkable

from assay.client.endpoints import EndpointClients
from assay.perf.plans import LoadPlan
from assay.perf.ray_workers import run_plan_on_ray
from assay.perf.run_setup import ProgressBar, Setup
from assay.perf.runner import NS_PER_S, Counters
from assay.perf.workers import run_plan_in_workers

__all__ = ["Executor", "InlineExecutor", "ProcessExecutor", "RayExecutor", "executor_for"]


@runtime_checkable
class Executor(Protocol):
    """Runs one repeat of a plan and adds its records to ``records`` (the contract is in the module docstring)."""

    async def run_plan(self, plan: LoadPlan, records: Path, stop: asyncio.Event, progress: ProgressBar | None, *,
                       repeat: int = 0) -> bool: ...


class InlineExecutor:
    """The plan in this process's event loop, through the run's own endpoints (one CPU core's worth of load)."""

    def __init__(self, setup: Setup, endpoints: EndpointClients) -> None:
        self.setup, self.endpoints = setup, endpoints

    async def run_plan(self, plan: LoadPlan, records: Path, stop: asyncio.Event, progress: ProgressBar | None, *,
                       repeat: int = 0) -> bool:
        origin = time.perf_counter_ns() + NS_PER_S // 50
        async with self.setup.recorded_run(self.endpoints.first, plan, records, origin, stop=stop, repeat=repeat,
                                           endpoints=self.endpoints) as (run, monitor):
            poller = asyncio.ensure_future(_poll_progress(progress, run.progress))
            monitor.start()
            try:
                with progress if progress is not None else nullcontext():
                    return await run.execute()
            finally:
                poller.cancel()


class ProcessExecutor:
    """The plan shared by ``--num-workers`` processes on this machine (``assay.perf.workers``)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup

    async def run_plan(self, plan: LoadPlan, records: Path, stop: asyncio.Event, progress: ProgressBar | None, *,
                       repeat: int = 0) -> bool:
        return await run_plan_in_workers(self.setup.config, plan, records, stop, progress, repeat=repeat)


class RayExecutor:
    """The plan shared by ``--num-workers`` Ray actors (``assay.perf.ray_workers``); Ray must be connected
    first (``connect_ray``, once per run)."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup

    async def run_plan(self, plan: LoadPlan, records: Path, stop: asyncio.Event, progress: ProgressBar | None, *,
                       repeat: int = 0) -> bool:
        return await run_plan_on_ray(self.setup.config, plan, records, stop, progress, repeat=repeat)


def executor_for(setup: Setup, endpoints: EndpointClients) -> Executor:
    """The executor the config asks for: Ray with ``--ray-address``, else processes with ``--num-workers`` over 1,
    else this event loop."""
    config = setup.config
    if config.ray_address:
        return RayExecutor(setup)
    if config.num_workers > 1:
        return ProcessExecutor(setup)
    return InlineExecutor(setup, endpoints)


async def _poll_progress(progress: ProgressBar | None, counters: Counters) -> None:
    if progress is None:
        return
    task_id = progress.task_ids[0]
    while True:
        progress.update(task_id, completed=counters.done, failed=counters.failed)
        await asyncio.sleep(0.25)
