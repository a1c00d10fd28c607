"""The server's own view of a plan: its Prometheus ``/metrics``, scraped while the load runs.

vLLM, SGLang, TGI and llama.cpp (with ``--metrics``) publish what they see: requests running and waiting,
KV-cache usage, prefix-cache hits, preemptions, and histograms of their own time to first token, time per
output token, end-to-end latency and queue time. ``ServerScraper`` reads the endpoint once before a plan
(the baseline), every ``interval_s`` while it runs (the gauges, as a time series) and once after it; the
counters and histograms are differenced between the first and last reads, so only this plan's requests
count (other traffic on the same server would count too: load-test a server of your own).

The server kind is told from the metric names. ``client_minus_server`` compares the client's mean TTFT and
end-to-end latency with the server's means over the same requests: the difference is the network and the
client's own overhead, measured rather than guessed. Percentiles from a histogram are interpolated within
their bucket, as Prometheus's ``histogram_quantile`` does, so they are only as fine as the server's buckets;
means come from ``_sum / _count`` and are exact.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from pydantic import BaseModel, Field

log = logging.getLogger("assay.perf")

# What each server calls each quantity: (kind, quantity) -> metric names, the first found wins.
NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "vllm": {
        "running": ("vllm:num_requests_running",),
        "waiting": ("vllm:num_requests_waiting",),
        "kv_cache": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        "prefix_hits": ("vllm:prefix_cache_hits_total", "vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits_total"),
        "prefix_queries": ("vllm:prefix_cache_queries_total", "vllm:prefix_cache_queries",
                           "vllm:gpu_prefix_cache_queries_total"),
        "preemptions": ("vllm:num_preemptions_total", "vllm:num_preemptions"),
        "ttft": ("vllm:time_to_first_token_seconds",),
        # Per request first, as the client's TPOT is (vLLM 0.11+; 0.32 has no time_per_output_token_seconds and
        # its inter_token_latency_seconds is observed once per token).
        "tpot": ("vllm:request_time_per_output_token_seconds", "vllm:time_per_output_token_seconds",
                 "vllm:inter_token_latency_seconds"),
        "e2e": ("vllm:e2e_request_latency_seconds",),
        "queue": ("vllm:request_queue_time_seconds",),
    },
    "sglang": {
        "running": ("sglang:num_running_reqs",),
        "waiting": ("sglang:num_queue_reqs",),
        "kv_cache": ("sglang:token_usage",),
        "prefix_hit_rate": ("sglang:cache_hit_rate",),
        "ttft": ("sglang:time_to_first_token_seconds",),
        "tpot": ("sglang:time_per_output_token_seconds", "sglang:inter_token_latency_seconds"),
        "e2e": ("sglang:e2e_request_latency_seconds",),
        "queue": ("sglang:queue_time_seconds",),
    },
    "tgi": {
        "running": ("tgi_batch_current_size",),
        "waiting": ("tgi_queue_size",),
        "tpot": ("tgi_request_mean_time_per_token_duration",),
        "e2e": ("tgi_request_duration",),
        "queue": ("tgi_request_queue_duration",),
    },
    "llamacpp": {
        "running": ("llamacpp:requests_processing",),
        "waiting": ("llamacpp:requests_deferred",),
        "kv_cache": ("llamacpp:kv_cache_usage_ratio",),
    },
}
GAUGES = ("running", "waiting", "kv_cache", "prefix_hit_rate")
HISTOGRAMS = ("ttft", "tpot", "e2e", "queue")

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples of the Prometheus text format by metric name: ``name -> [(labels, value), ...]``."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, labels, raw = match.groups()
        try:
            value = float(raw)
        except ValueError:
            continue
        samples.setdefault(name, []).append((dict(_LABEL.findall(labels or "")), value))
    return samples


def detect_kind(samples: dict[str, Any]) -> str | None:
    """The server kind whose metric names appear, or ``None``."""
    for kind, quantities in NAMES.items():
        if any(name in samples for names in quantities.values() for name in names):
            return kind
    return None


@dataclass
class Snapshot:
    """One read of ``/metrics``: the summed value of each gauge and counter, and each histogram's buckets."""

    t_s: float
    values: dict[str, float] = field(default_factory=dict)
    histograms: dict[str, tuple[list[tuple[float, float]], float, float]] = field(default_factory=dict)

    @classmethod
    def read(cls, samples: dict[str, list[tuple[dict[str, str], float]]], kind: str, t_s: float) -> Snapshot:
        snapshot = cls(t_s)
        for quantity, names in NAMES[kind].items():
            name = next((n for n in names if n in samples or f"{n}_count" in samples), None)
            if name is None:
                continue
            if quantity in HISTOGRAMS:
                buckets: dict[float, float] = {}
                for labels, value in samples.get(f"{name}_bucket", []):
                    edge = math.inf if labels.get("le") in ("+Inf", "Inf") else float(labels.get("le", "nan"))
                    buckets[edge] = buckets.get(edge, 0.0) + value
                total = sum(v for _, v in samples.get(f"{name}_sum", []))
                count = sum(v for _, v in samples.get(f"{name}_count", []))
                snapshot.histograms[quantity] = (sorted(buckets.items()), total, count)
            else:
                snapshot.values[quantity] = sum(value for _, value in samples[name])
        return snapshot


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The ``q`` quantile of cumulative ``(upper edge, count)`` buckets, interpolated linearly in its bucket."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower_edge, lower_count = 0.0, 0.0
    for edge, count in buckets:
        if count >= rank:
            if math.isinf(edge):
                return lower_edge  # in the open top bucket: its lower edge, as Prometheus does
            if count == lower_count:
                return edge
            return lower_edge + (edge - lower_edge) * (rank - lower_count) / (count - lower_count)
        lower_edge, lower_count = edge, count
    return lower_edge


