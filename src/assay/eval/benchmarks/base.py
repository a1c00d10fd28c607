"""The ``Benchmark`` base class and the registry that finds benchmarks by name."""

from __future__ import annotations

import difflib
import logging
import random
from pathlib import Path
from typing import Any, ClassVar, Callable, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from assay.data import DatasetLoader, HubDataset
from assay.data.source import split_names_subsets
from assay.errors import ConfigError, DatasetError
from assay.eval.config import DatasetArgs, TaskConfig
from assay.eval.report import DerivedMetrics, repeat_metric
from assay.types import Completion, Message, Sample, SampleResult, Score
from assay.types.report import BenchmarkReport

log = logging.getLogger("assay.eval")

_REGISTRY: dict[str, type[Benchmark]] = {}
B = TypeVar("B", bound="type[Benchmark]")


def register_benchmark(name: str, *, task_type: str, tags: tuple[str, ...] = ()) -> Callable[[B], B]:
    """Class decorator: make a benchmark runnable by ``name`` (``--datasets name``)."""

    def decorate(cls: B) -> B:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"benchmark {name!r} is registered twice")
        cls.name, cls.task_type, cls.tags = name, task_type, tags
        _REGISTRY[name] = cls
        return cls

    return decorate


def benchmark_names() -> list[str]:
    """Every registered benchmark, sorted."""
    _import_all()
    return sorted(_REGISTRY)


def get_benchmark(name: str) -> type[Benchmark]:
    """The benchmark class registered as ``name``; an unknown name is a ``ConfigError`` with close matches."""
    _import_all()
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(_REGISTRY))}"
    raise ConfigError(f"unknown benchmark {name!r}{hint}")


def _missing_columns(sample: Callable[..., Sample], row: dict[str, Any], subset: str, index: int) -> list[str]:
    """Every column ``sample`` reads that ``row`` lacks: fill each missing one in turn and ask again."""
    probe, missing = dict(row), []
    while len(missing) < 20:
        try:
            sample(probe, subset, index)
            break
        except KeyError as exc:
            column = exc.args[0] if exc.args else "?"
            if column in probe:  # a KeyError from within the benchmark, not a missing column
                break
            missing.append(str(column))
            probe[column] = ""
        except Exception:  # noqa: BLE001 - a placeholder value may not parse; the columns so far are enough
            break
    return missing


def _import_all() -> None:
    import assay.eval.benchmarks  # noqa: F401 - importing the package imports every module


