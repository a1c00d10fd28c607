"""The load generator watches itself: event-loop lag and process CPU, sampled during a run.

When the client's own loop runs late or its CPU is saturated, the latencies it reports include time spent
waiting inside the client, not the server; the report says so plainly.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

# Beyond these the measurements include the client's own delay.
LOOP_LAG_WARN_S = 0.010
CPU_WARN_FRACTION = 0.90
SEND_LAG_WARN_S = 0.010


class HealthMonitor:
    """Samples how late the event loop wakes up and what fraction of one CPU the process uses.

    Run ``start()`` inside the loop and ``await stop()`` at the end; each sample goes to ``sink(t_s,
    loop_lag_s, cpu_fraction)``.
    """

    def __init__(self, sink: Callable[[float, float, float], None], *, interval_s: float = 0.1,
                 origin_ns: int | None = None) -> None:
        self.interval_s = interval_s
        self._sink = sink
        self._origin_ns = origin_ns if origin_ns is not None else time.perf_counter_ns()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        while True:
            due = time.perf_counter() + self.interval_s
            await asyncio.sleep(self.interval_s)
            now, now_cpu = time.perf_counter(), time.process_time()
            lag = max(0.0, now - due)
            cpu_fraction = (now_cpu - cpu) / (now - wall) if now > wall else 0.0
            wall, cpu = now, now_cpu
            self._sink((time.perf_counter_ns() - self._origin_ns) / 1e9, lag, cpu_fraction)


@dataclass
class HealthVerdict:
    """What the samples say about the load generator, and the plain warnings for the report."""

    loop_lag_p99_ms: float | None
    loop_lag_max_ms: float | None
    cpu_mean_fraction: float | None
    cpu_max_fraction: float | None
    send_lag_p99_ms: float | None
    client_bound: bool
    warnings: list[str]
    send_lag_p50_ms: float | None = None
    send_lag_max_ms: float | None = None


def judge_health(samples: np.ndarray, send_lag_s: np.ndarray, *, open_loop: bool) -> HealthVerdict:
    """Turn monitor samples (rows of t_s, loop_lag_s, cpu_fraction) and send lags into a verdict."""
    warnings: list[str] = []
    lag_p99 = lag_max = cpu_mean = cpu_max = send_p99 = send_p50 = send_max = None
    if samples.size:
        lags, cpu = samples[:, 1], samples[:, 2]
        lag_p99, lag_max = float(np.percentile(lags, 99)) * 1000, float(lags.max()) * 1000
        cpu_mean, cpu_max = float(cpu.mean()), float(cpu.max())
        if lag_p99 > LOOP_LAG_WARN_S * 1000:
            warnings.append(
                f"the load generator's event loop ran up to {lag_p99:.0f} ms late (p99): latencies include "
                "time spent waiting inside the client, not the server; use --num-workers or a lower load")
        if cpu_mean > CPU_WARN_FRACTION:
            warnings.append(
                f"the load generator used {cpu_mean:.0%} of a CPU core on average: it was the bottleneck, so "
                "throughput and latency measure the client; use --num-workers or a lower load")
    if open_loop:
        finite = send_lag_s[np.isfinite(send_lag_s)] if send_lag_s.size else send_lag_s
        if finite.size:
            send_p50, send_p99 = (float(v) * 1000 for v in np.percentile(finite, [50, 99]))
            send_max = float(finite.max()) * 1000
            if send_p99 > SEND_LAG_WARN_S * 1000:
                warnings.append(
                    f"requests went out up to {send_p99:.0f} ms after their scheduled time (p99): the offered "
                    "rate was lower than asked (client too slow or the concurrency cap reached)")
    client_bound = any("bottleneck" in w or "event loop" in w for w in warnings)
    return HealthVerdict(lag_p99, lag_max, cpu_mean, cpu_max, send_p99, client_bound, warnings, send_p50, send_max)
