"""The evaluation run: load → prompt → generate (one bounded pool) → filter → score → record → report."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay import __version__
from assay.client.config import scrub_secrets
from assay.client.failures import FailureTally
from assay.data import DatasetLoader
from assay.errors import ConfigError, ModelError
from assay.eval.benchmarks import Benchmark, get_benchmark
from assay.eval.config import TaskConfig
from assay.eval.filters import apply_filters
from assay.eval.report import build_report, print_table, repeat_metric, write_reports
from assay.eval.scoring.judge import judge_failed
from assay.eval.store import RunStore
from assay.models import ModelBackend, make_model
from assay.types import Completion, GenerationConfig, Message, Sample, SampleResult, Score
from assay.types.completion import ErrorInfo
from assay.types.manifest import BenchmarkEntry, RequestTally, RunFingerprint, RunManifest
from assay.types.report import BenchmarkReport
from assay.utils.gctune import collector_tuned_for_load

log = logging.getLogger("assay.eval")

# Failures that no other sample will escape: stop the run rather than record a thousand of them.
_FATAL_STATUSES = {401, 403, 404}
_FATAL_KINDS = {"connect", "connect_timeout"}


@dataclass
class RunResult:
    """What ``run_task`` returns: the run folder, each benchmark's report, and the requests this run sent and
    how they failed (``failures.all_failed``: none succeeded, which the CLI turns into a non-zero exit)."""

    run_dir: Path
    reports: dict[str, BenchmarkReport] = field(default_factory=dict)
    failures: FailureTally = field(default_factory=FailureTally)


def run_task(task_cfg: TaskConfig | dict[str, Any] | str | Path, *, show: bool = True) -> RunResult:
    """Run an evaluation task (a ``TaskConfig``, a dict of its fields, or a YAML/JSON file) to completion."""
    task = _as_task(task_cfg)
    return asyncio.run(arun_task(task, show=show))


def _as_task(task_cfg: TaskConfig | dict[str, Any] | str | Path) -> TaskConfig:
    if isinstance(task_cfg, TaskConfig):
        return task_cfg
    from pydantic import ValidationError

    from assay.utils.config_file import describe_validation_error

    if isinstance(task_cfg, (str, Path)):
        from assay.utils.config_file import load_config_file

        task_cfg = load_config_file(task_cfg)
    try:
        return TaskConfig(**task_cfg)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source="field")) from None


def _fingerprint(task: TaskConfig, model: ModelBackend, benchmarks: list[Benchmark]) -> dict[str, Any]:
    # Written to manifest.json: credentials inside a benchmark's settings (a baseline model's api_key) are
    # scrubbed; a key's value never changes the answers, so resume compares the scrubbed forms.
    return scrub_secrets({
        "model": model.describe(),
        "generation_config": task.generation_config.model_dump(mode="json", exclude={"n"}),
        "repeats": _repeats_fingerprint(task, benchmarks),
        "benchmarks": {b.name: b.fingerprint() for b in benchmarks},
        "scoring": {b.name: b.scoring_fingerprint() for b in benchmarks},
    })


def _repeats_fingerprint(task: TaskConfig, benchmarks: list[Benchmark]) -> int | dict[str, int]:
    """The task's repeats; per benchmark once any has its own (a preset's 64 on AIME), so changing one is seen."""
    own = {b.name: task.repeats_for(b.name) for b in benchmarks}
    return task.repeats if all(n == task.repeats for n in own.values()) else {"default": task.repeats, **own}


def _check_repeat_metrics(task: TaskConfig, benchmarks: list[Benchmark]) -> None:
    """A pass@k, pass^k or maj@k asked for in metric_list needs k repeats: refuse at start, not with a blank row."""
    for benchmark in benchmarks:
        repeats = task.repeats_for(benchmark.name)
        for metric in benchmark.report_metrics():
            over = repeat_metric(metric)
            if over is not None and metric not in benchmark.metrics and over[1] > repeats:
                raise ConfigError(f"dataset_args.{benchmark.name}.metric_list: {metric} needs at least {over[1]} "
                                  f"repeats, and {benchmark.name} has {repeats} (set repeats)")


def _changes(before: Any, after: Any, prefix: str = "") -> list[str]:
    """``key: old → new`` for each leaf that differs (dicts compared key by key)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            out += _changes(before.get(key), after.get(key), f"{prefix}{key}.")
        return out
    return [] if before == after else [f"{prefix.rstrip('.')}: {before!r} → {after!r}"]


