"""``run_perf``: the whole load test, from options to files on disk and tables on the console."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Callable, Iterator

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assay.client import OpenAIClient
from assay.client.config import redact_url
from assay.client.endpoints import EndpointClients
from assay.client.failures import FailureTally
from assay.errors import ModelError
from assay.perf import report, tracking
from assay.perf.autotune import TuningResult
from assay.perf.config import PerfConfig
from assay.perf.endpoints import open_endpoints
from assay.perf.executors import Executor, executor_for
from assay.perf.plans import LoadPlan, build_plans
from assay.perf.finish import RECORDS_FILE, PlanSettings, finish_plan, finish_run, start_plan
from assay.perf.records import read_failures, write_meta, write_server_metrics
from assay.perf.run_setup import Setup, event_loop_run
from assay.perf.server_metrics import scraper_for
from assay.perf.runner import PlanRun
from assay.perf.stop_rules import SWEEP_STATUS_FILE, ErrorGuard, StopRules, StoppedEarly, SweepStatus
from assay.perf.summary import PlanSummary

log = logging.getLogger("assay.perf")


@dataclass
class PerfResult:
    """What a run produced: its folder, one summary per plan, whether Ctrl-C cut it short, and its failed
    requests by kind (``failures.all_failed``: none succeeded, which the CLI turns into a non-zero exit)."""

    run_dir: Path
    summaries: list[PlanSummary] = field(default_factory=list)
    interrupted: bool = False
    tuning: TuningResult | None = None
    failures: FailureTally = field(default_factory=FailureTally)
    sweep: SweepStatus | None = None  # with stop rules: the plans that ran, were skipped, and why

    @property
    def stopped_early(self) -> StoppedEarly | None:
        return None if self.sweep is None else self.sweep.stopped_early

    def plan_dir(self, summary: PlanSummary) -> Path:
        return self.run_dir / summary.plan


def run_id(config: PerfConfig, now: datetime | None = None) -> str:
    """``20260129_153000_<name or model>``, safe as a folder name."""
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", config.name or config.model).strip("-") or "run"
    return f"{stamp}_{label}"


def run_perf(config: PerfConfig, *, console: Console | None = None, run_dir: str | Path | None = None) -> PerfResult:
    """Run every plan of ``config`` against its server; write records, summaries and charts.

    Prints tables and a progress bar to ``console`` when one is given (the CLI does); returns the summaries
    either way. Ctrl-C stops sending, keeps what finished and still writes the summaries
    (``PerfResult.interrupted``). Raises ``AssayError`` subclasses for bad input (bad options, empty
    prompt sets, an unreachable server or wrong URL path found by the preflight request).
    """
    if config.sim:
        from assay.sim import SimConfig, SimProcess

        with SimProcess(SimConfig(port=0, model=config.model)) as server:
            if console is not None:
                console.print(f"simulated server (assay sim) at {server.base_url}")
            return run_perf(config.model_copy(update={"sim": False, "url": server.base_url}), console=console,
                            run_dir=run_dir)
    tracking.check_installed(config)
    if config.ray_address:
        from assay.perf.ray_workers import connect_ray

        connect_ray(config.ray_address)  # before anything runs, and once for a whole sweep
    setup = Setup.from_config(config)
    plans = build_plans(config)
    folder = Path(run_dir) if run_dir is not None else Path(config.outputs_dir) / "perf" / run_id(config)
    result = PerfResult(folder)
    event_loop_run(_run(setup, plans, result, console), config.event_loop)
    if result.tuning is not None:
        report.write_json(folder / "sla_auto_tune.json", result.tuning.model_dump(mode="json"))
    if result.sweep is not None and folder.is_dir():
        report.write_json(folder / SWEEP_STATUS_FILE, result.sweep.model_dump(mode="json"))
    finish_run(folder, result.summaries, draw_charts=config.charts, console=console)
    if console is not None:
        console.print(f"results: {folder}")
    return result


@contextmanager
def _stop_on_sigint(stop: asyncio.Event) -> Iterator[None]:
    """The first Ctrl-C sets ``stop`` (finish cleanly); a second one interrupts at once."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)

    try:
        loop.add_signal_handler(signal.SIGINT, first)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def _run(setup: Setup, plans: list[LoadPlan], result: PerfResult, console: Console | None) -> None:
    config = setup.config
    stop = asyncio.Event()
    with _stop_on_sigint(stop):
        async with open_endpoints(config) as endpoints:
            if config.test_connection:
                await preflight_all(setup, endpoints)
            # The folder appears only once the server answered, so a mistyped URL leaves nothing behind.
            result.run_dir.mkdir(parents=True, exist_ok=True)
            (result.run_dir / "config.yaml").write_text(
                yaml.safe_dump(config.public_dump(), sort_keys=False), encoding="utf-8")
            if config.warmup:
                await _warmup(setup, endpoints, plans[0], stop)
            trackers = tracking.Trackers(config, result.run_dir, result.run_dir.name)
            executor = executor_for(setup, endpoints)

            async def execute(plan: LoadPlan) -> PlanSummary | None:
                if stop.is_set():
                    return None
                summary = await _execute_plan(setup, executor, endpoints, plan, result.run_dir / plan.name, stop,
                                              console)
                failures = read_failures(result.run_dir / plan.name / RECORDS_FILE)
                result.failures.merge(failures)
                if console is not None and failures.total:
                    console.print(failures.header(), *(f"  {line}" for line in failures.lines()), sep="\n",
                                  markup=False, highlight=False)
                result.summaries.append(summary)
                result.interrupted = result.interrupted or summary.interrupted
                trackers.log_plan(len(result.summaries) - 1, summary)
                return summary

            try:
                if config.sla_auto_tune:
                    from assay.perf.autotune import auto_tune

                    result.tuning = await auto_tune(config, plans[0], execute)
                    if console is not None and result.tuning is not None:
                        console.print(result.tuning.describe())
                else:
                    await _sweep(plans, execute, StopRules.from_config(config), result, console)
            finally:
                trackers.finish()
    result.interrupted = result.interrupted or stop.is_set()


