"""``--num-workers``: one plan shared by several processes, each with its own event loop.

One event loop tops out at a few thousand streams (it is one CPU core); past that the client's own delay
shows up in every latency. Each worker takes an even share of the plan (requests ``k, k+n, ...``, its
share of the concurrency or rate), all start at one common ``perf_counter`` instant, and each writes its
own records file; the parent merges them into the plan's ``records.sqlite``.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import signal
import time
from contextlib import nullcontext
from pathlib import Path

from assay.errors import AssayError
from assay.perf.config import PerfConfig
from assay.perf.endpoints import open_endpoints
from assay.perf.plans import LoadPlan
from assay.perf.records import merge_records
from assay.perf.run_setup import ProgressBar, Setup, event_loop_run
from assay.perf.runner import NS_PER_S

_START_TIMEOUT_S = 120.0


def _worker_main(config: PerfConfig, plan: LoadPlan, worker: int, workers: int, part: str, ready, go, origin,
                 stop, done, failed, errors, repeat: int = 0) -> None:  # noqa: ANN001 - multiprocessing primitives
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and tells us through `stop`
    try:
        setup = Setup.from_config(config)
    except AssayError as exc:
        errors.put(f"worker {worker}: {exc}")
        return
    parent = os.getppid()  # a worker whose parent dies (kill -9) stops sending, keeps what it recorded and exits
    ready.set()
    while not go.wait(0.5):
        if os.getppid() != parent:
            return

    async def main() -> None:
        async with open_endpoints(config, start=worker) as endpoints, setup.recorded_run(
                endpoints.first, plan, part, origin.value, worker=worker, workers=workers, repeat=repeat,
                endpoints=endpoints) as (run, monitor):

            async def mirror() -> None:
                while True:
                    done[worker], failed[worker] = run.progress.done, run.progress.failed
                    if stop.is_set() or os.getppid() != parent:
                        run.stop.set()
                    await asyncio.sleep(0.1)

            watcher = asyncio.ensure_future(mirror())
            monitor.start()
            try:
                await run.execute()
            finally:
                watcher.cancel()
                done[worker], failed[worker] = run.progress.done, run.progress.failed

    event_loop_run(main(), config.event_loop)


async def run_plan_in_workers(config: PerfConfig, plan: LoadPlan, records: Path, stop: asyncio.Event,
                              progress: ProgressBar | None, *, repeat: int = 0) -> bool:
    """Run ``plan`` (its ``repeat``-th time) across ``config.num_workers`` processes; merged records land in
    ``records``."""
    ctx = mp.get_context("spawn")
    shares = plan.split(config.num_workers)
    n = len(shares)
    ready = [ctx.Event() for _ in shares]
    go, stop_all = ctx.Event(), ctx.Event()
    origin = ctx.Value("q", 0)
    done, failed = ctx.Array("q", n), ctx.Array("q", n)
    errors = ctx.Queue()
    parts = [records.with_name(f"records.worker{k}.sqlite") for k in range(n)]
    procs = [
        ctx.Process(target=_worker_main, daemon=True, name=f"assay-perf-{k}",
                    args=(config, share, k, n, str(parts[k]), ready[k], go, origin, stop_all, done, failed, errors,
                          repeat))
        for k, share in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not all(e.is_set() for e in ready):
            if not errors.empty():
                raise AssayError(errors.get())
            if any(not p.is_alive() for p in procs) or time.monotonic() > deadline:
                raise AssayError("a load-generator worker process failed to start")
            await asyncio.sleep(0.02)
        origin.value = time.perf_counter_ns() + NS_PER_S // 20  # CLOCK_MONOTONIC: one clock for all processes
        go.set()
        task_id = progress.task_ids[0] if progress is not None else None
        with progress if progress is not None else nullcontext():
            while any(p.is_alive() for p in procs):
                if stop.is_set():
                    stop_all.set()
                if progress is not None:
                    progress.update(task_id, completed=sum(done), failed=sum(failed))
                await asyncio.sleep(0.1)
    finally:
        stop_all.set()
        go.set()
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
    if any(p.exitcode != 0 for p in procs):
        raise AssayError(f"a load-generator worker exited with code {[p.exitcode for p in procs]}")
    merge_records(records, [p for p in parts if p.exists()])
    for part in parts:
        for suffix in ("", "-wal", "-shm"):
            Path(str(part) + suffix).unlink(missing_ok=True)
    return not stop.is_set()
