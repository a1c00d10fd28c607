"""GPQA Diamond: 198 graduate-level, "Google-proof" science questions that experts answer and skilled
non-experts with web access mostly miss.

Rein et al., "GPQA: A Graduate-Level Google-Proof Q&A Benchmark", 2023 (arXiv:2311.12022). The source lists
the correct answer first, so the four options are always shuffled, seeded per question (simple-evals style),
and the prompt is simple-evals' multiple-choice template. The data is gated: its authors ask that questions
not be published in plain text, so no copy of it ships with assay.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MultipleChoice
from assay.types import Sample


@register_benchmark("gpqa_diamond", task_type="mcq", tags=("en", "science", "reasoning"))
class GPQADiamond(MultipleChoice):
    """GPQA Diamond (Rein et al., 2023): options shuffled, seeded per question."""

    version = "1"
    licence = "CC-BY-4.0"
    source = HubDataset(hubs=(("huggingface", "Idavidrein/gpqa"), ("modelscope", "AI-ModelScope/gpqa_diamond")),
                        config="gpqa_diamond", split="train")
    shuffle_by_default = True

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        choices = [row["Correct Answer"], row["Incorrect Answer 1"], row["Incorrect Answer 2"],
                   row["Incorrect Answer 3"]]
        sample_id = str(row.get("Record ID") or index)
        return self.make_sample(sample_id, str(row["Question"]).strip(), [str(c).strip() for c in choices], [0],
                                subset)