async def _sweep(plans: list[LoadPlan], execute: Callable[[LoadPlan], Awaitable[PlanSummary | None]],
                 rules: StopRules, result: PerfResult, console: Console | None) -> None:
    """Run the plans in order; with stop rules, end after the first plan that trips one and list the rest
    as skipped (in ``result.sweep``, written to ``sweep_status.json``)."""
    if rules.active:
        result.sweep = SweepStatus(planned=[p.name for p in plans], rules=rules.describe())
    previous: PlanSummary | None = None
    for i, plan in enumerate(plans):
        summary = await execute(plan)
        if summary is None:
            break
        if result.sweep is None:
            continue
        result.sweep.completed.append(plan.name)
        if summary.interrupted:
            break
        stopped = rules.check(summary, previous)
        if stopped is not None:
            result.sweep.stopped_early = stopped
            result.sweep.skipped = [p.name for p in plans[i + 1:]]
            if console is not None:
                skipped = ", ".join(result.sweep.skipped) or "none"
                console.print(f"sweep stopped early ({stopped.rule}): {stopped.message}; skipped plans: {skipped}",
                              markup=False, highlight=False)
            return
        previous = summary
    if result.sweep is not None:
        result.sweep.skipped = [p.name for p in plans if p.name not in result.sweep.completed]


async def _execute_plan(setup: Setup, executor: Executor, endpoints: EndpointClients, plan: LoadPlan, plan_dir: Path,
                        stop: asyncio.Event, console: Console | None) -> PlanSummary:
    """Run one plan with ``executor`` (in this loop, in worker processes or on Ray) once per repeat, then
    summarise, write and print it."""
    plan_dir.mkdir(parents=True, exist_ok=True)
    records = plan_dir / RECORDS_FILE
    for stale in plan_dir.glob(RECORDS_FILE + "*"):
        stale.unlink()
    settings = PlanSettings(plan, api=setup.api, slo_ms=dict(setup.config.slo), workers=setup.config.num_workers,
                            model=setup.config.model, endpoints=tuple(endpoints.labels))
    start_plan(records, settings)  # so `assay perf rebuild` can summarise the plan even if this process is killed
    # With several --url only the first endpoint's server is scraped (its view is one server's, not the sum).
    scraper = scraper_for(setup.config.server_metrics, setup.config.endpoint[0],
                          setup.config.server_metrics_interval) if not setup.config.pooling else None
    if scraper is not None and not await scraper.start():
        scraper = None
    repeats = setup.config.repeats
    finished = True
    try:
        for repeat in range(repeats):
            bar = _progress_bar(console, plan, repeat, repeats)
            finished = await executor.run_plan(plan, records, stop, bar, repeat=repeat)
            if not finished or _guard_tripped(setup.config, records):
                break
            if console is not None and repeats > 1:
                console.print(report.repeat_line(records, repeat, repeats), markup=False, highlight=False)
    finally:
        view = await scraper.stop() if scraper is not None else None
    if view is not None and scraper is not None:
        write_server_metrics(records, scraper.series(), view.model_dump_json())
    write_meta(records, {"interrupted": "false" if finished else "true"})
    summary = finish_plan(records, settings, interrupted=not finished, draw_charts=setup.config.charts)
    if console is not None:
        console.print(report.plan_report(summary))
    return summary


