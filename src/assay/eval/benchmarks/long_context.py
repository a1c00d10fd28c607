"""What the long-context benchmarks (needle_haystack, longbench_v2) share: a context that lives in the sample only
until its prompt is rendered, and score breakdowns by a metadata field (depth, difficulty, length) beside the
per-subset table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Sequence

from assay.data import DatasetLoader
from assay.eval.benchmarks.base import Benchmark
from assay.eval.config import TaskConfig
from assay.types import Sample, SampleResult
from assay.types.report import BenchmarkReport, MetricScore

CONTEXT = "context"  # the metadata key holding the document until the prompt is rendered
_CONTEXT_MARK = "\x00context\x00"


def forget_contexts(samples: list[Sample]) -> list[Sample]:
    """``samples`` without their ``context`` metadata: the rendered messages hold it already, and a second copy
    in every stored prediction would double files whose contexts run to megabytes."""
    for sample in samples:
        sample.metadata.pop(CONTEXT, None)
    return samples


def breakdown_name(metric: str, key: str, value: Any) -> str:
    """The report's name for ``metric`` over the samples whose ``key`` is ``value``: ``recall[depth=0.25]``."""
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{metric}[{key}={shown}]"


def breakdown_metrics(results: Sequence[SampleResult], metric: str, key: str, values: Sequence[Any],
                      failures_as_zero: bool = False) -> dict[str, MetricScore]:
    """``metric`` summarised over the samples of each of ``values`` of ``sample.metadata[key]`` (in that order;
    values no sample has are left out, values not listed follow in order of appearance)."""
    from assay.eval.report import metric_values, metric_weights, summarise

    groups: dict[Any, list[SampleResult]] = {value: [] for value in values}
    for result in results:
        value = result.sample.metadata.get(key)
        if value is not None:
            groups.setdefault(value, []).append(result)
    return {breakdown_name(metric, key, value): summarise(metric_values(chosen, metric, failures_as_zero),
                                                          metric_weights(chosen, metric))
            for value, chosen in groups.items() if chosen}


class LongContextBenchmark(Benchmark):
    """A benchmark whose samples carry a long ``context`` (metadata) that its prompt embeds.

    A user ``prompt_template`` may place it with ``{context}``. ``breakdowns`` (metadata key, its values in
    report order) add the main metric per value to the report, e.g. ``acc[difficulty=hard]``.
    """

    breakdowns: ClassVar[tuple[tuple[str, tuple[Any, ...]], ...]] = ()

    def load(self, loader: DatasetLoader, limit: float | None = None) -> list[Sample]:
        return forget_contexts(super().load(loader, limit))

    def fill_template(self, template: str, sample: Sample) -> str:
        # The context goes in after formatting: braces in a document must not be read as placeholders.
        filled = super().fill_template(template.replace("{context}", _CONTEXT_MARK), sample)
        return filled.replace(_CONTEXT_MARK, str(sample.metadata.get(CONTEXT, "")))

    def breakdown_values(self) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        """The breakdowns of this run (a benchmark whose values are settings, as depths, builds them here)."""
        return self.breakdowns

    def extra_reports(self, results: list[SampleResult], folder: Path, task: TaskConfig, show: bool,
                      report: BenchmarkReport) -> BenchmarkReport | None:
        """The standard report with the main metric per breakdown value added after the overall metrics."""
        metric = report.main_metric
        extra: dict[str, MetricScore] = {}
        for key, values in self.breakdown_values():
            extra.update(breakdown_metrics(results, metric, key, values, task.ignore_errors))
        if not extra:
            return None
        return report.model_copy(update={"metrics": {**report.metrics, **extra}})
