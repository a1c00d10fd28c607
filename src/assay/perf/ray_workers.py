"""``--ray-address``: one plan shared by Ray actors, possibly on several machines.

The plan is split as for ``--num-workers`` (requests ``k, k+n, ...``, an even share of the concurrency or
rate); each share runs in one Ray actor with its own event loop and one CPU, spread over the cluster's
nodes. Each actor writes its records to a SQLite file on its own node and hands the file's bytes back at
the end; the driver merges them into the plan's ``records.sqlite`` exactly as for worker processes.

Clocks: machines do not share ``perf_counter``. The driver picks a start instant on the wall clock
(``time.time_ns``) a second ahead; each actor turns it into an origin on its own ``perf_counter_ns``, so
every record time is measured from one start. This assumes the machines' wall clocks agree (NTP-synced):
the error of any time compared across machines is their clock offset, typically well under a
millisecond with NTP on one network. Latencies (TTFT, ITL, end-to-end) are measured on one machine each
and are not affected. The driver measures each actor's offset before the start and warns when it is
large. Ray must be connected first (``connect_ray``, once per run).

The config, with its API key, goes to each actor as the argument of an actor task, never as a
constructor argument (Ray keeps actor-creation arguments in its control store) and is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from assay.errors import AssayError, ConfigError
from assay.perf.config import PerfConfig
from assay.perf.endpoints import open_endpoints
from assay.perf.plans import LoadPlan
from assay.perf.records import merge_records
from assay.perf.run_setup import ProgressBar, Setup
from assay.perf.runner import NS_PER_S, PlanRun

log = logging.getLogger("assay.perf")

INSTALL_HINT = "pip install 'assay[dist]'"
_START_TIMEOUT_S = 120.0
_START_LEAD_NS = NS_PER_S  # time for the start message to reach every actor
_CLOCK_WARN_NS = NS_PER_S // 100
_MONITOR_EARLY_NS = NS_PER_S // 20  # less than the monitor's first interval (0.1 s)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--ray-address needs Ray: {INSTALL_HINT}") from None
    return ray


def connect_ray(address: str) -> None:
    """Connect this process to Ray: ``auto`` (a cluster started here with ``ray start``), ``ray://host:10001``
    (Ray Client) or ``local`` (start a Ray on this machine). Does nothing when already connected."""
    ray = _import_ray()
    if ray.is_initialized():
        return
    options: dict[str, Any] = {"include_dashboard": False} if address == "local" else {}
    try:
        ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot connect to Ray at {address!r}: {_first_line(exc)}") from None


class ShareActor:
    """Runs one worker's share of a plan inside a Ray actor (async: ``progress`` and ``stop`` are answered
    while ``run`` goes on)."""

    def __init__(self, worker: int, workers: int) -> None:
        self.worker, self.workers = worker, workers
        self._run: PlanRun | None = None
        self._stopped = False

    async def prepare(self, config: PerfConfig, plan: LoadPlan, repeat: int = 0) -> str:
        """Build prompts and tokenizer (paths must exist on this node); returns the node's address."""
        import ray

        self._config, self._plan, self._repeat = config, plan, repeat
        self._setup = Setup.from_config(config)
        return ray.util.get_node_ip_address()

    async def clock_ns(self) -> int:
        return time.time_ns()

    async def progress(self) -> tuple[int, int]:
        """(done, failed) so far."""
        run = self._run
        return (run.progress.done, run.progress.failed) if run is not None else (0, 0)

    async def stop(self) -> None:
        self._stopped = True
        if self._run is not None:
            self._run.stop.set()

    async def run(self, start_wall_ns: int) -> bytes:
        """Run the share from ``start_wall_ns`` (wall clock); returns the records file's bytes."""
        origin_ns = time.perf_counter_ns() + (start_wall_ns - time.time_ns())
        late_s = (time.perf_counter_ns() - origin_ns) / NS_PER_S
        if late_s > 0:
            log.warning("ray worker %d got the start signal %.3f s late", self.worker, late_s)
        folder = Path(tempfile.mkdtemp(prefix="assay-perf-"))
        try:
            part = folder / "records.sqlite"
            await self._execute(part, origin_ns)
            return part.read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    async def _execute(self, part: Path, origin_ns: int) -> None:
        async with open_endpoints(self._config, start=self.worker) as endpoints, self._setup.recorded_run(
                endpoints.first, self._plan, part, origin_ns, worker=self.worker, workers=self.workers,
                endpoints=endpoints,
                repeat=self._repeat) as (run, monitor):
            self._run = run
            if self._stopped:
                run.stop.set()
            # Health samples from before the start would carry negative times, so the monitor starts just
            # before it; the run itself waits for the exact instant.
            await asyncio.sleep(max(0, origin_ns - _MONITOR_EARLY_NS - time.perf_counter_ns()) / NS_PER_S)
            monitor.start()
            await run.execute()


