"""Math equivalence's typed verdict, and the import order of the three math scoring modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import assay.eval.scoring as scoring
from assay.eval.scoring.equivalence import Verdict, decide_without_symbolic
from assay.eval.scoring.symbolic import MathChecker

SCORING = Path(scoring.__file__).parent


@pytest.mark.parametrize("pred,target,verdict", [
    ("0.5", "\\frac{1}{2}", Verdict.EQUAL),
    ("(1, 2)", "(1, 3)", Verdict.NOT_EQUAL),
    ("", "5", Verdict.NOT_EQUAL),
    ("5", "", Verdict.UNGRADABLE),
    ("5", "\\text{ }", Verdict.UNGRADABLE),
    ("(x+1)^2", "x^2+2x+1", None),  # only the symbolic stage can tell
    ("(1, x)", "(1, y)", None),
])
def test_cheap_stage_verdicts(pred: str, target: str, verdict: Verdict | None) -> None:
    assert decide_without_symbolic(pred, target) is verdict


def test_a_verdict_reads_as_a_score() -> None:
    assert [v.correct for v in Verdict] == [True, False, None]
    assert Verdict.of(True) is Verdict.EQUAL and Verdict.of(False) is Verdict.NOT_EQUAL


def test_the_judge_grades_what_the_cheap_stage_decides_without_a_pool() -> None:
    judge = MathChecker()
    assert (judge.equal("1/2", "0.5"), judge.equal("2", "3"), judge.equal("2", "")) == (True, False, None)
    assert judge._pool is None  # no worker was started for these


def _scoring_imports(module: str) -> set[str]:
    """The sibling scoring modules a module imports, at any depth in it (a function-level import counts)."""
    tree = ast.parse((SCORING / f"{module}.py").read_text(encoding="utf-8"))
    names = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return {name.rsplit(".", 1)[1] for name in names if name.startswith("assay.eval.scoring.")}


def test_equivalence_is_imported_by_both_sides_and_imports_neither() -> None:
    assert _scoring_imports("equivalence") == set()
    assert _scoring_imports("symbolic") == {"equivalence"}
    assert _scoring_imports("math") == {"equivalence", "symbolic"}
