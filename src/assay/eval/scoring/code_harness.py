"""Runs model-written code against a problem's tests inside the sandbox (standard library only, run as a script).

Two processes: this one, the *judge*, and the *candidate*, a child forked before the job is even read, which
runs the model's code and nothing else. The judge sends it requests over a pipe (call the function with these
arguments; run the program on this stdin) and gets back plain data: return values encoded by their builtin
base type (``pack``), or the program's stdout. The judge alone holds the expected outputs, compares them, runs
the dataset's own ``check`` (HumanEval) and writes the verdict: its exit status (0: passed, whatever its
stdout says) and a JSON line on its stdout after ``RESULT_MARK`` with the details.

What the candidate cannot do, then: exit early, raise ``SystemExit`` or patch ``sys.exit`` / builtins / the
checker (they are another process's), return an object whose ``__eq__`` always agrees (only its base value
crosses the pipe), print a verdict (its stdout is the sandbox's stderr), time its own tests (the judge's clock
kills it), or reach the judge's memory (the judge is not dumpable: no ptrace, no ``/proc/<pid>/mem`` or
``/fd``). What it can still do: answer correctly by any means, including hard-coded outputs, and, where the
sandbox has no file allow-list, read the job file the judge was given (expected outputs included).

Jobs arrive as JSON on stdin:

- ``"kind": "tests"`` (LiveCodeBench): ``code``, ``mode`` ("stdio": the program reads stdin and writes
  stdout; "functional": LeetCode style, ``Solution().<func_name>(*args)`` with one JSON argument per input
  line), ``func_name``, ``tests`` ([{"input", "output"}]) and ``test_timeout_s``. Tests run in order and stop
  at the first failure, as LiveCodeBench does; no tests is a failure.
- ``"kind": "check"`` (HumanEval): ``program`` (what the candidate runs), ``prompt``, ``test`` and
  ``entry_point``: the judge runs the dataset's prompt and test, and ``check`` with the entry point bound to a
  stub that calls the candidate.

The comparison and encoding functions are importable for tests.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: every sample pays for the harness's start-up
    from typing import Any

RESULT_MARK = "@@assay-harness-result@@"
_REPLY_LIMIT_BYTES = 256 * 1024 * 1024

# What a LeetCode or contest solution may use without importing it (LeetCode's environment pre-imports these).
PRELUDE = (
    "from typing import *\nfrom collections import *\nfrom itertools import *\nfrom functools import *\n"
    "from heapq import *\nfrom bisect import *\nfrom math import *\nimport math, string, re, sys, heapq, bisect, "
    "collections, itertools, functools, random, copy, operator\n"
)


# ---- comparisons (in the judge) ------------------------------------------------------------------------

def _tokens_equal(got: str, expected: str) -> bool:
    if got == expected:
        return True
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(got) == Decimal(expected)
    except (InvalidOperation, ValueError):
        return False


def stdout_matches(got: str, expected: str) -> bool:
    """Lines compared after stripping (trailing blank lines ignored); a line that differs still matches when
    its whitespace-separated tokens do, numbers compared by value ("1.0" is "1")."""
    got_lines, expected_lines = got.strip().splitlines(), expected.strip().splitlines()
    if len(got_lines) != len(expected_lines):
        return False
    for got_line, expected_line in zip(got_lines, expected_lines):
        got_line, expected_line = got_line.strip(), expected_line.strip()
        if got_line == expected_line:
            continue
        got_tokens, expected_tokens = got_line.split(), expected_line.split()
        if len(got_tokens) != len(expected_tokens) or not all(map(_tokens_equal, got_tokens, expected_tokens)):
            return False
    return True


def value_matches(got: Any, expected: Any) -> bool:
    """A functional test's return value against the expected JSON value (tuples are lists, as JSON has it)."""
    try:
        got = json.loads(json.dumps(got))
    except (TypeError, ValueError):
        return False
    return got == expected


# ---- values across the pipe ----------------------------------------------------------------------------

