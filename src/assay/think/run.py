"""``run_think``: read finished eval runs, measure every reasoning trace, write the table, JSON and figure.

Outputs under ``output_dir``: ``think.json`` (the table and how it was measured), ``traces.jsonl`` (one
measured trace a line) and ``think.png`` (a panel per metric); with a judge, ``judge_cache.jsonl`` too (its
replies to the first-correct and ``--split llm`` questions alike, so a re-run asks it nothing twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from assay.errors import ConfigError
from assay.eval.store import MANIFEST, RunStore
from assay.think.analyse import LLM_SPLIT_FALLBACK, Trace, analyse_trace, step_splitter
from assay.think.config import ThinkConfig
from assay.think.metrics import TraceResult, agreement, summarise_all
from assay.think.plots import plot_metrics
from assay.think.report import ThinkReport, agreement_json, print_table
from assay.think.splitting import reasoning_of
from assay.think.tokens import TokenCounter
from assay.types import SampleResult, Score
from assay.types.manifest import RunManifest

log = logging.getLogger("assay.think")

_CONCURRENCY = 64
# The judge's replies (first-correct steps and --split llm steps alike), in the output folder.
JUDGE_CACHE = "judge_cache.jsonl"


@dataclass
class ThinkResult:
    """What ``run_think`` returns: the report, the traces, and where the files went."""

    report: ThinkReport
    traces: list[TraceResult]
    output_dir: Path
    figure: Path


def run_think(config: ThinkConfig | dict[str, Any], *, show: bool = True, console: Any = None) -> ThinkResult:
    """Analyse the thinking efficiency of finished eval runs (a ``ThinkConfig`` or a dict of its fields)."""
    if not isinstance(config, ThinkConfig):
        from pydantic import ValidationError

        from assay.utils.config_file import describe_validation_error

        try:
            config = ThinkConfig(**config)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, source="field")) from None
    return asyncio.run(arun_think(config, show=show, console=console))


def _load_run(path: str, dataset: str) -> tuple[str, list[SampleResult]]:
    """The run's model (from its manifest, the one record of the run) and its results on ``dataset``."""
    root = Path(path).expanduser()
    if not (root / MANIFEST).is_file():
        raise ConfigError(f"{path}: not an assay eval run folder (no {MANIFEST})")
    manifest = RunManifest.load(root / MANIFEST)
    store = RunStore(root)
    if not store.predictions_path(dataset).is_file():
        have = sorted(p.stem for p in store.predictions.glob("*.jsonl")) if store.predictions.is_dir() else []
        raise ConfigError(f"{path}: no predictions for {dataset} (this run has: {', '.join(have) or 'none'})")
    return manifest.model, list(store.load_results(dataset).values())


def _group_of(result: SampleResult, by_level: bool) -> str:
    if by_level:
        return str(result.sample.metadata["level"])
    return result.sample.subset


def _problem_of(result: SampleResult) -> str:
    question = result.sample.metadata.get("question")
    if question:
        return str(question)
    users = [m for m in result.sample.messages or [] if m.role == "user"]
    return users[-1].text() if users else (result.sample.prompt or "")


def _grade(score: Score | None) -> float | None:
    """The run's grade of the final answer: ``acc`` when the benchmark has it, else its first graded metric."""
    if score is None:
        return None
    if "acc" in score.values:
        return score.values["acc"]
    return next((v for v in score.values.values() if v is not None), None)


def _labels(config: ThinkConfig, models: list[str]) -> list[str]:
    if config.labels is not None:
        if len(config.labels) != len(config.runs):
            raise ConfigError(f"--labels: {len(config.labels)} labels for {len(config.runs)} runs")
        labels = list(config.labels)
    else:
        labels = list(models)
    seen: Counter[str] = Counter()
    for i, label in enumerate(labels):  # the same model twice (e.g. two settings): number them
        seen[label] += 1
        if labels.count(label) > 1:
            labels[i] = f"{label} #{seen[label]}"
    return labels


