"""Runs a candidate program against test cases, inside the sandbox (standard library only, run as a script).

A job arrives as JSON on stdin: ``code``, ``mode`` ("stdio": the program reads stdin and writes stdout;
"functional": LeetCode style, ``Solution().<func_name>(*args)`` with one JSON argument per input line),
``func_name``, ``tests`` ([{"input", "output"}]) and ``test_timeout_s``. Tests run in order and stop at the
first failure, as LiveCodeBench does; the verdict is the last stdout line, after ``RESULT_MARK``.

The candidate runs in this same process, so it could forge a verdict on purpose; the sandbox contains what it
can do to the host, not whether it lies about passing. The comparison functions are importable for tests.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

RESULT_MARK = "@@assay-harness-result@@"

# What a LeetCode or contest solution may use without importing it (LeetCode's environment pre-imports these).
PRELUDE = (
    "from typing import *\nfrom collections import *\nfrom itertools import *\nfrom functools import *\n"
    "from heapq import *\nfrom bisect import *\nfrom math import *\nimport math, string, re, sys, heapq, bisect, "
    "collections, itertools, functools, random, copy, operator\n"
)


class _TestTimeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TestTimeout()


def _tokens_equal(got: str, expected: str) -> bool:
    if got == expected:
        return True
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


def _functional_target(namespace: dict[str, Any], func_name: str) -> Any:
    if "Solution" in namespace:
        return getattr(namespace["Solution"](), func_name)
    return namespace[func_name]


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run every test of ``job``; the verdict: passed, how many tests passed, and the first failure."""
    tests, timeout = job["tests"], float(job.get("test_timeout_s", 6.0))
    signal.signal(signal.SIGALRM, _on_alarm)
    real_stdout = sys.stdout
    try:
        code = compile(PRELUDE + job["code"], "solution.py", "exec")
    except (SyntaxError, ValueError) as exc:
        return {"passed": False, "tests_passed": 0, "tests": len(tests), "failure": f"compile error: {exc}"}
    namespace: dict[str, Any] = {"__name__": "solution"}
    if job["mode"] == "functional":
        try:
            sys.stdout = io.StringIO()
            exec(code, namespace)
            target = _functional_target(namespace, job["func_name"])
        except BaseException as exc:  # noqa: BLE001 - any failure of the candidate is a failed test
            return {"passed": False, "tests_passed": 0, "tests": len(tests), "failure": f"load: {exc!r}"[:500]}
        finally:
            sys.stdout = real_stdout
    for index, test in enumerate(tests):
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            if job["mode"] == "functional":
                sys.stdout = io.StringIO()
                args = [json.loads(line) for line in test["input"].split("\n") if line.strip()]
                ok = value_matches(target(*args), json.loads(test["output"]))
            else:
                ok = stdout_matches(_run_stdio(code, test["input"]), test["output"])
            failure = None if ok else "wrong answer"
        except _TestTimeout:
            failure = "time limit exceeded"
        except BaseException as exc:  # noqa: BLE001
            failure = f"runtime error: {exc!r}"[:500]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stdin = real_stdout, sys.__stdin__
        if failure is not None:
            return {"passed": False, "tests_passed": index, "tests": len(tests), "failure": f"test {index}: {failure}"}
    return {"passed": True, "tests_passed": len(tests), "tests": len(tests), "failure": None}


def main() -> None:
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the verdict's own handle, whatever the candidate does
    verdict = run_job(job)
    out.write("\n" + RESULT_MARK + json.dumps(verdict) + "\n")
    out.flush()
    os._exit(0)  # skip interpreter teardown: the candidate's atexit hooks and threads have no say


def parse_verdict(stdout: bytes) -> dict[str, Any] | None:
    """The harness's verdict from its stdout, or None (it crashed, was killed, or never finished)."""
    text = stdout.decode("utf-8", "replace")
    position = text.rfind(RESULT_MARK)
    if position == -1:
        return None
    try:
        return json.loads(text[position + len(RESULT_MARK):].splitlines()[0])
    except (ValueError, IndexError):
        return None


if __name__ == "__main__":
    main()
