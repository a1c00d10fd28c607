"""Metric maths on hand-built timings: each definition with its unit, and properties that must hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.perf.metrics import (
    PooledDistribution,
    RequestColumns,
    goodput_mask,
    inter_token_latencies_s,
    percentiles,
    plan_duration_s,
    request_metrics,
    time_per_output_token_s,
    token_source_label,
)
from assay.types import Completion, ErrorInfo, Timings, Usage

pytestmark = pytest.mark.timeout(60)
MS = 1_000_000  # ns


def completion(chunks_ms: list[float], *, done_ms: float | None = None, out: int | None = None,
               prompt: int | None = None, error: bool = False, text: str = "abc") -> Completion:
    start = 10_000 * MS
    stamps = [start + int(c * MS) for c in chunks_ms]
    timings = Timings(request_start_ns=start, first_token_ns=stamps[0] if stamps else None,
                      first_content_ns=stamps[0] if stamps else None,
                      done_ns=start + int((done_ms if done_ms is not None else (chunks_ms or [0])[-1]) * MS),
                      chunk_ns=stamps)
    usage = Usage(prompt_tokens=prompt, completion_tokens=out, source="server" if out is not None else "none")
    return Completion(text=text, usage=usage, timings=timings,
                      error=ErrorInfo(kind="http_status", message="HTTP 500", status=500) if error else None)


def test_ttft_tpot_itl_latency_on_hand_built_timings():
    # First token at 50 ms, then 9 more chunks 10 ms apart, done 2 ms after the last chunk.
    c = completion([50 + 10 * i for i in range(10)], done_ms=142, out=10, prompt=7)
    m = request_metrics(c)
    assert m.ttft_s == pytest.approx(0.050)
    assert m.latency_s == pytest.approx(0.142)
    assert m.tpot_s == pytest.approx((0.142 - 0.050) / 9)
    assert m.itl_s.tolist() == pytest.approx([0.010] * 9)
    assert (m.input_tokens, m.input_token_source, m.output_tokens, m.output_token_source) == (7, "server", 10, "server")


def test_tpot_uses_tokens_not_chunks():
    # Two chunks carrying 20 tokens in all: TPOT divides by 19 tokens, ITL has one 100 ms gap.
    c = completion([100, 200], out=20)
    m = request_metrics(c)
    assert m.tpot_s == pytest.approx(0.1 / 19)
    assert m.itl_s.tolist() == pytest.approx([0.1])


@pytest.mark.parametrize("tokens", [None, 0, 1])
def test_tpot_undefined_below_two_tokens(tokens):
    assert time_per_output_token_s(1.0, 0.5, tokens) is None


def test_tokenizer_fallback_and_dataset_input_counts():
    c = completion([10, 20, 30], out=None, text="one two three")
    m = request_metrics(c, input_tokens=5, count_tokens=lambda t: len(t.split()))
    assert (m.input_tokens, m.input_token_source) == (5, "dataset")
    assert (m.output_tokens, m.output_token_source) == (3, "tokenizer")
    bare = request_metrics(c)
    assert (bare.output_tokens, bare.output_token_source, bare.tpot_s) == (None, "none", None)


def test_failed_request_has_no_tpot_or_itl():
    m = request_metrics(completion([10, 20], out=2, error=True))
    assert not m.ok and m.tpot_s is None and m.itl_s.size == 0


def test_percentiles_match_numpy_and_skip_nan():
    values = np.array([1.0, 2.0, np.nan, 3.0, 4.0])
    got = percentiles(values, (50, 99))
    assert got == {"p50": pytest.approx(2.5), "p99": pytest.approx(np.percentile([1, 2, 3, 4], 99))}
    assert percentiles(np.array([np.nan]), (50,)) == {"p50": None}


def columns(**kw) -> RequestColumns:
    n = len(kw["ok"])
    base = {name: np.full(n, np.nan) for name in ("start_s", "done_s", "send_lag_s", "ttft_s", "latency_s",
                                                   "tpot_s", "input_tokens", "output_tokens")}
    base.update({k: np.asarray(v, dtype=float) for k, v in kw.items()})
    return RequestColumns(error_kinds={}, input_token_sources={}, output_token_sources={}, **base)


def test_goodput_needs_success_and_every_slo():
    cols = columns(ok=[1, 1, 1, 0, 1], ttft_s=[0.1, 0.6, 0.1, 0.1, 0.2], tpot_s=[0.01, 0.01, 0.08, 0.01, np.nan],
                   latency_s=[1, 1, 1, 1, 1])
    mask = goodput_mask(cols, {"ttft_ms": 500, "tpot_ms": 50})
    assert mask.tolist() == [True, False, False, False, True]


def test_duration_runs_from_first_send_to_last_done():
    cols = columns(ok=[1, 1], start_s=[0.5, 1.0], done_s=[2.0, 3.5])
    assert plan_duration_s(cols) == pytest.approx(3.0)


def test_token_source_label():
    assert token_source_label({"server": 3}) == "server"
    assert token_source_label({}) == "none"
    assert token_source_label({"server": 3, "tokenizer": 1}) == "mixed (server 3, tokenizer 1)"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.001, max_value=50, allow_nan=False), min_size=2, max_size=40),
       st.integers(min_value=2, max_value=4000))
def test_tpot_times_tokens_recovers_decode_time(gaps_ms, tokens):
    stamps = list(np.cumsum([5.0] + gaps_ms))
    c = completion(stamps, out=tokens)
    m = request_metrics(c)
    decode_s = (stamps[-1] - stamps[0]) / 1000
    assert m.tpot_s * (tokens - 1) == pytest.approx(decode_s, rel=1e-6, abs=1e-9)
    # ITL samples: one per gap, never counting TTFT, summing to the decode time.
    assert m.itl_s.size == len(stamps) - 1
    assert m.itl_s.sum() == pytest.approx(decode_s, rel=1e-6, abs=1e-8)
    assert m.ttft_s <= m.latency_s


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=0, max_size=50))
def test_itl_gaps_are_nonnegative_for_sorted_stamps(stamps):
    gaps = inter_token_latencies_s(sorted(stamps))
    assert gaps.size == max(0, len(stamps) - 1)
    assert (gaps >= 0).all()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=1e-5, max_value=100, allow_nan=False), min_size=5, max_size=400),
       st.integers(min_value=0, max_value=20))
def test_pooled_histogram_percentiles_within_bin_width_of_exact(values, zeros):
    data = np.array(values + [0.0] * zeros)
    exact = PooledDistribution()
    binned = PooledDistribution(exact_limit=0)
    for part in np.array_split(data, 3):
        exact.add(part)
        binned.add(part)
    assert exact.exact and not binned.exact
    assert binned.mean() == pytest.approx(exact.mean())
    sorted_data = np.sort(data)
    for key, value in binned.percentiles().items():
        p = int(key[1:])
        rank = p / 100 * (data.size - 1)
        low, high = sorted_data[int(np.floor(rank))], sorted_data[int(np.ceil(rank))]
        # Nearest rank, to within the 0.1% bin width.
        assert low * (1 - 2e-3) <= value <= high * (1 + 2e-3) + 1e-7


def test_non_streamed_request_has_latency_but_no_ttft():
    start = 10_000 * MS
    timings = Timings(request_start_ns=start, first_token_ns=start + 300 * MS, done_ns=start + 300 * MS)
    m = request_metrics(Completion(text="x", usage=Usage(completion_tokens=5, source="server"), timings=timings))
    assert m.latency_s == pytest.approx(0.3)
    assert m.ttft_s is None and m.tpot_s is None and m.itl_s.size == 0
