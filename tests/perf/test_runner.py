"""The plan runner's process settings: the garbage collector is tuned for a plan and restored after it."""

from __future__ import annotations

import gc

import pytest

from assay.utils.gctune import GC_YOUNG_THRESHOLD, collector_tuned_for_load


def test_collector_tuned_during_a_plan_and_restored_after():
    before = gc.get_threshold()
    with collector_tuned_for_load():
        assert gc.get_threshold() == (max(GC_YOUNG_THRESHOLD, before[0]), *before[1:])
        assert gc.get_freeze_count() > 0  # what existed before the plan is left out of collections
        cycle: list = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # cycles made during the plan are still collected
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_collector_restored_when_a_plan_fails():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector_tuned_for_load():
        raise RuntimeError("stopped")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_objects_the_caller_froze_stay_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_tuned_for_load():
            pass
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
