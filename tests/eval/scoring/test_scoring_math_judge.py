"""MathChecker: symbolic checks in a process pool, with timeouts that never hang the caller."""

from __future__ import annotations

import asyncio
import time

import pytest

from assay.eval.scoring.math import math_equal
from assay.eval.scoring.symbolic import MathChecker, symbolic_equal

# Pure Python in sympy: the soft (SIGALRM) limit in the worker interrupts it.
PATHOLOGICAL = "2^{2^{2^{40}}}"


def hang_in_c(pred: str, target: str, timeout_s: float) -> bool | None:
    """Stands in for sympy stuck in C code, which no signal interrupts (runs in a worker)."""
    time.sleep(30)  # bounded, so a broken kill cannot hang the suite for long
    return True


class _StuckChecker(MathChecker):
    _check = staticmethod(hang_in_c)


@pytest.fixture(scope="module")
def judge():
    with MathChecker(timeout_s=1.0, grace_s=1.0, max_workers=2) as shared:
        yield shared


def test_in_process_timeout_returns_none() -> None:
    started = time.monotonic()
    assert math_equal(PATHOLOGICAL, "1", timeout_s=1.0) is None
    assert symbolic_equal(PATHOLOGICAL, "1", timeout_s=1.0) is None
    assert time.monotonic() - started < 5


def test_judge_agrees_with_math_equal(judge: MathChecker) -> None:
    cases = [("(x+1)^2", "x^2+2x+1", True), ("2\\sqrt{2}", "\\sqrt{8}", True), ("\\pi", "3.14", False)]
    for pred, target, expected in cases:
        assert judge.equal(pred, target) is expected


def test_judge_fast_path_skips_the_pool() -> None:
    lazy = MathChecker(timeout_s=1.0)
    assert lazy.equal("025", "25") is True
    assert lazy.equal("(1, 2)", "(1, 3)") is False
    assert lazy._pool is None  # strings and numbers decided: no worker was started
    lazy.close()


def test_judge_pathological_input_times_out(judge: MathChecker) -> None:
    started = time.monotonic()
    assert judge.equal(PATHOLOGICAL, "1") is None
    assert time.monotonic() - started < 20  # soft timeout + grace (2 s), with room for a busy machine
    assert judge.equal("\\frac{1}{\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}") is True  # the pool still works


async def test_judge_async_does_not_block_the_loop(judge: MathChecker) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    results = await asyncio.gather(
        judge.aequal(PATHOLOGICAL, "1"), judge.aequal("x^2 - 1", "(x-1)(x+1)"), judge.aequal("3/4", "0.75")
    )
    elapsed = time.monotonic() - started
    task.cancel()
    assert results == [None, True, True]
    assert elapsed < 20
    # The loop kept running while sympy worked: a blocked loop would tick once or not at all in the >= 1 s the
    # pathological check takes; a busy machine still leaves several ticks.
    assert ticks >= 5


def test_stuck_worker_is_killed_and_the_pool_recovers() -> None:
    with _StuckChecker(timeout_s=0.5, grace_s=0.5, max_workers=1, startup_s=30.0) as stuck:
        started = time.monotonic()
        assert stuck.equal("x+1", "1+x") is None  # startup allowance + soft + grace, then killed
        assert time.monotonic() - started < 15
        assert stuck.restarts == 1
        stuck._check = symbolic_equal  # the next pool runs real checks again
        assert stuck.equal("x+1", "1+x") is True


async def test_stuck_worker_async() -> None:
    with _StuckChecker(timeout_s=0.5, grace_s=0.5, max_workers=1, startup_s=30.0) as stuck:
        assert await stuck.aequal("x+1", "1+x") is None
        assert stuck.restarts == 1


def test_math_equal_off_the_main_thread() -> None:
    """SIGALRM only works on the main thread: elsewhere the check runs unguarded, without error."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as threads:
        assert threads.submit(math_equal, "(x+1)^2", "x^2+2x+1").result(timeout=30) is True
