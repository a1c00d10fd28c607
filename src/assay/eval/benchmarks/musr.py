"""MuSR: multistep soft reasoning over long generated narratives (756 questions, 2-5 options) in three
domains: murder mysteries (who is the murderer), object placements (where will someone look for an object)
and team allocation (which assignment of people to tasks is best).

Sprague et al., "MuSR: Testing the Limits of Chain-of-thought with Multistep Soft Reasoning", ICLR 2024
(arXiv:2310.16049). As EvalScope's ``musr``: a subset per domain, 0-shot, the narrative then the question as
the question text, asked with the simple-evals step-by-step prompt. The paper's own prompts (domain hints,
one solved example) are not used. Reads the authors' hub files (``murder_mystery.csv``, ``choices`` as a
Python list literal) as well as a file or folder per subset.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from assay.data import DatasetLoader, HubDataset
from assay.errors import DatasetError
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MultipleChoice, rows_of_file_named
from assay.types import Sample

# subset -> the file it is in on TAUR-Lab/MuSR, where it differs
HUB_FILES = {"murder_mysteries": "murder_mystery"}


def choice_list(value: Any) -> list[str]:
    """The options: a list, or the hub CSV's Python list literal ("['Mackenzie', 'Ana']")."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise DatasetError(f"musr: choices {value[:60]!r} is not a list") from None
    return [str(choice) for choice in value]


@register_benchmark("musr", task_type="mcq", tags=("en", "reasoning"))
class MuSR(MultipleChoice):
    """MuSR (Sprague et al., 2024): murder mysteries, object placements, team allocation."""

    version = "1"
    licence = "CC-BY-4.0"
    source = HubDataset(hubs=(("huggingface", "TAUR-Lab/MuSR"), ("modelscope", "AI-ModelScope/MuSR")),
                        split="test", subset_is_config=True)
    subsets = ("murder_mysteries", "object_placements", "team_allocation")
    protocol_note = ("EvalScope's 0-shot form: narrative and question, simple-evals CoT prompt "
                     "('Answer: $LETTER'); acc: letter from the last answer marker, then fallbacks")

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        rows = rows_of_file_named(loader, root, split, [HUB_FILES[subset]] if subset in HUB_FILES else [])
        return rows or super().subset_rows(loader, root, subset, split)

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        question = f"{str(row['narrative']).strip()}\n\n{str(row['question']).strip()}"
        return self.make_sample(f"{subset}/{index}", question, choice_list(row["choices"]),
                                [int(row["answer_index"])], subset)
