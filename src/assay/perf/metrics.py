"""Serving metrics as small pure functions, with the definitions of vLLM's ``bench serve`` and EvalScope.

- TTFT (``time_to_first_token_s``): request sent → first non-empty content or reasoning delta.
- E2E latency (``latency_s``): request sent → last byte of the response.
- TPOT (``time_per_output_token_s``): (latency − TTFT) / (output tokens − 1), per request; undefined for
  answers of one token.
- ITL (``itl_s``): the gap between two consecutive token-carrying chunks, one sample per gap, pooled over
  all requests (not a per-request average). TTFT is not an ITL sample.
- Throughput: finished requests, output tokens, and input + output tokens per second of the plan's
  duration (first request sent → last response done).
- Goodput: requests per second that succeeded and met every SLO (TTFT, TPOT, E2E latency).

Token counts come from the server's ``usage`` when it sends one, else from a local tokenizer; every record
says which (``server``, ``tokenizer``, ``dataset``, ``none``), and so does the summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from assay.types import Completion

PERCENTILES = (10, 25, 50, 66, 75, 80, 90, 95, 98, 99)
NS_PER_S = 1e9


def time_per_output_token_s(latency_s: float | None, ttft_s: float | None, output_tokens: int | None) -> float | None:
    """(latency − TTFT) / (output tokens − 1): the mean decode time of the tokens after the first."""
    if latency_s is None or ttft_s is None or output_tokens is None or output_tokens < 2:
        return None
    return (latency_s - ttft_s) / (output_tokens - 1)


def inter_token_latencies_s(chunk_ns: list[int]) -> np.ndarray:
    """The gaps between consecutive token-carrying chunks, in seconds (one ITL sample per gap)."""
    if len(chunk_ns) < 2:
        return np.empty(0)
    # fromiter and slices: a third less time than asarray and np.diff on a few hundred stamps, per request.
    stamps = np.fromiter(chunk_ns, dtype=np.int64, count=len(chunk_ns))
    return (stamps[1:] - stamps[:-1]) / NS_PER_S


@dataclass(slots=True)
class RequestMetrics:
    """What one finished (or failed) request measured; ``None`` where it is undefined."""

    ok: bool
    ttft_s: float | None
    first_content_s: float | None
    latency_s: float | None
    tpot_s: float | None
    input_tokens: int | None
    input_token_source: str
    output_tokens: int | None
    output_token_source: str
    reasoning_tokens: int | None
    itl_s: np.ndarray = field(default_factory=lambda: np.empty(0))


def request_metrics(
    completion: Completion,
    *,
    input_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> RequestMetrics:
    """The metrics of one request.

    Token counts: the server's usage first; else ``input_tokens`` (known from the prompt set) and
    ``count_tokens`` applied to the answer (a local tokenizer). Chunks are never counted as tokens.
    """
    usage = completion.usage
    timings = completion.timings
    in_tokens, in_source = usage.prompt_tokens, "server"
    if in_tokens is None:
        in_tokens, in_source = input_tokens, ("dataset" if input_tokens is not None else "none")
    out_tokens, out_source = usage.completion_tokens, "server"
    if out_tokens is None:
        out_source = "none"
        if count_tokens is not None and completion.ok:
            text = (completion.reasoning or "") + completion.text
            out_tokens, out_source = count_tokens(text), "tokenizer"
    # Without a stream the "first token" is the whole body: no TTFT, TPOT or ITL to measure.
    ttft = timings.time_to_first_token_s if timings.chunk_ns else None
    latency = timings.latency_s
    ok = completion.ok
    return RequestMetrics(
        ok=ok, ttft_s=ttft, first_content_s=timings.time_to_first_content_s, latency_s=latency,
        tpot_s=time_per_output_token_s(latency, ttft, out_tokens) if ok else None,
        input_tokens=in_tokens, input_token_source=in_source, output_tokens=out_tokens,
        output_token_source=out_source, reasoning_tokens=usage.reasoning_tokens,
        itl_s=inter_token_latencies_s(timings.chunk_ns) if ok else np.empty(0),
    )


def percentiles(values: np.ndarray, ps: tuple[int, ...] = PERCENTILES) -> dict[str, float | None]:
    """``{"p50": ...}`` over the finite values (numpy's linear interpolation, as vLLM); ``None`` if empty."""
    finite = values[np.isfinite(values)] if values.size else values
    if finite.size == 0:
        return {f"p{p}": None for p in ps}
    return {f"p{p}": float(v) for p, v in zip(ps, np.percentile(finite, ps))}


def finite_mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)] if values.size else values
    return float(finite.mean()) if finite.size else None