def _check_resumable(previous: dict[str, Any], current: dict[str, Any], run_dir: Path) -> None:
    """Refuse (one line) to continue a run whose answers were produced under different settings."""
    changed = [f"{key} changed ({'; '.join(_changes(previous.get(key), current[key], f'{key}.')[:3])})"
               for key in ("model", "generation_config", "repeats") if previous.get(key) != current[key]]
    for name, fingerprint in current["benchmarks"].items():
        before = previous.get("benchmarks", {}).get(name)
        if before is not None and before != fingerprint:
            what = "; ".join(_changes(before, fingerprint)[:3])
            changed.append(f"{name} prompt/version changed ({what})")
    if changed:
        raise ConfigError(f"cannot resume {run_dir}: {', '.join(changed)} since it ran, so its answers would not "
                          "be comparable; pass --fresh to start a new run folder (the earlier run is kept)")


async def arun_task(task: TaskConfig, *, show: bool = True) -> RunResult:
    """The async body of ``run_task``."""
    if not task.datasets:
        raise ConfigError("no benchmarks to run: pass --datasets (e.g. --datasets gsm8k math_500)")
    classes = [get_benchmark(name) for name in task.datasets]
    model = make_model(task)  # a bad model_args key fails now, before any data is read (nothing is started yet)
    llm_judge = _llm_judge(task, classes)
    benchmarks = [_build(cls, task, llm_judge) for cls in classes]
    _check_repeat_metrics(task, benchmarks)  # and an unknown metric fails now, not after the answers
    # Every dataset is found and read before anything else: a missing one fails at start, with no run folder.
    loader = DatasetLoader(task.dataset_hub, task.dataset_dir)
    selections = {b.name: await asyncio.to_thread(b.load, loader, task.limit) for b in benchmarks}
    _check_tools(model, task, selections)
    fingerprint = _fingerprint(task, model, benchmarks)

    resuming = task.use_cache is not None and not task.fresh
    store = RunStore.existing(task.use_cache) if resuming else RunStore.create(task.work_dir, task.model_name)
    previous = store.read_manifest()
    rescore: set[str] = set()
    if previous is not None:
        before = scrub_secrets(previous.fingerprint.model_dump())  # an older run's may hold a key in clear
        _check_resumable(before, fingerprint, store.root)
        rescore = {name for name, scoring in fingerprint["scoring"].items()
                   if before["scoring"].get(name, scoring) != scoring}
        for key in ("benchmarks", "scoring"):
            fingerprint[key] = {**before[key], **fingerprint[key]}
    store.write_config(task.public_dict())
    if llm_judge is not None:
        llm_judge.use_cache(store.root / "judge_cache.jsonl")
    handler = _attach_log(store.logs / "run.log")
    manifest = _start_manifest(previous, store.run_id, task, benchmarks, selections, fingerprint)
    store.write_manifest(manifest)
    log.info("run %s: %s on %s", store.run_id, task.model_name, ", ".join(task.datasets))
    failures = FailureTally()
    try:
        with collector_tuned_for_load():
            reports = await _run(task, benchmarks, selections, model, store, rescore, show, failures)
    except BaseException as exc:
        manifest.status = "failed" if isinstance(exc, Exception) else "interrupted"
        manifest.error = str(exc)
        store.write_manifest(manifest)
        if not isinstance(exc, Exception):  # Ctrl-C or SIGTERM
            log.warning("interrupted: the finished samples are kept in %s; --use-cache %s resumes the run",
                        store.root, store.root)
        raise
    finally:
        store.close()
        for benchmark in benchmarks:
            closing = getattr(benchmark, "aclose", None)
            if closing is not None:
                await closing()
        if llm_judge is not None:
            await llm_judge.close()
        _detach_log(handler)
    _finish_manifest(manifest, reports, failures)
    if failures.all_failed:
        manifest.error = str(failures.all_failed_error(str(store.root)))
    store.write_manifest(manifest)
    if show:
        print_table(list(reports.values()))
        print(f"run folder: {store.root}", file=sys.stderr)
    return RunResult(run_dir=store.root, reports=reports, failures=failures)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _start_manifest(previous: RunManifest | None, run_id: str, task: TaskConfig, benchmarks: list[Benchmark],
                    selections: dict[str, list[Sample]], fingerprint: dict[str, Any]) -> RunManifest:
    """The manifest of a run starting (or resuming: its start time and the other benchmarks' entries kept)."""
    now = _now()
    entries = dict(previous.benchmarks) if previous is not None else {}
    for b in benchmarks:  # a benchmark asked again has no score until this attempt reports it
        entries[b.name] = BenchmarkEntry(name=b.name, version=b.version, task_type=b.task_type or None,
                                         tags=list(b.tags), subsets=list(b.subset_list),
                                         num_samples=len(selections[b.name]), repeats=task.repeats_for(b.name))
    return RunManifest(
        run_id=run_id, status="running", assay_version=__version__,
        started_at=previous.started_at or now if previous is not None else now,
        resumed_at=now if previous is not None else None,
        model=task.model_name, eval_type=task.eval_type, api_url=scrub_secrets(task.api_url), preset=task.preset_record,
        benchmarks=entries, fingerprint=RunFingerprint.model_validate(fingerprint))