class ServerLatency(BaseModel):
    """One of the server's latency histograms over a plan (seconds)."""

    count: int
    mean_s: float | None
    p50_s: float | None
    p90_s: float | None
    p99_s: float | None


class ServerView(BaseModel):
    """What the server reported about one plan (``summary.json``'s ``server``)."""

    kind: str
    url: str
    scrapes: int
    mean_running: float | None = None
    max_running: float | None = None
    mean_waiting: float | None = None
    max_waiting: float | None = None
    mean_kv_cache_usage: float | None = None
    max_kv_cache_usage: float | None = None
    prefix_cache_hit_rate: float | None = None
    preemptions: float | None = None
    latency: dict[str, ServerLatency] = Field(default_factory=dict)
    client_minus_server_ms: dict[str, float] = Field(
        default_factory=dict, description="Client mean minus server mean, for ttft and e2e (milliseconds).")

    def compare(self, client_ttft_s: float | None, client_e2e_s: float | None) -> None:
        """Fill ``client_minus_server_ms`` from the client's means over the same plan."""
        for key, client in (("ttft", client_ttft_s), ("e2e", client_e2e_s)):
            server = self.latency.get(key)
            if client is not None and server is not None and server.mean_s is not None:
                self.client_minus_server_ms[key] = (client - server.mean_s) * 1000


def _delta_histogram(first: tuple[list[tuple[float, float]], float, float] | None,
                     last: tuple[list[tuple[float, float]], float, float]) -> ServerLatency:
    before = dict(first[0]) if first else {}
    buckets = [(edge, count - before.get(edge, 0.0)) for edge, count in last[0]]
    total = last[1] - (first[1] if first else 0.0)
    count = last[2] - (first[2] if first else 0.0)
    return ServerLatency(
        count=int(round(count)), mean_s=total / count if count > 0 else None,
        p50_s=histogram_quantile(0.5, buckets), p90_s=histogram_quantile(0.9, buckets),
        p99_s=histogram_quantile(0.99, buckets))


