"""MMLU-Redux: the annotators' corrections, read from every form the 5,700 annotations take.

Forms of ``correct_answer`` in MMLU-Redux 2.0 (measured on the shared copy), by ``error_type``:

- wrong_groundtruth (106): one index ``0``-``3`` (46) or letter ``A``-``D`` (55); none (5).
- multiple_correct_answers (39): comma lists of indices or letters (``0,1``, ``1, 3``, ``(0, 1)``, ``A,B,C``),
  ``2 and 3``, ``0 or 1``, space lists (``0 1 2 3``, ``0 1 3``, ``1 2``), a single index (3), prose
  "depends on interpretation" (4, spelled four ways); none (6).
- no_correct_answer (36): the missing answer as text ("6", "Observer bias", notes such as
  "~241843 (to be precise, 241842.65)"); none (14).
- ok, bad_question_clarity, bad_options_clarity, expert: mostly the ground truth repeated as an index, some prose
  ("Potential answers: 0, 2, 3"); not corrections, ignored.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from assay.eval.benchmarks import mmlu_redux
from assay.eval.benchmarks.mmlu_redux import corrected_answer
from tests.helpers.shared_data import shared_path

from .conftest import FIXTURES, load_samples


def test_space_separated_lists_accept_every_option_named():
    # international_law 16, 36 and 98 of MMLU-Redux 2.0, annotated "0 1 2 3", "0 1 3" and "1 2"
    samples = load_samples("mmlu_redux", dataset_id=str(FIXTURES / "mmlu_redux"),
                           subset_list=["international_law"])
    assert [s.target for s in samples] == [["A", "B", "C", "D"], ["A", "B", "D"], ["B", "C"]]


@pytest.mark.parametrize("annotation,indices", [
    ("2", [2]), ("C", [2]), ("c", [2]), ("0,1", [0, 1]), ("1, 3", [1, 3]), ("(0, 1)", [0, 1]), ("A,B,C", [0, 1, 2]),
    ("2 and 3", [2, 3]), ("0 or 2", [0, 2]), ("0 1 3", [0, 1, 3]), ("1 2", [1, 2]), ("(1 and 3)", [1, 3]),
    ("1,1", [1]),
    ("depends on interpretation", None), ("depends on interpretation (hearsay)", None), ("and", None), ("", None),
    ("4", None), ("E", None), ("1.5", None), ("either 1 or 3", None),
])
def test_option_indices(annotation, indices):
    assert mmlu_redux.option_indices(annotation, 4) == indices


@pytest.mark.parametrize("error_type,annotation,answers", [
    ("multiple_correct_answers", "0 1 3", [0, 1, 3]),
    ("wrong_groundtruth", "1 2", [1, 2]),
    ("multiple_correct_answers", "depends on interpretation", [3]),  # not a list: the original answer stays
    ("multiple_correct_answers", None, [3]),
    ("ok", "0", [3]),  # an annotation on a question without an error corrects nothing
])
def test_corrected_answer_keeps_the_original_unless_options_are_named(error_type, annotation, answers):
    row = {"choices": ["a", "b", "c", "d"], "answer": 3, "error_type": error_type, "correct_answer": annotation}
    assert corrected_answer(row) == (["a", "b", "c", "d"], answers)


def _shared_rows() -> list[tuple[str, int, dict]]:
    """(subject, index within the subject, row) for every row of the shared MMLU-Redux 2.0 copy."""
    text = shared_path("mmlu_redux", "test.jsonl").read_text(encoding="utf-8")
    seen: Counter[str] = Counter()
    rows = []
    for row in (json.loads(line) for line in text.split("\n") if line.strip()):
        subject = row["_hf_subset"]
        rows.append((subject, seen[subject], row))
        seen[subject] += 1
    return rows


def _outcome(row: dict) -> str:
    choices, answers = corrected_answer(row)
    if len(answers) > 1:
        return "several answers"
    if answers != [row["answer"]]:
        return "another answer"
    return "option text replaced" if choices != row["choices"] else "unchanged"


def test_every_shared_row_gets_its_correction():
    rows = _shared_rows()
    assert len(rows) == 5700
    outcomes = Counter(_outcome(row) for _, _, row in rows)
    # 26 = all 39 multiple_correct_answers rows but 6 unannotated, 3 naming only the original, 4 prose;
    # 100 = 106 wrong_groundtruth less 5 unannotated and 1 naming the original; 21 = 22 annotated
    # no_correct_answer rows less one whose text already is the original option's.
    assert outcomes == {"several answers": 26, "another answer": 100, "option text replaced": 21,
                        "unchanged": 5553}


def test_the_only_unreadable_annotations_are_depends_on_interpretation():
    unreadable = [
        (subject, index, row["correct_answer"])
        for subject, index, row in _shared_rows()
        if row["error_type"] in ("wrong_groundtruth", "multiple_correct_answers") and row["correct_answer"]
        and mmlu_redux.option_indices(row["correct_answer"], len(row["choices"])) is None
    ]
    assert unreadable == [
        ("professional_law", 50, "depedns on interpretation"),
        ("professional_law", 55, "depends on interpretation"),
        ("professional_law", 56, "depends on interpretation "),
        ("professional_law", 96, "depends on interpretation (hearsay)"),
    ]