def _finish_manifest(manifest: RunManifest, reports: dict[str, BenchmarkReport], failures: FailureTally) -> None:
    """Status, end time, requests and each benchmark's headline once every report is written."""
    manifest.status = "failed" if failures.all_failed else "finished"
    manifest.finished_at = _now()
    manifest.requests = RequestTally(sent=failures.requests, failed=failures.total, errors=failures.lines())
    for name, report in reports.items():
        main = report.metrics.get(report.main_metric)
        manifest.benchmarks[name] = manifest.entry(name).model_copy(update=dict(
            main_metric=report.main_metric, score=report.score, stderr=main.stderr if main else None,
            ci95=main.ci95 if main else None, num_samples=report.num, failed_samples=report.failed_samples,
            truncated_answers=report.truncated_answers))


class _RunLog(logging.Handler):
    """Writes INFO and up to logs/run.log; passes on to the usual handlers only what they asked to see."""

    def __init__(self, path: Path, passthrough_level: int) -> None:
        super().__init__(logging.INFO)
        self.file = logging.FileHandler(path, encoding="utf-8")
        self.file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.passthrough_level = passthrough_level

    def emit(self, record: logging.LogRecord) -> None:
        self.file.handle(record)
        if record.levelno >= self.passthrough_level:
            logging.getLogger().handle(record)

    def close(self) -> None:
        self.file.close()
        super().close()


def _attach_log(path: Path) -> logging.Handler:
    logger = logging.getLogger("assay")
    handler = _RunLog(path, logger.getEffectiveLevel())
    handler.previous = (logger.level, logger.propagate)  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(min(logging.INFO, logger.getEffectiveLevel()))
    logger.propagate = False
    return handler


def _detach_log(handler: logging.Handler) -> None:
    logger = logging.getLogger("assay")
    logger.removeHandler(handler)
    logger.level, logger.propagate = handler.previous  # type: ignore[attr-defined]
    handler.close()


