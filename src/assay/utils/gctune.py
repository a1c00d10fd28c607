"""Python's garbage collector set for a stream of short-lived request objects (perf and eval runs)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

# New container objects between two young-generation collections while a run goes (Python's default: 700).
GC_YOUNG_THRESHOLD = 10_000


@contextmanager
def collector_tuned_for_load() -> Iterator[None]:
    """Python's garbage collector set for a load test, as it was again afterwards.

    A streamed answer briefly holds a thousand or more parsed objects. At the default threshold (700 new
    objects) nearly every request set off a collection while they were still alive, so they were promoted
    and walked again by the older generations' collections, which also walked every module and object the
    process had loaded: a fifth or more of the client's CPU at a few hundred requests/s, and pauses of
    milliseconds charged to the streams in flight. What exists before the plan is frozen (left out of every
    collection), and a higher young threshold lets each request's objects be freed by reference counting
    before a collection sees them. Reference cycles are still collected, only less often.
    """
    thresholds = gc.get_threshold()
    caller_froze = gc.get_freeze_count() > 0  # unfreezing would thaw the caller's objects too: leave them be
    gc.freeze()
    gc.set_threshold(max(GC_YOUNG_THRESHOLD, thresholds[0]), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if not caller_froze:
            gc.unfreeze()
