"""Symbolic math equivalence with math-verify, bounded in time, and a process pool that keeps it off
the event loop.

math-verify (Hugging Face, https://github.com/huggingface/Math-Verify) parses LaTeX into sympy and
compares numbers, expressions, equations, intervals, sets and matrices. sympy can run for minutes on
pathological input (``2^{2^{2^{40}}}``), and some of that time is spent in C code that no Python
signal interrupts. Two guards therefore apply:

- a soft timeout: the check runs under a ``SIGALRM`` interval timer in the process that does it
  (math-verify's own ``signal.alarm`` timeouts are switched off so that they cannot cancel ours);
- a hard timeout (:class:`MathChecker` only): a check that overruns the soft limit by ``grace_s`` has
  its pool's worker processes killed, and the pool is recreated for the next check.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from typing import TypeVar

from assay.eval.scoring.equivalence import Verdict, clean_math_answer, decide_without_symbolic

__all__ = ["MathChecker", "symbolic_equal"]

logger = logging.getLogger(__name__)

MAX_SYMBOLIC_CHARS = 1000
_T = TypeVar("_T")


class _SoftTimeout(BaseException):  # BaseException: math-verify swallows Exception
    pass


def _with_alarm(function: Callable[[], _T], timeout_s: float) -> _T:
    """Run ``function`` under a SIGALRM timer when this is the main thread, else unguarded."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return function()

    def on_alarm(signum, frame):  # noqa: ARG001
        raise _SoftTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        return function()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _verify(pred: str, target: str) -> bool | None:
    # Imported here: math-verify pulls in sympy (~0.5 s), which only the symbolic stage needs.
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # "timeout disabled": ours is on
    config = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    gold = parse(f"${target}$", extraction_config=config, parsing_timeout=None)
    if not gold:
        return None  # the target itself cannot be read: not gradable
    answer = parse(f"${pred}$", extraction_config=config, parsing_timeout=None)
    if not answer:
        return False
    return bool(verify(gold, answer, timeout_seconds=None))


def symbolic_equal(pred: str, target: str, *, timeout_s: float = 5.0) -> bool | None:
    """math-verify's verdict on two cleaned answers in this process; None on timeout or error.

    The timeout only holds on the main thread (it uses SIGALRM); see :class:`MathChecker` otherwise.
    """
    if len(target) > MAX_SYMBOLIC_CHARS:
        return None
    if len(pred) > MAX_SYMBOLIC_CHARS:
        return False  # no plausible final answer is this long
    try:
        return _with_alarm(lambda: _verify(pred, target), timeout_s)
    except _SoftTimeout:
        logger.debug("symbolic check timed out after %.1fs: %r vs %r", timeout_s, pred, target)
        return None
    except BaseException as error:  # noqa: BLE001 - sympy raises anything, RecursionError included
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        logger.debug("symbolic check failed: %r vs %r: %r", pred, target, error)
        return None


def _worker_ready() -> bool:
    return True


def _worker_init() -> None:
    # Pay math-verify's import once per worker, not in the first check's time budget.
    import math_verify  # noqa: F401

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


