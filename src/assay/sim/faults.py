"""Faults on demand: which requests fail, and how.

Each request draws at most one fault from the configured rates with the server's seeded generator, or
is forced to one by the ``X-Sim-Fault`` request header (tests use it). Kinds:

- ``error``: HTTP 500 with an OpenAI error object;
- ``429``: HTTP 429 with ``Retry-After``;
- ``disconnect``: the connection is dropped after a few chunks (no ``[DONE]``), or without any response;
- ``malformed``: a stream event that is not JSON mid-stream, or a 200 body that is not JSON;
- ``stall``: the answer stops for ``stall_s`` after its first chunk (or before a non-streamed body);
- ``error_200``: HTTP 200 whose body, or first stream event, is an OpenAI error object.

``X-Sim-Fault: none`` forces a clean answer whatever the rates.
"""

from __future__ import annotations

import random

from assay.sim.config import SimConfig

FAULT_HEADER = "X-Sim-Fault"
FAULT_KINDS = ("error", "429", "disconnect", "malformed", "stall", "error_200")
RETRY_AFTER_S = 1


class UnknownFault(ValueError):
    """An ``X-Sim-Fault`` header naming no fault kind."""


class FaultPicker:
    """Draws the fault of each request (or ``None``) and counts the faults injected by kind."""

    def __init__(self, config: SimConfig, rng: random.Random):
        self._rng = rng
        self._rates = [(kind, rate) for kind, rate in config.fault_rates().items() if rate > 0]
        self.injected = dict.fromkeys(FAULT_KINDS, 0)

    def pick(self, forced: str | None) -> str | None:
        """The fault for one request: the forced kind if the header names one, else a draw from the rates."""
        kind = self._forced(forced) if forced is not None else self._draw()
        if kind is not None:
            self.injected[kind] += 1
        return kind

    def _forced(self, header: str) -> str | None:
        kind = header.strip().lower()
        if kind in ("", "none"):
            return None
        if kind not in self.injected:
            expected = ", ".join(FAULT_KINDS)
            raise UnknownFault(f"{FAULT_HEADER}: unknown fault {header!r}; expected {expected} or none")
        return kind

    def _draw(self) -> str | None:
        if not self._rates:
            return None  # no draw at all: fault-free servers keep their random stream for answer lengths
        point = self._rng.random()
        for kind, rate in self._rates:
            if point < rate:
                return kind
            point -= rate
        return None