async def run_plan_on_ray(config: PerfConfig, plan: LoadPlan, records: Path, stop: asyncio.Event,
                          progress: ProgressBar | None, *, repeat: int = 0) -> bool:
    """Run ``plan`` (its ``repeat``-th time) across ``config.num_workers`` Ray actors; merged records land in
    ``records``.

    Needs ``connect_ray`` first. Returns False when ``stop`` was set (what finished is still merged).
    """
    ray = _import_ray()
    if not ray.is_initialized():
        raise ConfigError("Ray is not connected: call connect_ray(address) first")
    shares = plan.split(config.num_workers)
    n = len(shares)
    remote = ray.remote(ShareActor).options(num_cpus=1, scheduling_strategy="SPREAD")
    actors = [remote.remote(k, n) for k in range(n)]
    try:
        prepared = asyncio.gather(*(_result(k, a.prepare.remote(config, share, repeat))
                                    for k, (a, share) in enumerate(zip(actors, shares))))
        try:
            nodes = await asyncio.wait_for(prepared, _START_TIMEOUT_S)
        except asyncio.TimeoutError:
            cpus = ray.cluster_resources().get("CPU", 0)
            raise AssayError(f"the {n} ray workers did not start within {_START_TIMEOUT_S:.0f} s: each needs "
                             f"one free CPU and the cluster has {cpus:g} in all") from None
        await _check_clocks(actors, nodes)
        start_wall_ns = time.time_ns() + _START_LEAD_NS
        runs = [asyncio.ensure_future(_result(k, a.run.remote(start_wall_ns))) for k, a in enumerate(actors)]
        try:
            await _watch(actors, runs, stop, progress)
        finally:
            for task in runs:
                task.cancel()
        parts = [records.with_name(f"records.worker{k}.sqlite") for k in range(n)]
        for part, task in zip(parts, runs):
            part.write_bytes(task.result())
        merge_records(records, parts)
        for part in parts:
            part.unlink()
    finally:
        for actor in actors:
            ray.kill(actor)
    return not stop.is_set()


async def _watch(actors: list, runs: list[asyncio.Future], stop: asyncio.Event,
                 progress: ProgressBar | None) -> None:  # noqa: ANN001 - Ray actor handles
    """Mirror the actors' progress until every run finished; pass ``stop`` on; raise the first failure."""
    task_id = progress.task_ids[0] if progress is not None else None
    stopping = False
    with progress if progress is not None else nullcontext():
        while True:
            finished, _ = await asyncio.wait(runs, timeout=0.25)
            for task in finished:
                if task.exception() is not None:
                    await _ask_all(actors, "stop")
                    raise task.exception()  # type: ignore[misc]
            if len(finished) == len(runs):
                return
            if stop.is_set() and not stopping:
                stopping = True
                await _ask_all(actors, "stop")
            if progress is not None:
                answers = [a for a in await _ask_all(actors, "progress") if isinstance(a, tuple)]
                done, failed = (sum(column) for column in zip((0, 0), *answers))
                progress.update(task_id, completed=done, failed=failed)


async def _check_clocks(actors: list, nodes: list[str]) -> None:  # noqa: ANN001 - Ray actor handles
    """Warn when an actor's wall clock is off this machine's by more than the round trip can explain."""
    for k, actor in enumerate(actors):
        sent = time.time_ns()
        theirs = await _result(k, actor.clock_ns.remote())
        back = time.time_ns()
        offset_ns = theirs - (sent + back) // 2
        if abs(offset_ns) > (back - sent) // 2 + _CLOCK_WARN_NS:
            log.warning("ray worker %d on %s: its clock is %.0f ms off this machine's, so its request times "
                        "are off by as much (sync the clocks with NTP)", k, nodes[k], offset_ns / 1e6)


async def _ask_all(actors: list, method: str) -> list:  # noqa: ANN001 - Ray actor handles
    """Call ``method`` on every actor at once; an actor that cannot answer gives its exception instead."""
    refs = [getattr(actor, method).remote() for actor in actors]
    return await asyncio.gather(*(asyncio.wrap_future(ref.future()) for ref in refs), return_exceptions=True)


async def _result(worker: int, ref: Any) -> Any:
    """Await one actor call (a Ray object ref); a failure becomes one line naming the worker."""
    try:
        return await asyncio.wrap_future(ref.future())
    except Exception as exc:  # noqa: BLE001 - Ray re-raises the actor's exception (`cause`) or says it died
        cause = getattr(exc, "cause", None)
        reason: object = exc if cause is None else (
            cause if isinstance(cause, AssayError) else f"{cause.__class__.__name__}: {cause}")
        raise AssayError(f"ray worker {worker} failed: {_first_line(reason)}") from None


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else error.__class__.__name__