def build_view(kind: str, url: str, snapshots: list[Snapshot]) -> ServerView:
    """The plan's view from its reads: gauges over the reads, counters and histograms first-to-last."""
    first, last = snapshots[0], snapshots[-1]
    view = ServerView(kind=kind, url=url, scrapes=len(snapshots))
    for quantity, mean_field, max_field in (("running", "mean_running", "max_running"),
                                            ("waiting", "mean_waiting", "max_waiting"),
                                            ("kv_cache", "mean_kv_cache_usage", "max_kv_cache_usage")):
        series = [s.values[quantity] for s in snapshots if quantity in s.values]
        if series:
            setattr(view, mean_field, sum(series) / len(series))
            setattr(view, max_field, max(series))
    if "prefix_hits" in last.values and "prefix_queries" in last.values:
        queries = last.values["prefix_queries"] - first.values.get("prefix_queries", 0.0)
        hits = last.values["prefix_hits"] - first.values.get("prefix_hits", 0.0)
        view.prefix_cache_hit_rate = hits / queries if queries > 0 else None
    elif "prefix_hit_rate" in last.values:
        view.prefix_cache_hit_rate = last.values["prefix_hit_rate"]
    if "preemptions" in last.values:
        view.preemptions = last.values["preemptions"] - first.values.get("preemptions", 0.0)
    for quantity, histogram in last.histograms.items():
        view.latency[quantity] = _delta_histogram(first.histograms.get(quantity), histogram)
    return view


def metrics_url(base_url: str) -> str:
    """Where a server behind ``base_url`` (``http://host:port/v1``) publishes ``/metrics``: the server root."""
    parts = urlsplit(base_url)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else (parts.hostname or "")
    netloc = f"{host}:{parts.port}" if parts.port else host  # never the credentials a URL may carry
    return urlunsplit((parts.scheme, netloc, "/metrics", "", ""))


def scraper_for(setting: str, base_url: str, interval_s: float = 1.0) -> ServerScraper | None:
    """The scraper ``--server-metrics`` asks for: ``auto`` (the server root's /metrics), a URL, or ``off``."""
    if setting == "off":
        return None
    if setting == "auto":
        return ServerScraper(metrics_url(base_url), explicit=False, interval_s=interval_s)
    return ServerScraper(setting, explicit=True, interval_s=interval_s)


class ServerScraper:
    """Reads a server's ``/metrics`` before, during and after a plan (see the module docstring)."""

    def __init__(self, url: str, *, explicit: bool, interval_s: float = 1.0, timeout_s: float = 5.0) -> None:
        self.url = url
        self.explicit = explicit
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.kind: str | None = None
        self.snapshots: list[Snapshot] = []
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._origin = 0.0

    async def _read(self) -> dict[str, list[tuple[dict[str, str], float]]] | None:
        assert self._session is not None
        try:
            async with self._session.get(self.url) as resp:
                if resp.status != 200:
                    raise ValueError(f"HTTP {resp.status}")
                return parse_prometheus(await resp.text())
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, UnicodeDecodeError) as exc:
            if self.explicit or self.snapshots:
                log.warning("server metrics: cannot read %s (%s)", self.url, exc)
            return None

    async def _snapshot(self) -> bool:
        samples = await self._read()
        if samples is None:
            return False
        if self.kind is None:
            self.kind = detect_kind(samples)
            if self.kind is None:
                (log.warning if self.explicit else log.info)(
                    "server metrics: %s has no vLLM, SGLang, TGI or llama.cpp metrics; not scraping", self.url)
                return False
        self.snapshots.append(Snapshot.read(samples, self.kind, time.monotonic() - self._origin))
        return True

    async def start(self) -> bool:
        """The baseline read; ``False`` (and nothing more is read) when the server publishes no known metrics."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        self._origin = time.monotonic()
        if not await self._snapshot():
            await self._close()
            return False
        self._task = asyncio.ensure_future(self._poll())
        return True

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self._snapshot()

    async def stop(self) -> ServerView | None:
        """The last read, then the plan's view (``None`` if scraping never started)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._session is None:
            return None
        await self._snapshot()
        await self._close()
        if self.kind is None or not self.snapshots:
            return None
        return build_view(self.kind, self.url, self.snapshots)

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def series(self) -> list[tuple[float, str, float]]:
        """The gauges over time, as ``(t_s, quantity, value)`` rows for the records."""
        return [(s.t_s, quantity, value) for s in self.snapshots for quantity, value in s.values.items()
                if quantity in GAUGES]