class PooledDistribution:
    """All samples of a pooled metric (ITL), exact up to ``exact_limit`` values, then a log histogram.

    A 100,000-request run yields tens of millions of ITL gaps; past the limit the samples go into
    ~25,000 log-spaced bins of 0.1% relative width, so percentiles stay within 0.05% of the exact value
    while memory stays flat. Zero gaps (chunks read in one socket read) keep their own bin.
    """

    LOW_S = 1e-7
    HIGH_S = 1e4
    RELATIVE_WIDTH = 1e-3

    def __init__(self, exact_limit: int = 4_000_000) -> None:
        self.exact_limit = exact_limit
        self.count = 0
        self.total = 0.0
        self._parts: list[np.ndarray] = []
        self._held = 0
        self._hist: np.ndarray | None = None
        self._log_step = math.log1p(self.RELATIVE_WIDTH)
        self._bins = int(math.ceil(math.log(self.HIGH_S / self.LOW_S) / self._log_step)) + 2

    def add(self, values: np.ndarray) -> None:
        """Add samples (seconds)."""
        if values.size == 0:
            return
        self.count += int(values.size)
        self.total += float(values.sum())
        if self._hist is None:
            self._parts.append(values.astype(np.float64, copy=False))
            self._held += values.size
            if self._held > self.exact_limit:
                self._hist = np.zeros(self._bins, dtype=np.int64)
                for part in self._parts:
                    self._bin(part)
                self._parts = []
        else:
            self._bin(values)

    def _bin(self, values: np.ndarray) -> None:
        assert self._hist is not None
        index = np.zeros(values.size, dtype=np.int64)
        positive = values > self.LOW_S
        logs = np.log(np.minimum(values[positive], self.HIGH_S) / self.LOW_S) / self._log_step
        index[positive] = np.floor(logs).astype(np.int64) + 1
        self._hist += np.bincount(index, minlength=self._bins)[: self._bins]

    @property
    def exact(self) -> bool:
        return self._hist is None

    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def percentiles(self, ps: tuple[int, ...] = PERCENTILES) -> dict[str, float | None]:
        if self._hist is None:
            return percentiles(np.concatenate(self._parts) if self._parts else np.empty(0), ps)
        cumulative = np.cumsum(self._hist)
        out: dict[str, float | None] = {}
        for p in ps:
            rank = p / 100 * (self.count - 1)  # numpy's linear-interpolation rank, to the nearest bin
            index = int(np.searchsorted(cumulative, rank + 1, side="left"))
            if index == 0:
                out[f"p{p}"] = 0.0
            else:
                # The geometric centre of the bin [LOW·g^(i-1), LOW·g^i).
                out[f"p{p}"] = self.LOW_S * math.exp((index - 0.5) * self._log_step)
        return out


@dataclass
class RequestColumns:
    """Per-request values of one plan as arrays (NaN where undefined), as read back from the records."""

    ok: np.ndarray
    start_s: np.ndarray
    done_s: np.ndarray
    send_lag_s: np.ndarray
    ttft_s: np.ndarray
    latency_s: np.ndarray
    tpot_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    error_kinds: dict[str, int]
    input_token_sources: dict[str, int]
    output_token_sources: dict[str, int]

    @property
    def total(self) -> int:
        return int(self.ok.size)


def goodput_mask(columns: RequestColumns, slo_ms: Mapping[str, float]) -> np.ndarray:
    """Which requests succeeded and met every SLO (an undefined TPOT, a one-token answer, meets it)."""
    good = columns.ok.astype(bool).copy()
    limits = {"ttft_ms": columns.ttft_s, "tpot_ms": columns.tpot_s, "e2e_latency_ms": columns.latency_s}
    for key, limit_ms in slo_ms.items():
        values = limits[key]
        with np.errstate(invalid="ignore"):
            met = values * 1000 <= limit_ms
        if key == "tpot_ms":
            met |= np.isnan(values)
        good &= met
    return good


def plan_duration_s(columns: RequestColumns) -> float:
    """First request sent → last response done (0 for an empty plan)."""
    if columns.total == 0:
        return 0.0
    finite_done = columns.done_s[np.isfinite(columns.done_s)]
    if finite_done.size == 0:
        return 0.0
    return float(finite_done.max() - np.nanmin(columns.start_s))


def per_request_rates(columns: RequestColumns, *, generates: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Each successful request's output tokens/s and (input + output) tokens/s over its own latency.

    ``generates=False`` (embeddings, rerank): there are no output tokens, and the total is the input's.
    """
    ok = columns.ok.astype(bool)
    latency = np.where(ok & (columns.latency_s > 0), columns.latency_s, np.nan)
    output = columns.output_tokens / latency
    if not generates:
        return output, columns.input_tokens / latency
    total = (np.nan_to_num(columns.input_tokens) + columns.output_tokens) / latency
    return output, total


def token_source_label(counts: Mapping[str, int]) -> str:
    """``server``, ``tokenizer``... or ``mixed (server 90, tokenizer 10)`` when requests differ."""
    used = {k: v for k, v in counts.items() if v}
    if not used:
        return "none"
    if len(used) == 1:
        return next(iter(used))
    return "mixed (" + ", ".join(f"{k} {v}" for k, v in sorted(used.items())) + ")"