async def _run(task: TaskConfig, benchmarks: list[Benchmark], selections: dict[str, list[Sample]],
               model: ModelBackend, store: RunStore, rescore: set[str], show: bool,
               failures: FailureTally) -> dict[str, BenchmarkReport]:
    """Ask what no earlier attempt answered, re-grade stored answers where grading changed, then report.

    One pool serves every benchmark; a report covers exactly the samples the current settings select (so
    a resumed run reports what a fresh run with these settings would), earlier answers included.
    """
    todo: list[tuple[Benchmark, Sample]] = []
    regrade: list[tuple[Benchmark, SampleResult, Sample]] = []
    for benchmark in benchmarks:
        samples = selections[benchmark.name]
        stored = store.load_results(benchmark.name, repair=True)
        for sample in samples:
            result = stored.get(sample.id)
            if result is None or not _complete(result, task.repeats_for(benchmark.name)):
                todo.append((benchmark, sample))
            elif (benchmark.name in rescore or _lacks_metric(result, benchmark.sample_metrics(result.sample))
                  or any(judge_failed(score) for score in result.scores)):
                regrade.append((benchmark, result, sample))
        log.info("%s: %d samples, %d already done, %d to re-grade", benchmark.name, len(samples),
                 len(samples) - len([1 for b, _ in todo if b is benchmark]), len([1 for b, _, _ in regrade
                                                                                if b is benchmark]))

    if todo or regrade:
        heavy = any(b.heavy_scoring for b, _ in todo) or any(b.heavy_scoring for b, _, _ in regrade)
        checker = _math_checker() if heavy else None
        try:
            pool = _Pool(task, model, store, checker, failures)

            async def regrade_one(benchmark: Benchmark, result: SampleResult, sample: Sample) -> None:
                store.append(benchmark.name, await pool.regrade(benchmark, result, sample))

            # Concurrently: re-grading may ask the LLM judge, whose own pool bounds it (judge_worker_num).
            await asyncio.gather(*(regrade_one(b, r, s) for b, r, s in regrade))
            if todo:
                async with model:
                    await pool.run(todo, show)
        finally:
            if checker is not None:
                checker.close()
        if failures.total and show:
            print(failures.header(), *(f"  {line}" for line in failures.lines()), sep="\n", file=sys.stderr)

    reports: dict[str, BenchmarkReport] = {}
    for benchmark in benchmarks:
        stored = store.load_results(benchmark.name)
        results = [stored[s.id] for s in selections[benchmark.name] if s.id in stored]
        metrics = benchmark.report_metrics()
        main = benchmark.main_metric if benchmark.main_metric in metrics else metrics[0]
        report = build_report(
            benchmark.name, benchmark.version, task.model_name, metrics, main, results, benchmark.subset_list,
            task.repeats_for(benchmark.name), protocol=benchmark.protocol(), failures_as_zero=task.ignore_errors,
            preset=task.preset_label,
            applies=lambda result, metric, b=benchmark: metric in b.sample_metrics(result.sample),
            derived=benchmark.derived_metrics())
        reports[benchmark.name] = benchmark.extra_reports(results, store.reports, task, show, report) or report
    write_reports(reports.values(), store.reports)
    return reports


def _check_tools(model: ModelBackend, task: TaskConfig, selections: dict[str, list[Sample]]) -> None:
    """Refuse at start (no run folder yet) a benchmark whose samples offer tools to a backend that cannot send them."""
    if "tools" in inspect.signature(model.generate).parameters:
        return
    for name, samples in selections.items():
        if any(sample.tools is not None for sample in samples):
            raise ConfigError(f"{name} offers the model tools, which the {task.eval_type} backend cannot send; "
                              "evaluate it through an OpenAI-compatible server (eval_type openai_api)")


def _complete(result: SampleResult, repeats: int) -> bool:
    return len(result.completions) >= repeats and all(c.error is None for c in result.completions)


def _lacks_metric(result: SampleResult, metrics: list[str]) -> bool:
    return any(metric not in score.values for score in result.scores for metric in metrics)


def _llm_judge(task: TaskConfig, classes: list[type[Benchmark]]) -> Any:
    """The LLM judge for the benchmarks whose ``judge_strategy`` asks for one; None when none does. Decided from
    the classes, before any benchmark is built, so each is built with its judge (``_build``)."""
    from assay.eval.benchmarks.common import JudgedBenchmark
    from assay.eval.scoring.judge import make_judge, resolve_mode

    for cls in classes:
        if getattr(cls, "needs_judge", False) and resolve_mode(task.judge_strategy, "llm") == "rule":
            raise ConfigError(f"{cls.name} is graded only by {getattr(cls, 'judge_kind', 'an LLM judge')}: "
                              "judge_strategy rule cannot grade it (use auto or llm, with judge_model_args)")
    judged = [cls for cls in classes if issubclass(cls, JudgedBenchmark)
              and resolve_mode(task.judge_strategy, cls.default_judge_mode) != "rule"]  # type: ignore[arg-type]
    if not judged:
        if task.judge_model_args:
            log.warning("judge_model_args is set but no benchmark uses the judge (judge_strategy %s)",
                        task.judge_strategy)
        return None
    if not task.judge_model_args:
        needing = ", ".join(cls.name for cls in judged)
        raise ConfigError(f"{needing} with judge_strategy {task.judge_strategy} needs judge_model_args "
                          "(model_id, api_url, api_key, generation_config)")
    return make_judge(task.judge_model_args, worker_num=task.judge_worker_num)