def pack(value: Any) -> Any:
    """``value`` as JSON data, read through its builtin base type: a subclass's overridden ``__eq__``,
    ``__iter__`` or ``__str__`` is never consulted, so what crosses is the value itself. Lists stay lists;
    tuples, sets, dicts, bytes and complex numbers are tagged objects. Anything else is a TypeError."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list):
        return [pack(item) for item in list.__iter__(value)]
    if isinstance(value, tuple):
        return {"tuple": [pack(item) for item in tuple.__iter__(value)]}
    if isinstance(value, dict):
        return {"dict": [[pack(key), pack(item)] for key, item in dict.items(value)]}
    if isinstance(value, (set, frozenset)):
        kind = "frozenset" if isinstance(value, frozenset) else "set"
        return {kind: [pack(item) for item in (frozenset if kind == "frozenset" else set).__iter__(value)]}
    if isinstance(value, bytes):
        return {"bytes": bytes.decode(value, "latin-1")}
    if isinstance(value, complex):
        return {"complex": [complex.real.__get__(value), complex.imag.__get__(value)]}
    raise TypeError(f"a {type(value).__name__} is not a plain value (None, bool, int, float, str, bytes, "
                    "complex, list, tuple, dict, set)")


_UNPACK = {"tuple": tuple, "set": set, "frozenset": frozenset}


def unpack(data: Any) -> Any:
    """The value ``pack`` encoded, built from builtin types only (ValueError on anything else)."""
    if isinstance(data, list):
        return [unpack(item) for item in data]
    if isinstance(data, dict):
        if len(data) != 1:
            raise ValueError("a packed object has exactly one tag")
        (tag, items), = data.items()
        if tag in _UNPACK and isinstance(items, list):
            return _UNPACK[tag](unpack(item) for item in items)
        if tag == "dict" and isinstance(items, list) and all(isinstance(i, list) and len(i) == 2 for i in items):
            return {unpack(key): unpack(item) for key, item in items}
        if tag == "bytes" and isinstance(items, str):
            return items.encode("latin-1")
        if tag == "complex" and isinstance(items, list) and len(items) == 2:
            return complex(*(float(part) for part in items))
        raise ValueError(f"unknown packed tag {tag!r}")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    raise ValueError(f"not packed data: {type(data).__name__}")


def _dumps(message: dict[str, Any]) -> bytes:
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
    if limit is not None:
        sys.set_int_max_str_digits(0)  # big integers cross whole, as they compare in-process
    try:
        return (json.dumps(message) + "\n").encode("utf-8")
    finally:
        if limit is not None:
            sys.set_int_max_str_digits(limit)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ---- the candidate (the forked child that runs the model's code) ---------------------------------------

def _set_dumpable(dumpable: bool) -> None:
    """PR_SET_DUMPABLE: a process that is not dumpable cannot be ptraced or have its /proc/<pid>/mem, fd or
    environ opened by processes of its own uid."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, int(dumpable), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _close_other_fds(keep: set[int]) -> None:
    start = 3
    for fd in sorted(keep):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1
    os.closerange(start, 4096)


def _run_stdio(code: Any, test_input: str) -> str:
    data = test_input.encode()
    read_fd, write_fd = os.pipe()
    if len(data) < 60000:  # small inputs also go to fd 0 itself, for open(0).read()
        os.write(write_fd, data)
    os.close(write_fd)
    if read_fd != 0:  # fd 0 may have been closed by the last test's open(0), and reused by the pipe
        os.dup2(read_fd, 0)
        os.close(read_fd)
    sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    try:
        exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit:
        pass
    sys.stdout.flush()
    return sys.stdout.buffer.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]