class MathChecker:
    """:func:`~assay.eval.scoring.math.math_equal` with the symbolic stage in worker processes.

    A checker, not a judge: the runner passes it to ``Benchmark.ascore(sample, answer, checker)``; the LLM
    judge is :class:`~assay.eval.scoring.judge.LLMJudge`. (It was called ``MathJudge``; that name still works
    for one release, with a ``DeprecationWarning``.)

    The string and number stages run in the caller (no pool round trip when they decide). At most
    ``max_workers`` checks are in the pool at once, so a check's time limit starts when a worker is
    free for it, never while it queues. Use as a context manager or call :meth:`close`. Safe to share
    between threads and coroutines.

    >>> with MathChecker(timeout_s=5) as checker:          # doctest: +SKIP
    ...     checker.equal("\\frac{1}{2}", "0.5")            # sync
    ...     await checker.aequal("(x+1)^2", "x^2+2x+1")      # async: the event loop never blocks
    """

    # The function a worker runs; a module-level callable so that it pickles (tests swap it).
    _check = staticmethod(symbolic_equal)

    def __init__(
        self,
        *,
        timeout_s: float = 5.0,
        grace_s: float = 2.0,
        max_workers: int = 2,
        rel_tol: float = 1e-4,
        start_method: str = "spawn",
        startup_s: float = 60.0,
    ) -> None:
        self.timeout_s = timeout_s  # soft limit, enforced inside the worker
        self.grace_s = grace_s  # beyond timeout_s + grace_s the worker is killed
        self.startup_s = startup_s  # how long a fresh pool may take to start (imports sympy)
        self.max_workers = max_workers
        self.rel_tol = rel_tol
        # spawn, not fork: forking a process that runs an event loop and client threads can deadlock.
        self._context = multiprocessing.get_context(start_method)
        self._lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(max_workers)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._warmups: list[cf.Future] = []
        self.restarts = 0  # how many times a stuck check forced a new pool (for logs and tests)

    # -- pool management

    def _get_pool(self) -> tuple[cf.ProcessPoolExecutor, list[cf.Future]]:
        with self._lock:
            if self._pool is None:
                self._pool = cf.ProcessPoolExecutor(
                    max_workers=self.max_workers, mp_context=self._context, initializer=_worker_init
                )
                self._warmups = [self._pool.submit(_worker_ready) for _ in range(self.max_workers)]
            return self._pool, self._warmups

    def _recover(self, stuck: cf.ProcessPoolExecutor) -> None:
        """Kill the workers of a pool holding a stuck check; the next check gets a fresh pool."""
        with self._lock:
            if self._pool is not stuck:
                return  # another caller already replaced it
            self._pool = None
            self.restarts += 1
        # ProcessPoolExecutor cannot cancel a running call; killing its processes is the only way.
        for process in list((getattr(stuck, "_processes", None) or {}).values()):
            process.kill()
        stuck.shutdown(wait=False, cancel_futures=True)
        logger.warning("a symbolic math check exceeded its time limit; its worker pool was restarted")

    def close(self) -> None:
        """Stop the worker processes."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> MathChecker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- checks

    def _fast(self, pred: str, target: str) -> Verdict | None:
        """The cheap stages' verdict, or None when the symbolic stage must look."""
        try:
            return decide_without_symbolic(pred, target, rel_tol=self.rel_tol)
        except Exception:  # noqa: BLE001 - grading must never crash a run
            return Verdict.UNGRADABLE

    def _submit(self, pool: cf.ProcessPoolExecutor, pred: str, target: str) -> cf.Future:
        return pool.submit(self._check, clean_math_answer(pred), clean_math_answer(target), timeout_s=self.timeout_s)

    def equal(self, pred: str, target: str) -> bool | None:
        """Blocking check; None when it could not be graded (timeout, parser failure)."""
        verdict = self._fast(pred, target)
        if verdict is not None:
            return verdict.correct
        with self._gate:
            for _attempt in range(2):  # a pool broken by another caller's stuck check is retried once
                pool, warmups = self._get_pool()
                cf.wait(warmups, timeout=self.startup_s)
                try:
                    return self._submit(pool, pred, target).result(timeout=self.timeout_s + self.grace_s)
                except cf.TimeoutError:
                    self._recover(pool)
                    return None
                except cf.process.BrokenProcessPool:
                    self._recover(pool)
                except Exception:  # noqa: BLE001 - e.g. an unpicklable argument
                    return None
        return None

    async def aequal(self, pred: str, target: str) -> bool | None:
        """Like :meth:`equal`, awaiting the worker instead of blocking the event loop."""
        verdict = self._fast(pred, target)
        if verdict is not None:
            return verdict.correct
        delay_s = 0.001
        while not self._gate.acquire(blocking=False):  # shared with sync callers on other threads
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 0.02)
        try:
            for _attempt in range(2):
                pool, warmups = self._get_pool()
                if not all(warmup.done() for warmup in warmups):
                    await asyncio.wait([asyncio.wrap_future(w) for w in warmups], timeout=self.startup_s)
                try:
                    future = asyncio.wrap_future(self._submit(pool, pred, target))
                    return await asyncio.wait_for(future, self.timeout_s + self.grace_s)
                except asyncio.TimeoutError:
                    self._recover(pool)
                    return None
                except cf.process.BrokenProcessPool:
                    self._recover(pool)
                except Exception:  # noqa: BLE001
                    return None
            return None
        finally:
            self._gate.release()


def __getattr__(name: str) -> type[MathChecker]:
    # ``MathJudge``, the old name, for one release: it read as an LLM judge, which this is not.
    if name == "MathJudge":
        import warnings

        warnings.warn("assay.eval.scoring.symbolic.MathJudge is now MathChecker", DeprecationWarning, stacklevel=2)
        return MathChecker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