def _build(cls: type[Benchmark], task: TaskConfig, llm_judge: Any) -> Benchmark:
    """The benchmark as this run grades it: a judged one gets the judge and the strategy when it is built."""
    from assay.eval.benchmarks.common import JudgedBenchmark

    if llm_judge is not None and issubclass(cls, JudgedBenchmark):
        return cls(task.args_for(cls.name), task.seed, judge_strategy=task.judge_strategy, llm_judge=llm_judge)
    return cls(task.args_for(cls.name), task.seed)


def _math_checker() -> Any:
    from assay.eval.scoring.symbolic import MathChecker

    return MathChecker(timeout_s=5.0)


class _Pool:
    """One bounded pool for the whole run: at most ``eval_batch_size`` requests in flight, across benchmarks."""

    def __init__(self, task: TaskConfig, model: ModelBackend, store: RunStore, checker: Any,
                 failures: FailureTally) -> None:
        self.task = task
        self.model = model
        self.store = store
        self.checker = checker  # the math checker's process pool (``ascore``'s third argument), or None
        self.slots = asyncio.Semaphore(task.eval_batch_size)
        self.fatal: ModelError | None = None
        self.failures = failures

    async def run(self, todo: list[tuple[Benchmark, Sample]], show: bool) -> None:
        queue = iter(todo)
        progress = _progress(len(todo), show)

        async def worker() -> None:
            for benchmark, sample in queue:
                result = await self.evaluate(benchmark, sample)
                if self.fatal is not None:
                    return
                self.store.append(benchmark.name, result)
                progress(benchmark.name)

        workers = [asyncio.create_task(worker()) for _ in range(min(self.task.eval_batch_size, len(todo)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            progress(None)
        if self.fatal is not None:
            raise self.fatal

    async def evaluate(self, benchmark: Benchmark, sample: Sample) -> SampleResult:
        count = self.task.repeats_for(benchmark.name)
        repeats = await asyncio.gather(*(self.answer(benchmark, sample, r) for r in range(count)))
        return SampleResult(sample=sample, completions=[c for c, _ in repeats], scores=[s for _, s in repeats],
                            benchmark=benchmark.name, benchmark_version=benchmark.version)

    async def answer(self, benchmark: Benchmark, sample: Sample, repeat: int) -> tuple[Completion, Score]:
        generation = _generation_for(self.task.generation_config, repeat)
        sent = sample.messages
        completion = await self._turn(sample, sent, generation)
        # Multi-turn benchmarks (``Benchmark.next_turn``) go on while the model answers: the last turn's
        # completion is returned, carrying the earlier ones in ``turns``; each turn takes a slot of its own.
        earlier: list[Completion] = []
        while completion.error is None and self.fatal is None and sent is not None:
            following = benchmark.next_turn(sample, [*sent, Message.assistant(completion.text)])
            if following is None:
                break
            earlier.append(completion)
            sent = following
            completion = await self._turn(sample, sent, generation, chat=True)
        if earlier:
            completion = completion.model_copy(update={"turns": earlier})
        return completion, await self.grade(benchmark, sample, completion)

    async def _turn(self, sample: Sample, messages: list[Message] | None, generation: GenerationConfig,
                    chat: bool = False) -> Completion:
        """One request of a sample's conversation, in a slot of the pool; its failure noted."""
        async with self.slots:
            if self.fatal is not None:
                return Completion(error=ErrorInfo(kind="cancelled", message="run stopped"))
            completion = await self._generate(sample, generation, messages, chat)
            self.failures.requests += 1
        if completion.error is not None:
            self._note_failure(completion.error)
        return completion

    async def grade(self, benchmark: Benchmark, sample: Sample, completion: Completion) -> Score:
        """Score one completion (filters, then the benchmark's scorer); a failed request is not graded."""
        if completion.error is not None:
            return Score(values={m: None for m in benchmark.metrics},
                         explanation=f"request failed ({completion.error.kind}); not graded")
        filtered = apply_filters(completion.text, benchmark.args.filters)
        try:
            score = await benchmark.ascore_completion(sample, completion, filtered.text, self.checker)
        except Exception as exc:  # noqa: BLE001 - a scorer crash is "could not grade", never a 0
            log.exception("%s: scoring %s failed", benchmark.name, sample.id)
            score = Score(values={m: None for m in benchmark.metrics}, explanation=f"scorer failed: {exc}")
        # Thinking cut off: an unclosed inline <think>, or reasoning returned apart with no answer after it.
        cut_while_thinking = completion.truncated and bool(completion.reasoning) and not completion.text.strip()
        if filtered.unfinished_reasoning or cut_while_thinking:
            score.metadata["unfinished_reasoning"] = True
        if completion.truncated:
            score.metadata["truncated"] = True
        return score

    async def regrade(self, benchmark: Benchmark, result: SampleResult, sample: Sample | None = None) -> SampleResult:
        """A stored result graded again from its stored completions (no request), against ``sample`` as loaded
        now where given: it carries what predictions do not keep (``Sample.scoring_data``)."""
        scores = [await self.grade(benchmark, sample or result.sample, c) for c in result.completions]
        return result.model_copy(update={"scores": scores, "benchmark_version": benchmark.version})

    async def _generate(self, sample: Sample, generation: GenerationConfig, messages: list[Message] | None = None,
                        chat: bool = False) -> Completion:
        """``messages`` (the sample's own by default) sent to the model; ``chat``: never as a raw prompt."""
        messages = sample.messages if messages is None else messages
        assert messages is not None
        complete = getattr(self.model, "complete", None)
        if sample.prompt is not None and complete is not None and not chat:
            request = complete(sample.prompt, generation)
        elif sample.tools is not None:
            request = self.model.generate(messages, generation, tools=sample.tools)  # type: ignore[call-arg]
        else:
            request = self.model.generate(messages, generation)
        try:
            if self.task.timeout is None:
                return await request
            return await asyncio.wait_for(request, self.task.timeout)
        except asyncio.TimeoutError:
            return Completion(error=ErrorInfo(kind="deadline", message=f"no answer within {self.task.timeout}s"))

    def _note_failure(self, error: ErrorInfo) -> None:
        self.failures.add(error.kind, error.status, error.message)
        fatal = error.kind in _FATAL_KINDS or (error.kind == "http_status" and error.status in _FATAL_STATUSES)
        stops_the_run = fatal and not self.task.ignore_errors
        # A failure that stops the run is said once, by the error it raises; the rest go to the log as warnings.
        (log.info if stops_the_run else log.warning)("request failed: %s: %s", error.kind, error.message)
        if stops_the_run and self.fatal is None:
            hint = "check --api-url, --api-key and --model" if error.kind == "http_status" else "is the server up?"
            self.fatal = ModelError(f"{error.message} ({hint}; --ignore-errors records failures and goes on)")


def _generation_for(base: GenerationConfig, repeat: int) -> GenerationConfig:
    # Repeats must be different draws: a fixed server seed would give n identical answers.
    if base.seed is None or repeat == 0:
        return base
    return base.model_copy(update={"seed": base.seed + repeat})


def _progress(total: int, show: bool) -> Any:
    """A rich progress bar on a terminal; periodic log lines otherwise. Call with None to close."""
    state = {"done": 0, "last": time.monotonic()}
    bar = None
    if show and sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(transient=False)
        bar.start()
        task_id = bar.add_task("evaluating", total=total)

    def advance(benchmark: str | None) -> None:
        if benchmark is None:
            if bar is not None:
                bar.stop()
            return
        state["done"] += 1
        if bar is not None:
            bar.update(task_id, advance=1, description=benchmark)
        elif time.monotonic() - state["last"] > 10 or state["done"] == total:
            state["last"] = time.monotonic()
            log.info("%d/%d samples done", state["done"], total)

    return advance