class _Loaded:
    """The candidate's code: compiled, and for calls its target function."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.code = compile(request["source"], "solution.py", "exec")
        self.target: Any = None
        if request["mode"] != "stdio":
            namespace: dict[str, Any] = {"__name__": request["module_name"]}
            exec(self.code, namespace)
            name = request["name"]
            if request["mode"] == "functional" and "Solution" in namespace:  # LeetCode style
                self.target = getattr(namespace["Solution"](), name)
            else:
                self.target = namespace[name]

    def answer(self, request: dict[str, Any]) -> Any:
        if request["op"] == "stdio":
            return _run_stdio(self.code, request["input"])
        if request["op"] == "call_lines":  # LiveCodeBench: one JSON argument per input line
            args = [json.loads(line) for line in request["input"].split("\n") if line.strip()]
            return pack(self.target(*args))
        return pack(self.target(*unpack(request["args"]), **unpack(request["kwargs"])))


def _serve(requests_fd: int, replies_fd: int) -> None:
    """The candidate's loop: one reply (``{"ok": ...}`` or ``{"error": ...}``) per request, in order."""
    requests = os.fdopen(requests_fd, "rb")
    real_stdout, loaded = sys.stdout, None
    for line in requests:
        request = json.loads(line)
        try:
            sys.stdout = io.StringIO()  # what a function prints is not its answer
            if request["op"] == "load":
                loaded = _Loaded(request)
                reply: dict[str, Any] = {"ok": None}
            else:
                reply = {"ok": loaded.answer(request)}  # type: ignore[union-attr]
        except BaseException as exc:  # noqa: BLE001 - SystemExit and the rest: a failed request, not a verdict
            reply = {"error": f"{exc!r}"[:500]}
        finally:
            sys.stdout, sys.stdin = real_stdout, sys.__stdin__
        _write_all(replies_fd, _dumps(reply))


def _become_candidate(requests_fd: int, replies_fd: int) -> None:
    try:
        _set_dumpable(True)  # its own processes stay visible to the sandbox's clean-up
        os.dup2(2, 1)  # nothing it prints reaches the judge's stdout
        os.close(0)
        _close_other_fds({requests_fd, replies_fd})
        _serve(requests_fd, replies_fd)
    finally:
        os._exit(0)


class CandidateError(Exception):
    """The candidate failed a request: it raised, returned something that is not a plain value, or died."""


class _TimeLimit(Exception):
    pass


class Candidate:
    """The judge's handle on the candidate process: ``ask`` sends a request and waits for its reply."""

    def __init__(self) -> None:
        to_child, self._requests = os.pipe()
        self._replies, from_child = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._requests)
            os.close(self._replies)
            _become_candidate(to_child, from_child)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""

    def ask(self, request: dict[str, Any], timeout_s: float | None = None) -> Any:
        """The reply's value; CandidateError if it failed, _TimeLimit past ``timeout_s``."""
        _write_all(self._requests, _dumps(request))
        line = self._read_line(timeout_s)
        try:
            reply = json.loads(line)
            if isinstance(reply, dict) and "ok" in reply:
                return reply["ok"]
            error = reply.get("error") if isinstance(reply, dict) else None
        except (ValueError, UnicodeDecodeError):
            error = None
        raise CandidateError(str(error) if error is not None else "unreadable reply")

    def _read_line(self, timeout_s: float | None) -> bytes:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise _TimeLimit()
            if not select.select([self._replies], [], [], remaining)[0]:
                raise _TimeLimit()
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise CandidateError("its process ended")
            self._buffer += chunk
            if len(self._buffer) > _REPLY_LIMIT_BYTES:
                raise CandidateError("reply too large")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


# ---- the judge -----------------------------------------------------------------------------------------

def _verdict(passed: bool, tests_passed: int, tests: int, failure: str | None = None) -> dict[str, Any]:
    return {"passed": passed, "tests_passed": tests_passed, "tests": tests,
            "failure": None if passed else (failure or "failed")[:500]}