def _traces(config: ThinkConfig, label: str, results: list[SampleResult], counter: TokenCounter,
            unusable: Counter[str]) -> tuple[list[tuple[Trace, Any]], bool]:
    """The traces of one run (with their token counts), and whether they are grouped by level."""
    if config.group_by == "level":
        by_level = True
        missing = [r.sample.id for r in results if "level" not in r.sample.metadata]
        if missing:
            raise ConfigError(f"--group-by level: sample {missing[0]} of {config.dataset} has no level")
    else:
        by_level = config.group_by == "auto" and all("level" in r.sample.metadata for r in results)
    per_group: Counter[str] = Counter()
    out = []
    for result in results:
        group = _group_of(result, by_level)
        if config.limit is not None and per_group[group] >= config.limit:
            continue
        per_group[group] += 1
        if result.sample.target is None:
            unusable["without a target"] += len(result.completions)
            continue
        for repeat, completion in enumerate(result.completions):
            if completion.error is not None:
                unusable["failed requests"] += 1
                continue
            reasoning = reasoning_of(completion)
            if not reasoning.strip():
                unusable["without reasoning"] += 1
                continue
            score = result.scores[repeat] if repeat < len(result.scores) else None
            correct = _grade(score)
            tokens = counter.trace(reasoning, completion.usage.reasoning_tokens,
                                   where=f"{label}: sample {result.sample.id}")
            trace = Trace(model=label, sample_id=result.sample.id, repeat=repeat, group=group,
                          problem=_problem_of(result), target=str(result.sample.target), reasoning=reasoning,
                          correct=correct)
            out.append((trace, tokens))
    return out, by_level


async def arun_think(config: ThinkConfig, *, show: bool = True, console: Any = None) -> ThinkResult:
    """The async body of ``run_think``."""
    loaded = [_load_run(path, config.dataset) for path in config.runs]
    labels = _labels(config, [model for model, _ in loaded])
    counter = TokenCounter(config.tokenizer_path)
    unusable: dict[str, Counter[str]] = {}
    work: list[tuple[Trace, Any]] = []
    by_level = True
    for label, (_, results) in zip(labels, loaded):
        unusable[label] = Counter()
        run_work, run_by_level = _traces(config, label, results, counter, unusable[label])
        work += run_work
        by_level = by_level and run_by_level
    if not work:
        raise ConfigError(f"no reasoning traces to analyse in {config.dataset} of the given runs "
                          "(were they run with a reasoning model, or with thinking turned off?)")

    from assay.eval.scoring.judge import make_judge
    from assay.eval.scoring.symbolic import MathChecker

    output_dir = Path(config.output_dir).expanduser()
    slots = asyncio.Semaphore(_CONCURRENCY)
    with MathChecker(timeout_s=5.0) as equality:
        # eval's judge: its replies cached in the output folder, so a re-run asks nothing twice
        judge = (make_judge(config.judge, cache_path=output_dir / JUDGE_CACHE) if config.judge is not None
                 else None)
        # --split llm asks the same judge for the steps (the config guarantees a judge then)
        splitter = step_splitter(judge) if config.split == "llm" and judge is not None else None

        async def one(trace: Trace, tokens: Any) -> TraceResult:
            async with slots:
                return await analyse_trace(trace, tokens, split=config.split, markers=config.markers,
                                           equality=equality, judge=judge, splitter=splitter)

        if judge is not None:
            async with judge:
                traces = await asyncio.gather(*(one(t, k) for t, k in work))
        else:
            traces = await asyncio.gather(*(one(t, k) for t, k in work))
    traces = list(traces)

    report = ThinkReport(
        dataset=config.dataset, runs=dict(zip(labels, config.runs)),
        group_by="level" if by_level else "subset", split=config.split, markers=config.markers,
        first_correct_by=("LLM judge " + config.judge.model) if config.judge else "rule (math-verify)",
        token_source=counter.describe(), rows=summarise_all(traces, labels),
        agreement=agreement_json(agreement(traces)),
        split_fallbacks=(sum(t.split == LLM_SPLIT_FALLBACK for t in traces) if config.split == "llm" else None),
        unusable={label: dict(counts) for label, counts in unusable.items()},
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "think.json").write_bytes(orjson.dumps(report.model_dump(mode="json"), option=orjson.OPT_INDENT_2))
    with (output_dir / "traces.jsonl").open("wb") as handle:
        for trace in traces:
            handle.write(orjson.dumps(trace.to_json()) + b"\n")
    figure = plot_metrics(report.rows, labels, output_dir / "think.png",
                          title=f"Thinking efficiency on {config.dataset}",
                          group_label="difficulty level" if by_level else "subset")
    if show:
        print_table(report, console)
        log.info("think outputs in %s", output_dir)
    return ThinkResult(report=report, traces=traces, output_dir=output_dir, figure=figure)
