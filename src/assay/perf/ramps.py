"""Ramps: a plan's load rising from a start to its target over a duration, linear or exponential.

Servers warmed by a sudden full load spend their first seconds compiling, growing caches and queueing a
burst; a ramp lets the load arrive the way production traffic builds up. Open loop (``--rate``): the request
rate ``λ(t)`` rises along the ramp and arrivals are an inhomogeneous process drawn by time rescaling (a
unit-rate process's points ``u`` are mapped through the inverse of the cumulative rate ``Λ(t) = ∫ λ``), so
the count of arrivals up to ``t`` follows ``Λ(t)``. Closed loop (``--parallel``): the concurrency rises
by releasing one more lane each time the ramp's concurrency ``c(t)`` passes a whole number.

    linear:       λ(t) = s + (r - s) t / D            Λ(t) = s t + (r - s) t² / (2D)
    exponential:  λ(t) = s (r / s)^(t / D)            Λ(t) = s (e^(kt) - 1) / k,  k = ln(r / s) / D

for ``t < D``; after the ramp ``λ = r`` (``s``: start, ``r``: target, ``D``: duration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

RampShape = Literal["linear", "exponential"]
# With no --ramp-start: a rate ramp starts at this share of the target, a concurrency ramp at one request.
DEFAULT_RATE_START_FRACTION = 0.1


@dataclass(frozen=True)
class Ramp:
    """How a plan's load rises: ``shape`` over ``duration_s`` from ``start`` (requests per second for an open
    loop, requests in flight for a closed loop) to the plan's own target."""

    shape: RampShape
    duration_s: float
    start: float

    def scaled(self, fraction: float) -> Ramp:
        """This ramp for a worker that takes ``fraction`` of the plan's load (``LoadPlan.split``)."""
        return Ramp(self.shape, self.duration_s, self.start * fraction)

    def value_at(self, t_s: float, target: float) -> float:
        """The rate (or concurrency) the ramp asks for at ``t_s`` seconds from the plan's start."""
        if t_s >= self.duration_s:
            return target
        x = max(t_s, 0.0) / self.duration_s
        if self.shape == "linear" or self.start <= 0 or self.start == target:
            return self.start + (target - self.start) * x
        return self.start * (target / self.start) ** x

    def cumulative(self, t_s: np.ndarray | float, target: float) -> np.ndarray:
        """``Λ(t)``: the expected number of arrivals by ``t_s`` at a rate ramping to ``target``."""
        t = np.asarray(t_s, dtype=np.float64)
        d, s, r = self.duration_s, self.start, target
        inside = np.minimum(np.maximum(t, 0.0), d)
        k = self._growth(r)
        if k is None:
            ramp = s * inside + (r - s) * inside ** 2 / (2 * d)
        else:
            ramp = s * np.expm1(k * inside) / k
        return ramp + r * np.maximum(t - d, 0.0)

    def inverse_cumulative(self, u: np.ndarray, target: float) -> np.ndarray:
        """The times at which ``Λ`` reaches ``u`` (``u``: the points of a unit-rate process)."""
        u = np.asarray(u, dtype=np.float64)
        d, s, r = self.duration_s, self.start, target
        at_end = float(self.cumulative(d, r))
        inside = np.minimum(u, at_end)
        k = self._growth(r)
        if k is None:
            a = (r - s) / (2 * d)
            # The root of a t² + s t = u written so that s = 0 (a ramp from nothing) and a = 0 (flat) both work.
            root = s + np.sqrt(s * s + 4 * a * inside)
            t = np.divide(2 * inside, root, out=np.zeros_like(inside), where=root > 0)
        else:
            t = np.log1p(inside * k / s) / k
        return np.where(u <= at_end, t, d + (u - at_end) / r)

    def lane_offsets_s(self, target: int) -> np.ndarray:
        """When each of ``target`` closed-loop lanes starts: lane ``j`` once ``c(t)`` reaches ``j + 1`` (the
        first ``floor(start)`` lanes, at least one, start at once)."""
        first = max(1, min(target, int(math.floor(self.start))))
        offsets = np.zeros(target)
        s, r, d = max(self.start, 1.0), float(target), self.duration_s
        for j in range(first, target):
            level = j + 1.0
            if self.shape == "linear" or r == s:
                offsets[j] = d * (level - s) / (r - s)
            else:
                offsets[j] = d * math.log(level / s) / math.log(r / s)
        return np.clip(offsets, 0.0, d)

    def _growth(self, target: float) -> float | None:
        """``k`` of an exponential ramp; ``None`` where the ramp is linear (or flat)."""
        if self.shape == "linear" or self.start <= 0 or self.start == target:
            return None
        return math.log(target / self.start) / self.duration_s


def parse_seconds(value: object) -> object:
    """``30``, ``"30s"``, ``"500ms"``, ``"2m"`` or ``"1h"`` → seconds; anything else goes on to validation."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(suffix):
            number = text[: -len(suffix)].strip()
            try:
                return float(number) * factor
            except ValueError:
                break
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a duration (e.g. 30, 30s, 500ms, 2m)") from None
