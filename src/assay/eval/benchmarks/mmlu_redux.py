"""MMLU-Redux 2.0: 5,700 MMLU questions (100 per subject) re-annotated for errors.

Gema et al., "Are We Done with MMLU?", NAACL 2025 (arXiv:2406.04127). Each question carries an
``error_type``; as in EvalScope and the authors' evaluation, a wrong ground truth is replaced by the annotated
``correct_answer``, a question with several correct options accepts any of them, and a question with no
correct option gets the annotated answer as its text. Unclear questions stay in, as annotated.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import LETTERS, MultipleChoice
from assay.eval.benchmarks.mmlu import SUBJECTS
from assay.types import Sample


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
    elif error_type == "wrong_groundtruth":
        answers = _indices(correction) or answers
    elif error_type == "multiple_correct_answers":
        answers = _indices(correction.strip("()").replace(" and ", ",").replace(" or ", ",")) or answers
    return choices, answers


def _indices(text: str) -> list[int]:
    indices = []
    for part in (p.strip().strip("()") for p in text.split(",")):
        if part.isdigit():
            indices.append(int(part))
        elif len(part) == 1 and part.upper() in LETTERS:
            indices.append(LETTERS.index(part.upper()))
        else:
            return []
    return indices


@register_benchmark("mmlu_redux", task_type="mcq", tags=("en", "knowledge"))
class MMLURedux(MultipleChoice):
    """MMLU-Redux 2.0 (Gema et al., 2025) with the annotated answer corrections."""

    version = "1"
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
