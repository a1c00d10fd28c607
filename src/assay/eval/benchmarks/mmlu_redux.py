"""MMLU-Redux 2.0: 5,700 MMLU questions (100 per subject) re-annotated for errors.

Gema et al., "Are We Done with MMLU?", NAACL 2025 (arXiv:2406.04127). Each question carries an
``error_type`` and, for some, a free-text ``correct_answer``. As in EvalScope and the authors' evaluation:

- ``wrong_groundtruth`` and ``multiple_correct_answers``: the annotation names the correct options, as indices
  or letters, one or several, separated by commas, spaces, "and" or "or" (``2``, ``C``, ``0,1``, ``(0, 1)``,
  ``1 and 3``, ``0 or 2``, ``0 1 3``, ``A,B``); every option named is accepted.
- ``no_correct_answer``: the annotated answer becomes the text of the original answer's option.
- Where the annotation names no option, the original answer stays. This is so for the four
  ``multiple_correct_answers`` rows annotated "depends on interpretation", which EvalScope scores as accepting
  every option; here only the original answer counts.
- Unclear questions and options, and expert-flagged ones, stay in as they are; their annotations are ignored.
"""

from __future__ import annotations

import re
from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import LETTERS, MultipleChoice
from assay.eval.benchmarks.mmlu import SUBJECTS
from assay.types import Sample

# Between the options of a list: commas, parentheses, whitespace; "and"/"or" are dropped as words below.
_LIST_SEPARATORS = re.compile(r"[\s,()]+")
_LIST_WORDS = frozenset({"and", "or"})


def option_indices(annotation: str, option_count: int) -> list[int] | None:
    """The options an annotation names, in order; None when it is not a list of options (prose, an index
    beyond the options). Indices count from 0 (``"0 1 3"``), letters from A (``"A,B"``)."""
    tokens = [token for token in _LIST_SEPARATORS.split(annotation)
              if token and token.lower() not in _LIST_WORDS]
    indices: list[int] = []
    for token in tokens:
        if token.isdigit():
            index = int(token)
        elif len(token) == 1 and token.upper() in LETTERS:
            index = LETTERS.index(token.upper())
        else:
            return None
        if index >= option_count:
            return None
        if index not in indices:
            indices.append(index)
    return indices or None


def corrected_answer(row: dict[str, Any]) -> tuple[list[str], list[int]]:
    """The choices and the correct indices after applying the annotators' correction."""
    choices = list(row["choices"])
    answers = [int(row["answer"])]
    error_type = row.get("error_type") or "ok"
    correction = str(row.get("correct_answer") or "").strip()
    if not correction or correction.lower() in ("none", "nan"):
        return choices, answers
    if error_type == "no_correct_answer":
        choices[answers[0]] = correction
    elif error_type in ("wrong_groundtruth", "multiple_correct_answers"):
        answers = option_indices(correction, len(choices)) or answers
    return choices, answers


@register_benchmark("mmlu_redux", task_type="mcq", tags=("en", "knowledge"))
class MMLURedux(MultipleChoice):
    """MMLU-Redux 2.0 (Gema et al., 2025) with the annotated answer corrections."""

    version = "2"  # 2: space-separated option lists ("0 1 3") accept every option they name
    licence = "CC-BY-4.0"
    source = HubDataset(hubs=(("huggingface", "edinburgh-dawg/mmlu-redux-2.0"),
                              ("modelscope", "AI-ModelScope/mmlu-redux-2.0")),
                        split="test", subset_is_config=True, subset_column="subject")
    subsets = SUBJECTS

    def subset_of(self, row: dict[str, Any]) -> str | None:
        return row.get("subject")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        choices, answers = corrected_answer(row)
        return self.make_sample(f"{subset}/{index}", row["question"], choices, answers, subset,
                                error_type=row.get("error_type"))