def run_tests(job: dict[str, Any], candidate: Candidate) -> dict[str, Any]:
    """LiveCodeBench: every test of ``job`` in order, to the first failure, compared here."""
    tests, timeout = job["tests"], float(job.get("test_timeout_s", 6.0))
    if not tests:
        return _verdict(False, 0, 0, "no test cases")
    functional = job["mode"] == "functional"
    try:
        compile(PRELUDE + job["code"], "solution.py", "exec")  # a syntax error, told apart from a crash
    except (SyntaxError, ValueError) as exc:
        return _verdict(False, 0, len(tests), f"compile error: {exc}")
    load = {"op": "load", "source": PRELUDE + job["code"], "module_name": "solution", "name": job.get("func_name"),
            "mode": job["mode"]}
    try:
        candidate.ask(load, timeout)
    except CandidateError as exc:
        return _verdict(False, 0, len(tests), f"load: {exc}")
    except _TimeLimit:
        return _verdict(False, 0, len(tests), "load: time limit exceeded")
    for index, test in enumerate(tests):
        try:
            got = candidate.ask({"op": "call_lines" if functional else "stdio", "input": test["input"]}, timeout)
            if functional:
                ok = value_matches(unpack(got), json.loads(test["output"]))
            else:
                ok = isinstance(got, str) and stdout_matches(got, test["output"])
            failure = None if ok else "wrong answer"
        except _TimeLimit:
            failure = "time limit exceeded"
        except (CandidateError, ValueError, TypeError, RecursionError) as exc:
            failure = f"runtime error: {exc}"
        if failure is not None:
            return _verdict(False, index, len(tests), f"test {index}: {failure}")
    return _verdict(True, len(tests), len(tests))


def run_check(job: dict[str, Any], candidate: Candidate) -> dict[str, Any]:
    """HumanEval: the dataset's ``check(candidate)`` run here, each call of the candidate answered by it."""
    entry_point = job["entry_point"]
    try:
        candidate.ask({"op": "load", "source": job["program"], "module_name": "__main__", "name": entry_point,
                       "mode": "function"})
    except CandidateError as exc:
        return _verdict(False, 0, 1, f"load: {exc}")

    def call_candidate(*args: Any, **kwargs: Any) -> Any:
        return unpack(candidate.ask({"op": "call", "args": pack(list(args)), "kwargs": pack(kwargs)}))

    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        exec(compile(job["prompt"], "prompt.py", "exec"), namespace)  # the dataset's imports and helpers
        namespace[entry_point] = call_candidate
        exec(compile(job["test"], "test.py", "exec"), namespace)
        namespace["check"](call_candidate)
    except Exception as exc:  # noqa: BLE001 - an assert, or the candidate failing a call
        return _verdict(False, 0, 1, f"{exc!r}")
    return _verdict(True, 1, 1)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a signal from the candidate ends the judge, never skips a check
    _set_dumpable(False)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    out = sys.stdout
    try:
        candidate = Candidate()  # forked before the job is read: the candidate never holds an expected output
    except OSError as exc:
        verdict = _verdict(False, 0, 0, f"harness: cannot start the candidate's process ({exc})")
    else:
        try:
            job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
            verdict = (run_check if job.get("kind") == "check" else run_tests)(job, candidate)
        except BaseException as exc:  # noqa: BLE001 - the judge's own failure is a failed run
            verdict = _verdict(False, 0, 0, f"harness: {exc!r}")
        candidate.close()
    out.write("\n" + RESULT_MARK + json.dumps(verdict) + "\n")
    out.flush()
    os._exit(0 if verdict["passed"] is True else 1)


def parse_verdict(stdout: bytes) -> dict[str, Any] | None:
    """The harness's verdict from its stdout, or None (it crashed, was killed, never finished, or wrote
    something that is not a verdict: a list, an object without a boolean ``passed``)."""
    text = stdout.decode("utf-8", "replace")
    position = text.rfind(RESULT_MARK)
    if position == -1:
        return None
    try:
        verdict = json.loads(text[position + len(RESULT_MARK):].splitlines()[0])
    except (ValueError, IndexError):
        return None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("passed"), bool):
        return None
    return verdict


if __name__ == "__main__":
    main()
