"""BFCL: the AST checker against the official verdicts, the category aggregates, and a run on the simulator."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from assay.eval.scoring.bfcl import grade_calls, standardize

from .conftest import FIXTURES

pytestmark = pytest.mark.timeout(120)
CONFORMANCE = FIXTURES / "bfcl" / "conformance.jsonl"


def _rows() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in CONFORMANCE.read_bytes().splitlines() if line.strip()]


def test_every_verdict_and_error_type_equals_the_official_checkers():
    rows = _rows()
    disagreements, verdicts = [], Counter()
    for row in rows:
        for case in row["cases"]:
            calls = [(name, arguments) for name, arguments in case.get("tool_calls") or []]
            mine = grade_calls(row["category"], row["function"], row["ground_truth"], calls, case.get("text"),
                               dots_to_underscores=case["dots_to_underscores"])
            verdicts[case["valid"]] += 1
            if (mine.valid, "" if mine.valid else mine.error_type) != (case["valid"], case["error_type"]):
                disagreements.append((row["id"], case["variant"], mine, case["valid"], case["error_type"]))
    assert disagreements == []
    assert (len(rows), verdicts[True], verdicts[False]) == (46, 289, 703)
    assert {row["category"] for row in rows} == {
        "simple_python", "multiple", "parallel", "parallel_multiple", "live_simple", "live_multiple",
        "live_parallel", "live_parallel_multiple", "irrelevance", "live_irrelevance", "live_relevance"}


def test_the_set_exercises_each_rule():
    by_variant: dict[str, set[bool]] = {}
    for row in _rows():
        for case in row["cases"]:
            kind = case["variant"].rsplit(":", 1)[-1]
            by_variant.setdefault(kind, set()).add(case["valid"])
    # Accepted somewhere: ints for floats, string case/punctuation, parallel in any order.
    for kind in ("int_for_float", "string_variant_0", "string_variant_1", "order_reversed", "correct_required_only"):
        assert True in by_variant[kind], kind
    # Never accepted: wrong types, missing calls, a wrong name, invalid JSON, bools for ints.
    for kind in ("wrong_type", "missing_call", "extra_call", "wrong_name", "bool_for_int", "float_for_int"):
        assert by_variant[kind] == {False}, kind


def test_string_normalisation():
    assert standardize("April 1, 2024") == standardize("april 1 2024") == "april12024"
    assert standardize("New-York_City./*^") == "newyorkcity"
    assert standardize("it's") == 'it"s'