class BenchmarkParams(BaseModel):
    """A benchmark's own settings, read from ``dataset_args.<name>.extra_params``.

    A benchmark with settings declares ``Params``, a subclass with typed fields and defaults (a field's
    ``description`` is what ``assay benchmarks`` and the docs show); the instance's ``params`` is that model,
    validated once when the benchmark is built. A wrong type or value is a one-line ``ConfigError`` naming the
    key; a key the benchmark does not know is ignored with a warning (EvalScope's configs carry keys for its
    own benchmarks that assay need not read).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


def parse_params(benchmark: str, params_type: type[BenchmarkParams], values: dict[str, Any]) -> BenchmarkParams:
    """``values`` (a benchmark's ``extra_params``) as ``params_type``; see :class:`BenchmarkParams`."""
    where = f"dataset_args.{benchmark}.extra_params"
    unknown = sorted(set(values) - set(params_type.model_fields))
    if unknown:
        known = ", ".join(params_type.model_fields) or "none"
        log.warning("%s: unknown key%s %s ignored (%s reads: %s)", where, "s" if len(unknown) > 1 else "",
                    ", ".join(map(repr, unknown)), benchmark, known)
    try:
        return params_type.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "?"
        raise ConfigError(f"{where}.{key}: {error['msg']} (got {error.get('input')!r})") from None


class Benchmark:
    """One benchmark: where its data is, how a row becomes a ``Sample``, how it is asked and scored.

    Subclasses set ``source``, ``licence``, ``subsets`` (the hub configs or the values of a subset column), ``version``
    (bump it whenever the prompt or scoring changes: it is recorded with every result and resume checks it),
    and implement ``sample`` (row → Sample), ``prompt`` (Sample → messages) and ``score`` (pure). Settings of
    its own are a ``Params`` model (:class:`BenchmarkParams`), read as ``self.params``.
    """

    name: ClassVar[str] = ""
    task_type: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()
    version: ClassVar[str] = "1"
    source: ClassVar[HubDataset] = HubDataset()
    generated: ClassVar[bool] = False  # its samples are made by assay (needle_haystack): no data to fetch
    licence: ClassVar[str] = ""  # the data's licence as its authors state it (SPDX id where one exists)
    subsets: ClassVar[tuple[str, ...]] = ("default",)
    metrics: ClassVar[tuple[str, ...]] = ("acc",)
    main_metric: ClassVar[str] = "acc"
    # The splits a run evaluates where more than ``source.split`` (PolyMath's levels; its ``subset_rows`` reads
    # them): ``assay data layout`` and prefetch list them. Empty: ``source.split`` alone.
    eval_splits: ClassVar[tuple[str, ...]] = ()
    few_shot_split: ClassVar[str | None] = None
    default_few_shot: ClassVar[int] = 0
    heavy_scoring: ClassVar[bool] = False  # score in a worker thread, off the event loop
    Params: ClassVar[type[BenchmarkParams]] = BenchmarkParams

    def __init__(self, args: DatasetArgs | None = None, seed: int = 42) -> None:
        self.args = args or DatasetArgs()
        self.seed = seed
        self.params = parse_params(self.name, self.Params, self.args.extra_params)
        self.subset_list = list(self.args.subset_list or self.subsets)
        self.few_shot_num = self.default_few_shot if self.args.few_shot_num is None else self.args.few_shot_num
        if self.few_shot_num and not self.few_shot_split:
            raise ConfigError(f"dataset_args.{self.name}.few_shot_num: {self.name} has no few-shot examples")

    # ---- what subclasses write ---------------------------------------------------------------------

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        """One dataset row as a ``Sample`` (id, question, target, choices, metadata)."""
        raise NotImplementedError

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        """The messages sent for ``sample`` (``shots``: the few-shot examples drawn for it)."""
        raise NotImplementedError

    def raw_prompt(self, sample: Sample) -> str | None:
        """Text to continue as it is (the ``/completions`` endpoint, no chat template), or None to chat.

        Backends that cannot take a raw prompt get ``sample.messages`` instead.
        """
        return None

    def next_turn(self, sample: Sample, history: list[Message]) -> list[Message] | None:
        """A multi-turn benchmark's next request: the messages to send, given ``history`` (the messages just sent
        and the model's answer to them, as an assistant message); None ends the conversation. The default, one
        turn. The runner keeps every turn's answer (``Completion.turns``, then the last one), so a resumed run
        re-grades whole conversations; pure, as ``sample`` is."""
        return None

    def score(self, sample: Sample, answer: str) -> Score:
        """Grade the (filtered) answer text; pure: no I/O, no model."""
        raise NotImplementedError

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        """``score`` for the runner; benchmarks with slow checks send them to ``checker``'s worker processes
        (a :class:`~assay.eval.scoring.symbolic.MathChecker`, or None; not the LLM judge, which a judged
        benchmark holds itself)."""
        return self.score(sample, answer)

    async def ascore_completion(self, sample: Sample, completion: Completion, answer: str, checker: Any) -> Score:
        """What the runner calls: ``ascore`` on the filtered ``answer`` text; benchmarks that grade more of the
        completion than its text (the tool calls) read ``completion`` too."""
        return await self.ascore(sample, answer, checker)

    def subset_of(self, row: dict[str, Any]) -> str | None:
        """The subset a row belongs to, where subsets are a column rather than separate files."""
        return None

    # ---- shared machinery --------------------------------------------------------------------------

    def load(self, loader: DatasetLoader, limit: float | None = None) -> list[Sample]:
        """The samples to run, with their prompts rendered: each subset in order, ``limit`` per subset."""
        root = loader.locate(self.name, self.source, self.args.source_override)
        samples: list[Sample] = []
        for subset in self.subsets_in(loader, root):
            rows = self.subset_rows(loader, root, subset, self.source.split)
            if not rows:
                log.warning("%s: subset %s has no rows", self.name, subset)
            rows = rows[: _limit_count(limit, len(rows))]
            shots_pool = self.shot_pool(loader, root, subset) if self.few_shot_num else []
            for index, row in enumerate(rows):
                sample = self.row_sample(row, subset, index, root)
                shots = self.draw_shots(shots_pool, sample)
                sample.messages = self.render(sample, shots)
                sample.prompt = self.raw_prompt(sample)
                samples.append(sample)
        return samples

    def evaluated_splits(self) -> tuple[str, ...]:
        """The splits this run reads its samples from (``eval_splits``, or ``source.split``); a benchmark whose
        settings choose among them (PolyMath's ``levels``) narrows it."""
        return self.eval_splits or (self.source.split,)

    def subsets_in(self, loader: DatasetLoader, root: Path) -> list[str]:
        """The subsets to load from the copy at ``root``: ``subset_list``, or ``default`` alone for a copy that
        cannot be split (``_runs_as_one_subset``). Returned, not kept: loading leaves the benchmark as built."""
        return ["default"] if self._runs_as_one_subset(loader, root) else list(self.subset_list)

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        """The rows of one subset of ``split``; ``default``, where the benchmark has no subset of that name, is
        every row (a copy run as one subset)."""
        if subset == "default" and (self.subsets == ("default",) or "default" not in self.subsets):
            return loader.rows(root, split, self.source.config)[0]
        if subset not in self.subsets and not self.accepts_any_subset():
            raise ConfigError(f"dataset_args.{self.name}.subset_list: unknown subset {subset!r} "
                              f"(known: {', '.join(self.subsets[:8])}{'...' if len(self.subsets) > 8 else ''})")
        if not self.source.subset_is_config:
            # Subsets are a column (MATH's level): read the whole split, whatever its files are named after
            # (the hub's MATH copy has a folder per subject, not per level).
            rows, _ = loader.rows(root, split, None)
            if rows and any(self.row_subset(row) is not None for row in rows):
                return [row for row in rows if self.row_subset(row) == subset]
        rows, per_subset = loader.rows(root, split, subset)
        if per_subset:
            return rows
        chosen = [row for row in rows if self.row_subset(row) == subset]
        if not chosen and rows and all(self.row_subset(row) is None for row in rows):
            raise DatasetError(f"{root} holds no subset {subset!r} of {self.name} (no file, folder or column "
                               f"names it); set dataset_args.{self.name}.subset_list")
        return chosen

    def row_subset(self, row: dict[str, Any]) -> str | None:
        """The subset a row names: the benchmark's own reading (``subset_of``), else a subset column
        (``source.subset_columns()``: ``subject``, ``category``, ``_hf_subset``) holding one of its subsets."""
        own = self.subset_of(row)
        if own is not None:
            return own
        for column in self.source.subset_columns():
            value = row.get(column)
            if isinstance(value, str) and value in self.subsets:
                return value
        return None

    def _runs_as_one_subset(self, loader: DatasetLoader, root: Path) -> bool:
        """A copy with no file, folder or column per subset (one plain file) runs whole, as subset ``default``,
        with a warning; unless the user named subsets, which such a copy cannot select."""
        if self.args.subset_list or len(self.subsets) < 2 or self.accepts_any_subset():
            return False
        if split_names_subsets(root, self.source.split):
            return False
        rows, _ = loader.rows(root, self.source.split, None)
        if not rows or any(self.row_subset(row) is not None for row in rows):
            return False
        log.warning("%s: %s has no file, folder or column (%s) per subset; its %d rows run as one subset "
                    "'default'", self.name, root, ", ".join(self.source.subset_columns()), len(rows))
        return True

    def accepts_any_subset(self) -> bool:
        """User datasets (general_mcq, general_qa) name their own subsets."""
        return False

    def shot_pool(self, loader: DatasetLoader, root: Path, subset: str) -> list[Sample]:
        """Few-shot candidates of ``subset`` from the few-shot split.

        Rows of another split are numbered like the test rows (MMLU's dev row 0 and test row 0 are both
        ``anatomy/0``): their ids take the split as a prefix, so ``draw_shots`` never mistakes a shot for the
        question and drops it (every MMLU question 0-4 used to get dev examples 1-5 plus one too few).
        Shots from the test split itself keep their ids, so the question is left out of its own shots.
        """
        assert self.few_shot_split
        rows = self.subset_rows(loader, root, subset, self.few_shot_split)
        pool = [self.row_sample(row, subset, index, root) for index, row in enumerate(rows)]
        if self.few_shot_split != self.source.split:
            for shot in pool:
                shot.id = f"{self.few_shot_split}/{shot.id}"
        return pool

    def row_sample(self, row: dict[str, Any], subset: str, index: int, root: Path) -> Sample:
        """``sample``, with a row lacking a column the benchmark reads (a local copy in another schema) as a
        one-line ``DatasetError`` naming the missing columns and those found, rather than a ``KeyError``."""
        try:
            return self.sample(row, subset, index)
        except KeyError:
            missing = _missing_columns(self.sample, row, subset, index)
        raise DatasetError(
            f"{self.name}: {root} (subset {subset!r}) row {index} lacks column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))}; columns found: {', '.join(map(str, row)) or 'none'} (a local copy "
            f"needs the hub's schema; see `assay data layout --datasets {self.name}`)")

    def draw_shots(self, pool: list[Sample], sample: Sample) -> list[Sample]:
        """The first ``few_shot_num`` examples (the published protocols), or a seeded draw per sample."""
        pool = [shot for shot in pool if shot.id != sample.id]
        if not self.args.few_shot_random:
            return pool[: self.few_shot_num]
        rng = random.Random(f"{self.seed}:{sample.id}")
        return rng.sample(pool, min(self.few_shot_num, len(pool)))

    def render(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        """The prompt, with the user's ``system_prompt`` and ``prompt_template`` applied."""
        if self.args.prompt_template:
            messages = [Message.user(self.fill_template(self.args.prompt_template, sample))]
        else:
            messages = self.prompt(sample, shots)
        if self.args.system_prompt:
            messages = [Message.system(self.args.system_prompt), *[m for m in messages if m.role != "system"]]
        return messages

    def fill_template(self, template: str, sample: Sample) -> str:
        """A user template: ``{question}``, and for multiple choice ``{choices}`` and ``{letters}``."""
        letters = "".join(chr(65 + i) for i in range(len(sample.choices or [])))
        choices = "\n".join(f"{letter}) {text}" for letter, text in zip(letters, sample.choices or []))
        try:
            return template.format(question=sample.metadata.get("question", ""), choices=choices, letters=letters)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"dataset_args.{self.name}.prompt_template: bad placeholder ({exc}); "
                              "use {question}, {choices}, {letters}") from None

    def fingerprint(self) -> dict[str, Any]:
        """What makes two runs of this benchmark comparable: its version and the prompt-changing settings."""
        return {"version": self.version, "few_shot_num": self.few_shot_num, **self.args.prompt_fingerprint()}

    def scoring_fingerprint(self) -> dict[str, Any]:
        """The settings that change how a stored answer is graded (a resumed run re-scores when they change)."""
        return {"filters": dict(self.args.filters)}

    def sample_metrics(self, sample: Sample) -> list[str]:
        """The metrics a stored answer to ``sample`` must carry (a mix of benchmarks narrows it per row): the
        per-sample ones reported, and those the reported derived metrics are computed from."""
        wanted = self.report_metrics()
        derived = self.derived_metrics()
        needed = [m for m in wanted if m in self.metrics]
        if derived is not None and any(m in derived.names for m in wanted):
            needed += [m for m in derived.inputs if m not in needed]
        return needed

    def report_metrics(self) -> list[str]:
        """The metrics to report: ``metric_list`` if given (each one the benchmark computes), else all."""
        derived = self.derived_metrics()
        known = [*self.metrics, *(derived.names if derived is not None else ())]
        wanted = list(self.args.metric_list or known)
        for metric in wanted:
            # pass@k, pass^k and maj@k over the repeats (k at most the repeats) can be asked of any benchmark with acc
            if metric not in known and not ("acc" in self.metrics and repeat_metric(metric)):
                raise ConfigError(f"dataset_args.{self.name}.metric_list: {self.name} has no metric {metric!r} "
                                  f"(it has: {', '.join(known)})")
        return wanted

    def derived_metrics(self) -> DerivedMetrics | None:
        """Metrics the report computes from the per-sample ``metrics`` of each group of samples, where a mean over
        samples cannot give them (a ratio of sums: SimpleQA's correct-given-attempted); none by default."""
        return None

    def protocol(self) -> str:
        """How the benchmark is asked and graded, written next to its score in the report."""
        shots = f"{self.few_shot_num}-shot" + (" (random draw)" if self.args.few_shot_random else "") \
            if self.few_shot_num else "0-shot"
        prompt = "user prompt_template" if self.args.prompt_template else self.protocol_note
        shuffled = getattr(self, "shuffled", False)
        return f"{shots}; {prompt}" + ("; options shuffled (seeded)" if shuffled else "")

    protocol_note: ClassVar[str] = "the benchmark's reference prompt"

    def extra_reports(self, results: list[SampleResult], folder: Path, task: TaskConfig, show: bool,
                      report: BenchmarkReport) -> BenchmarkReport | None:
        """Reports beyond the standard table, written to ``folder`` after the run (a collection's breakdowns by
        task type, tag and schema path), and the standard ``report`` to keep in its place if it must change (a
        collection's headline is its weighted score); none by default."""
        return None


def _limit_count(limit: float | None, total: int) -> int:
    if limit is None:
        return total
    if limit < 1:
        return max(1, int(total * limit))
    return int(limit)