def _guard_tripped(config: PerfConfig, records: Path) -> bool:
    """Whether the mid-plan error guard (--stop-error-after) has cut the plan short, so no further repeat runs."""
    guard = ErrorGuard.from_config(config)  # the whole plan's records: one runner's share, all of it
    if guard is None or config.repeats == 1:
        return False
    failures = read_failures(records)
    return guard.check(failures.requests, failures.total)


def _progress_bar(console: Console | None, plan: LoadPlan, repeat: int = 0, repeats: int = 1):  # noqa: ANN202
    if console is None:
        return None
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(), console=console, transient=True, refresh_per_second=4,
    )
    label = plan.name if repeats == 1 else f"{plan.name} (repeat {repeat + 1}/{repeats})"
    progress.add_task(label, total=plan.number, failed=0)
    return progress


async def _warmup(setup: Setup, endpoints: EndpointClients, first: LoadPlan, stop: asyncio.Event) -> None:
    """Unrecorded requests (spread over the endpoints) so connection set-up and server warm-up stay out of the
    measurements."""
    count = setup.config.warmup
    plan = LoadPlan(number=count, parallel=max(1, min(count, first.parallel or 1)))
    client = endpoints.first
    run = PlanRun(plan, client, setup.builder(client), None, time.perf_counter_ns(), stop=stop, endpoints=endpoints)
    await run.execute()
    if run.progress.failed == count:
        log.warning("all %d warm-up requests failed", count)


# How long the preflight waits for its answer: servers reject bad options at once, so one still answering by
# then has taken them (and a long answer need not be waited for).
PREFLIGHT_WAIT_S = 30.0


async def preflight_all(setup: Setup, endpoints: EndpointClients) -> None:
    """The preflight request on every endpoint at once; the first endpoint (in --url order) that fails stops
    the run with its one line, which names it."""
    outcomes = await asyncio.gather(*(preflight(setup, client) for client in endpoints.clients),
                                    return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def preflight(setup: Setup, client: OpenAIClient) -> None:
    """One request before the run, with the run's own options (max_tokens, min_tokens, extra body...), so a wrong
    URL, path, key or model, or options the server refuses (max_tokens over its limit), stop it with one clear
    line and the server's message."""
    builder = setup.builder(client)
    _, _, body = builder.for_index(0)
    url = redact_url(client.config.url_for(builder.api))
    try:
        completion = await asyncio.wait_for(builder.send(body), PREFLIGHT_WAIT_S)
    except asyncio.TimeoutError:
        return  # still answering: the request was accepted
    error = completion.error
    if error is None:
        return
    if error.kind in ("connect", "connect_timeout"):
        raise ModelError(f"cannot reach {url}: {error.message}")
    if error.kind == "malformed":
        raise ModelError(f"{url} does not answer like an OpenAI-compatible API: {error.message}")
    if error.kind == "http_status" and error.status in (401, 403):
        raise ModelError(f"{url} refused the request ({error.message}): check --api-key or --headers")
    if error.kind == "http_status" and error.status in (404, 405):
        raise ModelError(f"{url} answered {error.message}: check the URL path and --model")
    if error.kind == "http_status" and error.status in (400, 422):
        raise ModelError(f"{url} rejected the request ({error.message}): check --model and the generation options")
    log.warning("the preflight request failed (%s: %s); going on with the run", error.kind, error.message)
