"""The samples of an eval run, for the viewer: filtered pages of predictions, and two runs compared.

Predictions files can hold 100,000 samples: the first look at one builds a compact index (the byte offset
of each line, its subset and its main-metric value), kept in memory while the file is unchanged; a page
then reads only its own lines by seeking to their offsets. Names are resolved through :class:`Outputs`, so
nothing outside the outputs folder can be reached.
"""

from __future__ import annotations

import logging
import math
import re
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from assay.app.readers import Outputs, read_json, read_reports
from assay.errors import ConfigError
from assay.types import SampleResult

Status = Literal["correct", "wrong", "error", "ungraded"]
STATUSES: tuple[Status, ...] = ("correct", "wrong", "error", "ungraded")
_INDEX_CACHE_SIZE = 8

log = logging.getLogger("assay.app")


# ---- samples ----------------------------------------------------------------------------------------------


@dataclass
class PredictionIndex:
    """Where each line of a predictions file starts, and what the filters need of it (no texts)."""

    path: Path
    stamp: tuple[int, int]  # (size, mtime_ns) the index was built from
    metric: str
    offsets: array = field(default_factory=lambda: array("q"))
    lengths: array = field(default_factory=lambda: array("l"))
    values: array = field(default_factory=lambda: array("d"))  # main metric, NaN when ungraded
    statuses: bytearray = field(default_factory=bytearray)  # index into STATUSES
    subset_ids: array = field(default_factory=lambda: array("l"))
    subsets: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.offsets)


def sample_status(result: SampleResult, metric: str) -> tuple[Status, float | None]:
    """correct (full marks on the main metric), wrong, error (a request failed) or ungraded; and the value."""
    from assay.eval.report import sample_value

    value = sample_value(result, metric)
    if any(c.error is not None for c in result.completions) and value is None:
        return "error", None
    if value is None:
        return "ungraded", None
    return ("correct" if value >= 1.0 - 1e-9 else "wrong"), value


def _raw_status(item: dict[str, Any], metric: str) -> tuple[Status, float | None, str]:
    """:func:`sample_status` on the parsed JSON line, without building the models (5x faster on big files)."""
    completions, scores = item.get("completions") or [], item.get("scores") or []
    graded = [v for v in ((s.get("values") or {}).get(metric) for s in scores[:len(completions)]) if v is not None]
    value = math.fsum(graded) / len(graded) if graded else None
    subset = str(item["sample"].get("subset", "default"))
    if value is None:
        return ("error" if any(c.get("error") for c in completions) else "ungraded"), None, subset
    return ("correct" if value >= 1.0 - 1e-9 else "wrong"), float(value), subset


def _main_metric(outputs: Outputs, run_id: str, benchmark: str, first_line: bytes | None) -> str:
    report = read_json(outputs.child(Path(run_id) / "reports", f"{benchmark}.json"))
    if isinstance(report, dict) and report.get("main_metric"):
        return str(report["main_metric"])
    if first_line:
        try:
            scores = orjson.loads(first_line).get("scores") or [{}]
            return str(next(iter(scores[0].get("values") or {"acc": None})))
        except (ValueError, TypeError, AttributeError, IndexError):
            pass  # a damaged first line: the index skips it, with a warning
    return "acc"


_INDEXES: OrderedDict[Path, PredictionIndex] = OrderedDict()


def prediction_index(outputs: Outputs, run_id: str, benchmark: str) -> PredictionIndex:
    """The index of ``predictions/<benchmark>.jsonl``: built on first use, rebuilt when the file changes."""
    path = outputs.child(Path(run_id) / "predictions", f"{benchmark}.jsonl")
    if not path.is_file():
        raise ConfigError(f"{run_id} has no predictions for {benchmark}")
    stat = path.stat()
    stamp = (stat.st_size, stat.st_mtime_ns)
    cached = _INDEXES.get(path)
    if cached is not None and cached.stamp == stamp:
        _INDEXES.move_to_end(path)
        return cached
    index = _build_index(outputs, run_id, benchmark, path, stamp)
    _INDEXES[path] = index
    while len(_INDEXES) > _INDEX_CACHE_SIZE:
        _INDEXES.popitem(last=False)
    return index


