"""data_collection: evaluate a collection file built by ``assay collection build`` (a weighted mix of benchmarks).

Each line holds a sample as its benchmark rendered it, with the benchmark's name, version, subset, the
schema path, task type, tags and load settings (see ``assay.collections.CollectionItem``). The prompt is asked
as saved, so a collection asks the same on any machine; each answer is graded by its own benchmark's scorer.
Besides the usual per-dataset table, the run writes ``reports/collection.json`` and ``collection.md``: scores by
task type, metric and dataset, by tag and by schema path, and the overall weighted score.

Collection files written by EvalScope (1.x dumped samples, 0.x hub records) are read too, each row graded by
assay's scorer for its ``dataset_name`` (see ``assay.collections.evalscope``); rows of a benchmark assay lacks
are counted and named in the report, and the rest runs.

``dataset_args.data_collection.dataset_id`` is the file (or a hub id holding it); ``subset_list`` keeps only the
named benchmarks. ``limit`` applies to the collection as a whole, as in EvalScope: N rows (or a fraction)
shared among the benchmarks in proportion to their rows in the file, the first rows of each in file order, so
a limited run keeps the mix's proportions.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assay.data import DatasetLoader, HubDataset
from assay.errors import ConfigError, DatasetError
from assay.eval.benchmarks.base import Benchmark, _limit_count, get_benchmark, register_benchmark
from assay.eval.config import DatasetArgs, TaskConfig
from assay.eval.filters import apply_filters
from assay.types import Completion, Message, Sample, SampleResult, Score
from assay.types.report import BenchmarkReport, MetricScore

log = logging.getLogger("assay.eval")

META = "collection"  # the key in Sample.metadata holding a row's collection fields
WEIGHTED = "weighted_score"  # the headline metric of a collection run


@register_benchmark("data_collection", task_type="collection", tags=("collection",))
class DataCollection(Benchmark):
    """A collection file: every row scored by its own benchmark, reported by task type, tag and schema path."""

    version = "1"
    licence = "those of the benchmarks it mixes"
    source = HubDataset(split="test")
    subsets = ()
    metrics = ("acc",)
    protocol_note = "each row asked as saved in the collection and graded by its own benchmark's scorer"

    def __init__(self, args: DatasetArgs | None = None, seed: int = 42) -> None:
        super().__init__(args, seed)
        self.subset_list = list(self.args.subset_list or [])
        self._scorers: dict[str, Benchmark] = {}
        self.skipped: list[Any] = []  # SkippedRow: EvalScope rows not run, and why

    def load(self, loader: DatasetLoader, limit: float | None = None) -> list[Sample]:
        if not self.args.source_override:
            raise ConfigError("data_collection evaluates a collection file: set dataset_args.data_collection."
                              "dataset_id to its path or hub id (build one with `assay collection build`)")
        root = loader.locate(self.name, self.source, self.args.source_override)
        items = self._items(root, loader.rows(root, self.source.split)[0])
        names = list(dict.fromkeys(item.benchmark for item in items))
        unknown = [name for name in self.subset_list if name not in names]
        if unknown:
            raise ConfigError(f"dataset_args.data_collection.subset_list: {', '.join(unknown)} not in the "
                              f"collection (it has {', '.join(names)})")
        self.subset_list = self.subset_list or names
        chosen = [item for item in items if item.benchmark in self.subset_list]
        samples = [self._sample(item) for item in limit_collection(chosen, limit)]
        scorers = list(self._scorers.values())
        self.metrics = tuple(dict.fromkeys(m for b in scorers for m in (b.args.metric_list or b.metrics)))
        self.heavy_scoring = any(b.heavy_scoring for b in scorers)
        return samples

    def _items(self, root: Path, rows: list[dict[str, Any]]) -> list[Any]:
        """The file's rows as collection items: assay's own rows, or EvalScope's read by their benchmark."""
        from assay.collections.evalscope import dataset_shares, is_evalscope_row, read_evalscope_row
        from assay.collections.item import CollectionItem

        shares = dataset_shares([row for row in rows if is_evalscope_row(row)])
        items, self.skipped = [], []
        for number, row in enumerate(rows, 1):
            if is_evalscope_row(row):
                read = read_evalscope_row(row, shares)
                (items if isinstance(read, CollectionItem) else self.skipped).append(read)
                continue
            try:
                items.append(CollectionItem.model_validate(row))
            except ValidationError as exc:
                first = exc.errors()[0]
                raise DatasetError(f"{root}: row {number} is not a collection row ({'.'.join(map(str, first['loc']))}"
                                   f": {first['msg']}); build collections with `assay collection build`") from None
        if self.skipped:
            counts = Counter((s.dataset_name, s.reason) for s in self.skipped)
            log.warning("%s: %d rows not run: %s", root, len(self.skipped),
                        "; ".join(f"{name} x{n} ({reason})" for (name, reason), n in counts.items()))
        if not items:
            raise DatasetError(f"{root}: no row of the collection can be run"
                               + (f" ({self.skipped[0].dataset_name}: {self.skipped[0].reason})" if self.skipped else ""))
        return items

    def _sample(self, item: Any) -> Sample:
        scorer = self._scorer(item.benchmark, item.args, item.benchmark_version)
        metrics = list(scorer.args.metric_list or scorer.metrics)
        collection = {
            "index": item.index, "benchmark": item.benchmark, "benchmark_version": item.benchmark_version,
            "subset": item.subset, "sample_id": item.sample.id, "task_type": item.task_type, "tags": item.tags,
            "path": item.path, "weight": item.weight, "args": item.args, "metrics": metrics,
            "main_metric": scorer.main_metric if scorer.main_metric in metrics else metrics[0],
        }
        sample = item.sample.model_copy(update={
            "id": str(item.index), "subset": item.benchmark, "metadata": {**item.sample.metadata, META: collection}})
        sample.messages = self.render(sample, [])
        return sample

    def _scorer(self, benchmark: str, args: dict[str, Any], saved_version: str | None = None) -> Benchmark:
        key = f"{benchmark}:{sorted(args.items())!r}"
        if key not in self._scorers:
            try:
                cls = get_benchmark(benchmark)
            except ConfigError:
                raise DatasetError(f"the collection has rows of {benchmark!r}, which this assay cannot score "
                                   "(no such benchmark)") from None
            if saved_version is not None and saved_version != cls.version:
                log.warning("%s rows were sampled with version %s and are scored with version %s (the prompts "
                            "are asked as saved)", benchmark, saved_version, cls.version)
            self._scorers[key] = cls(DatasetArgs(**args), self.seed)
        return self._scorers[key]

    def sample_metrics(self, sample: Sample) -> list[str]:
        """A row carries its own benchmark's metrics, not the union across the collection; and of those, the ones
        its benchmark asks of that row (a two-turn multi_if conversation has no turn 3: absent, not ungraded)."""
        wanted = set(self.report_metrics())
        saved = [m for m in sample.metadata.get(META, {}).get("metrics", []) if m in wanted]
        if META not in sample.metadata:
            return saved
        scorer, original = self._original(sample)
        own = set(scorer.sample_metrics(original))
        return [m for m in saved if m in own]

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        if not sample.messages:
            raise DatasetError(f"collection row {sample.id} has no prompt messages")
        return list(sample.messages)

    def _original(self, sample: Sample) -> tuple[Benchmark, Sample]:
        """The row's own benchmark, and the sample as that benchmark made it."""
        meta = sample.metadata[META]
        scorer = self._scorer(meta["benchmark"], meta["args"])
        original = sample.model_copy(update={
            "id": meta["sample_id"], "subset": meta["subset"],
            "metadata": {k: v for k, v in sample.metadata.items() if k != META}})
        return scorer, original

    def next_turn(self, sample: Sample, history: list[Message]) -> list[Message] | None:
        """The row's own benchmark's next turn: a multi-turn row (multi_if) goes on as it would alone, rather
        than ending after its first answer with the later turns ungraded."""
        scorer, original = self._original(sample)
        return scorer.next_turn(original, history)

    def _unwrap(self, sample: Sample, answer: str) -> tuple[Benchmark, Sample, str]:
        """The row's own benchmark, the sample as that benchmark made it, and the answer after its filters."""
        scorer, original = self._original(sample)
        if scorer.args.filters:
            answer = apply_filters(answer, scorer.args.filters).text
        return scorer, original, answer

    def score(self, sample: Sample, answer: str) -> Score:
        scorer, original, answer = self._unwrap(sample, answer)
        return scorer.score(original, answer)

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        scorer, original, answer = self._unwrap(sample, answer)
        return await scorer.ascore(original, answer, checker)

    async def ascore_completion(self, sample: Sample, completion: Completion, answer: str, checker: Any) -> Score:
        # The row's own benchmark may grade more than the text (bfcl_v3 grades the tool calls).
        scorer, original, answer = self._unwrap(sample, answer)
        return await scorer.ascore_completion(original, completion, answer, checker)

    def fingerprint(self) -> dict[str, Any]:
        # A different file at the same path must not be resumed into: its row indices mean other samples.
        fingerprint = super().fingerprint()
        path = Path(self.args.source_override or "").expanduser()
        if self.args.source_override and path.is_file():
            fingerprint["collection_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        return fingerprint

    def extra_reports(self, results: list[SampleResult], folder: Path, task: TaskConfig, show: bool,
                      report: BenchmarkReport) -> BenchmarkReport:
        """The collection's own report (``collection.json``/``.md``), and the standard one headed by the
        weighted score: the schema's view of the mix, which the viewer and ``report.md`` show first."""
        from assay.collections.report import build_collection_report, print_collection_report, write_collection_report

        collection = build_collection_report(results, model=task.model_name, failures_as_zero=task.ignore_errors,
                                             skipped=self.skipped)
        write_collection_report(collection, folder)
        if show:
            print_collection_report(collection)
        headline = MetricScore(score=collection.weighted_score, num=collection.count)
        return report.model_copy(update={"main_metric": WEIGHTED, "score": collection.weighted_score,
                                         "metrics": {WEIGHTED: headline, **report.metrics}})


def limit_collection(items: list[Any], limit: float | None) -> list[Any]:
    """``limit`` rows of the whole collection (a fraction below 1), shared among its benchmarks in proportion
    to their rows, the first of each in file order; the file's order is kept."""
    from assay.collections.sampler import apportion

    if limit is None:
        return items
    wanted = min(_limit_count(limit, len(items)), len(items))
    names = list(dict.fromkeys(item.benchmark for item in items))
    sizes = [sum(1 for item in items if item.benchmark == name) for name in names]
    quota = dict(zip(names, (min(k, size) for k, size in zip(apportion(wanted, [float(s) for s in sizes]),
                                                              sizes))))
    kept = []
    for item in items:
        if quota[item.benchmark] > 0:
            quota[item.benchmark] -= 1
            kept.append(item)
    return kept
