"""The simulator's own ``/metrics``: what it measured of its requests, in vLLM's Prometheus names.

So ``assay perf --server-metrics`` runs offline against the simulator, the simulator keeps the counters,
gauges and histograms a vLLM server exposes (Prometheus text format 0.0.4): requests running and waiting,
prompt and generation tokens, finished requests by reason, and histograms of time to first token, time per
output token and end-to-end latency. Times run from the arrival of a request's last byte to the write of its
first token step and of its last, as the simulator's own clock sees them. ``vllm:kv_cache_usage_perc`` is the
share of the engine's batch slots in use (the simulator has no KV cache; 0 without a batch limit).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

# vLLM's bucket edges (seconds) for these histograms.
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
                40.0, 80.0, 160.0, 640.0, 2560.0)
TPOT_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
                80.0)
E2E_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
               480.0, 960.0, 1920.0, 7680.0)


@dataclass
class Histogram:
    """A cumulative Prometheus histogram."""

    edges: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.edges) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.edges, value)] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: str) -> list[str]:
        out = [f"# TYPE {name} histogram"]
        running = 0
        for edge, count in zip((*self.edges, float("inf")), self.counts):
            running += count
            le = "+Inf" if edge == float("inf") else repr(float(edge))
            out.append(f'{name}_bucket{{{labels},le="{le}"}} {running}')
        out += [f"{name}_sum{{{labels}}} {self.total!r}", f"{name}_count{{{labels}}} {self.count}"]
        return out


@dataclass
class Observation:
    """One request as the simulator times it (``time.monotonic()`` seconds)."""

    arrival: float
    prompt_tokens: int
    first_token: float | None = None


class SimMetrics:
    """The counters behind ``/metrics``."""

    def __init__(self, model: str) -> None:
        self.labels = f'model_name="{model}"'
        self.ttft = Histogram(TTFT_BUCKETS)
        self.tpot = Histogram(TPOT_BUCKETS)
        self.e2e = Histogram(E2E_BUCKETS)
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.finished: dict[str, int] = {}

    def begin(self, arrival: float, prompt_tokens: int) -> Observation:
        return Observation(arrival, prompt_tokens)

    def finish(self, obs: Observation, done: float, completion_tokens: int, finish_reason: str | None) -> None:
        """A request that was answered (a dropped or failed one counts in no histogram, as in vLLM)."""
        first = obs.first_token if obs.first_token is not None else done
        self.ttft.observe(max(0.0, first - obs.arrival))
        self.e2e.observe(max(0.0, done - obs.arrival))
        if completion_tokens > 1:
            self.tpot.observe(max(0.0, done - first) / (completion_tokens - 1))
        self.prompt_tokens += obs.prompt_tokens
        self.generation_tokens += completion_tokens
        reason = finish_reason or "stop"
        self.finished[reason] = self.finished.get(reason, 0) + 1

    def render(self, running: int, waiting: int, slots: int | None) -> str:
        labels = self.labels
        usage = running / slots if slots else 0.0
        lines = [
            "# TYPE vllm:num_requests_running gauge", f"vllm:num_requests_running{{{labels}}} {running}",
            "# TYPE vllm:num_requests_waiting gauge", f"vllm:num_requests_waiting{{{labels}}} {waiting}",
            "# TYPE vllm:kv_cache_usage_perc gauge", f"vllm:kv_cache_usage_perc{{{labels}}} {usage!r}",
            "# TYPE vllm:prompt_tokens_total counter", f"vllm:prompt_tokens_total{{{labels}}} {self.prompt_tokens}",
            "# TYPE vllm:generation_tokens_total counter",
            f"vllm:generation_tokens_total{{{labels}}} {self.generation_tokens}",
            "# TYPE vllm:request_success_total counter",
            *(f'vllm:request_success_total{{{labels},finished_reason="{reason}"}} {count}'
              for reason, count in sorted(self.finished.items())),
            *self.ttft.lines("vllm:time_to_first_token_seconds", labels),
            *self.tpot.lines("vllm:time_per_output_token_seconds", labels),
            *self.e2e.lines("vllm:e2e_request_latency_seconds", labels),
        ]
        return "\n".join(lines) + "\n"