def _build_index(outputs: Outputs, run_id: str, benchmark: str, path: Path, stamp: tuple[int, int]) -> PredictionIndex:
    with path.open("rb") as handle:
        first = handle.readline()
    index = PredictionIndex(path, stamp, _main_metric(outputs, run_id, benchmark, first.strip() or None))
    subset_ids: dict[str, int] = {}
    offset = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            start, offset = offset, offset + len(line)
            if not line.endswith(b"\n") or not line.strip():
                continue  # a torn last line (a run still writing) or a blank one
            try:
                status, value, subset = _raw_status(orjson.loads(line), index.metric)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                log.warning("%s line %d: not a readable sample record, skipped (%s)", path, number,
                            str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                continue
            index.offsets.append(start)
            index.lengths.append(len(line))
            index.values.append(math.nan if value is None else value)
            index.statuses.append(STATUSES.index(status))
            index.subset_ids.append(subset_ids.setdefault(subset, len(subset_ids)))
    index.subsets = list(subset_ids)
    return index


@dataclass(frozen=True)
class SampleFilter:
    """Which samples to show: all of the fields that are set must hold."""

    subset: str | None = None
    status: Status | None = None
    min_score: float | None = None
    max_score: float | None = None
    text: str | None = None


def _read_line(index: PredictionIndex, row: int, handle: Any) -> bytes:
    handle.seek(index.offsets[row])
    return handle.read(index.lengths[row])


def _read_result(index: PredictionIndex, row: int, handle: Any, line: bytes | None = None) -> SampleResult | None:
    """The sample at ``row``, or None when its line is JSON but not a sample record (the index checks less)."""
    try:
        return SampleResult.model_validate(orjson.loads(_read_line(index, row, handle) if line is None else line))
    except ValueError as exc:
        log.warning("%s row %d: not a readable sample record, skipped (%s)", index.path, row,
                    str(exc).splitlines()[0])
        return None


def filter_rows(index: PredictionIndex, flt: SampleFilter) -> list[int]:
    """The rows (positions in the index) that pass ``flt``; a text search reads only candidate lines."""
    subset_id = index.subsets.index(flt.subset) if flt.subset in index.subsets else None
    if flt.subset and subset_id is None:
        return []
    status_id = STATUSES.index(flt.status) if flt.status else None
    rows = []
    for row in range(len(index)):
        if subset_id is not None and index.subset_ids[row] != subset_id:
            continue
        if status_id is not None and index.statuses[row] != status_id:
            continue
        if flt.min_score is not None or flt.max_score is not None:
            value = index.values[row]
            if math.isnan(value) or (flt.min_score is not None and value < flt.min_score) or \
                    (flt.max_score is not None and value > flt.max_score):
                continue
        rows.append(row)
    needle = (flt.text or "").strip().lower()
    if needle:
        rows = _search(index, rows, needle)
    return rows


def _search(index: PredictionIndex, rows: list[int], needle: str) -> list[int]:
    # Cheap test on the raw JSON line first (the needle as JSON would write it), then the real texts.
    raw = orjson.dumps(needle)[1:-1]
    kept = []
    with index.path.open("rb") as handle:
        for row in rows:
            line = _read_line(index, row, handle)
            if raw not in line.lower() and needle.encode() not in line.lower():
                continue
            result = _read_result(index, row, handle, line)
            if result is None:
                continue
            view = sample_view(result, row, index.metric)
            haystack = "\n".join([view.sample_id, view.prompt, str(view.target)] +
                                 [f"{a.answer}\n{a.reasoning or ''}\n{a.extracted}" for a in view.answers])
            if needle in haystack.lower():
                kept.append(row)
    return kept


@dataclass(frozen=True)
class AnswerView:
    """One completion of a sample (one per repeat) and its grade."""

    answer: str
    reasoning: str | None
    extracted: str | None
    scores: dict[str, float | None]
    judge: str | None
    error: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    reasoning_tokens: int | None
    latency_s: float | None
    time_to_first_token_s: float | None


@dataclass(frozen=True)
class SampleView:
    """What the Samples tab shows of one sample. Texts are raw model and dataset text: never HTML."""

    row: int
    sample_id: str
    subset: str
    status: Status
    value: float | None
    prompt: str
    target: Any
    choices: list[str] | None
    answers: list[AnswerView]


def _prompt_text(result: SampleResult) -> str:
    sample = result.sample
    if sample.messages:
        if len(sample.messages) == 1:
            return sample.messages[0].text()
        return "\n\n".join(f"**{m.role}**\n\n{m.text()}" for m in sample.messages)
    return sample.prompt or ""


def _judge_of(score: Any) -> str | None:
    judge = score.metadata.get("judge") if score.metadata else None
    if judge is not None:
        return judge if isinstance(judge, str) else orjson.dumps(judge).decode()
    return score.explanation


def sample_view(result: SampleResult, row: int, metric: str) -> SampleView:
    status, value = sample_status(result, metric)
    answers = []
    for i, completion in enumerate(result.completions):
        score = result.scores[i] if i < len(result.scores) else None
        extracted = None if score is None or score.extracted is None else str(score.extracted)
        error = f"{completion.error.kind}: {completion.error.message}" if completion.error else None
        answers.append(AnswerView(
            answer=completion.text, reasoning=completion.reasoning, extracted=extracted,
            scores=dict(score.values) if score else {}, judge=_judge_of(score) if score else None, error=error,
            finish_reason=completion.finish_reason, prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens, reasoning_tokens=completion.usage.reasoning_tokens,
            latency_s=completion.timings.latency_s, time_to_first_token_s=completion.timings.time_to_first_token_s,
        ))
    return SampleView(row=row, sample_id=result.sample.id, subset=result.sample.subset, status=status, value=value,
                      prompt=_prompt_text(result), target=result.sample.target, choices=result.sample.choices,
                      answers=answers)


@dataclass(frozen=True)
class SamplePage:
    """One page of the filtered samples."""

    samples: list[SampleView]
    page: int  # 1-based
    pages: int
    matching: int
    total: int


_FILTERED: OrderedDict[tuple[Path, tuple[int, int], SampleFilter], list[int]] = OrderedDict()


def sample_page(outputs: Outputs, run_id: str, benchmark: str, flt: SampleFilter = SampleFilter(),
                page: int = 1, page_size: int = 10) -> SamplePage:
    """Page ``page`` (from 1; clamped) of the samples passing ``flt``: reads only that page's lines."""
    index = prediction_index(outputs, run_id, benchmark)
    key = (index.path, index.stamp, flt)
    rows = _FILTERED.get(key)
    if rows is None:
        rows = _FILTERED[key] = filter_rows(index, flt)
        while len(_FILTERED) > 32:
            _FILTERED.popitem(last=False)
    page_size = max(1, page_size)
    pages = max(1, math.ceil(len(rows) / page_size))
    page = min(max(1, page), pages)
    chosen = rows[(page - 1) * page_size: page * page_size]
    views = []
    with index.path.open("rb") as handle:
        for row in chosen:
            result = _read_result(index, row, handle)
            if result is not None:
                views.append(sample_view(result, row, index.metric))
    return SamplePage(views, page, pages, len(rows), len(index))


# ---- comparing two runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreDelta:
    benchmark: str
    subset: str  # "OVERALL" for the benchmark's main score
    metric: str
    score_a: float | None
    score_b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.score_a is None or self.score_b is None else self.score_b - self.score_a


def score_deltas(outputs: Outputs, run_a: str, run_b: str) -> list[ScoreDelta]:
    """Main-metric scores of both runs per benchmark and per subset, for the benchmarks either has."""
    reports_a, reports_b = read_reports(outputs, run_a), read_reports(outputs, run_b)
    deltas = []
    for name in sorted(set(reports_a) | set(reports_b)):
        a, b = reports_a.get(name), reports_b.get(name)
        metric = (a or b).main_metric  # type: ignore[union-attr]
        deltas.append(ScoreDelta(name, "OVERALL", metric, a.score if a else None, b.score if b else None))
        subsets_a = {s.name: s for s in a.subsets} if a else {}
        subsets_b = {s.name: s for s in b.subsets} if b else {}
        for subset in list(dict.fromkeys([*subsets_a, *subsets_b])):
            sa, sb = subsets_a.get(subset), subsets_b.get(subset)
            score = (lambda s: s.metrics[metric].score if s and metric in s.metrics else None)
            deltas.append(ScoreDelta(name, subset, metric, score(sa), score(sb)))
    return deltas


@dataclass(frozen=True)
class Disagreement:
    """A sample both runs answered where one got it right and the other did not (or the values differ)."""

    sample_id: str
    subset: str
    status_a: Status
    status_b: Status
    value_a: float | None
    value_b: float | None
    row_a: int
    row_b: int


def disagreements(outputs: Outputs, run_a: str, run_b: str, benchmark: str, limit: int = 500) -> list[Disagreement]:
    """Samples of ``benchmark`` that the two runs scored differently, from the indexes (ids read per line)."""
    index_a = prediction_index(outputs, run_a, benchmark)
    index_b = prediction_index(outputs, run_b, benchmark)
    ids_a = sample_ids(index_a)
    out = []
    ids_b = sample_ids(index_b)
    where_b = {sample_id: row for row, sample_id in enumerate(ids_b)}
    for row_a, sample_id in enumerate(ids_a):
        row_b = where_b.get(sample_id)
        if row_b is None:
            continue
        va, vb = index_a.values[row_a], index_b.values[row_b]
        sa, sb = STATUSES[index_a.statuses[row_a]], STATUSES[index_b.statuses[row_b]]
        same = (sa == sb) and ((math.isnan(va) and math.isnan(vb)) or va == vb)
        if not same:
            out.append(Disagreement(sample_id, index_a.subsets[index_a.subset_ids[row_a]], sa, sb,
                                    None if math.isnan(va) else va, None if math.isnan(vb) else vb, row_a, row_b))
            if len(out) >= limit:
                break
    return out


_ID_FIELD = re.compile(rb'^\{"sample":\{"id":"((?:[^"\\]|\\.)*)"')
_IDS: OrderedDict[tuple[Path, tuple[int, int]], list[str]] = OrderedDict()


def sample_ids(index: PredictionIndex) -> list[str]:
    key = (index.path, index.stamp)
    if key in _IDS:
        return _IDS[key]
    ids = []
    with index.path.open("rb") as handle:
        for row in range(len(index)):
            line = _read_line(index, row, handle)
            match = _ID_FIELD.match(line)  # the writer puts the id first: no full parse needed
            ids.append(orjson.loads(b'"' + match.group(1) + b'"') if match else
                       str(orjson.loads(line)["sample"]["id"]))
    _IDS[key] = ids
    while len(_IDS) > _INDEX_CACHE_SIZE:
        _IDS.popitem(last=False)
    return ids


def read_sample(outputs: Outputs, run_id: str, benchmark: str, row: int) -> SampleView:
    """One sample by its row in the index."""
    index = prediction_index(outputs, run_id, benchmark)
    if not 0 <= row < len(index):
        raise ConfigError(f"{benchmark}: no sample at row {row}")
    with index.path.open("rb") as handle:
        result = _read_result(index, row, handle)
    if result is None:
        raise ConfigError(f"{benchmark}: the sample at row {row} cannot be read (a damaged line)")
    return sample_view(result, row, index.metric)
