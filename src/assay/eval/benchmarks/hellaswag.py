"""HellaSwag: commonsense sentence completion, pick the one plausible ending of four (10,042 validation rows).

Zellers et al., "HellaSwag: Can a Machine Really Finish Your Sentence?", ACL 2019 (arXiv:1905.07830). The
ending is written to fool models while being obvious to humans. lm-evaluation-harness scores it 10-shot by the
likelihood of each ending; this follows EvalScope's ``hellaswag`` instead: 0-shot and generative, the context
(``ctx_a`` + the capitalised ``ctx_b``, WikiHow's ``[title]``/``[step]`` markup removed) as the question and
the four endings as lettered options, asked with the simple-evals prompt. Scores are not comparable with the
likelihood (``acc_norm``) numbers papers quote.
"""

from __future__ import annotations

import re
from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MultipleChoice
from assay.types import Sample


def clean(text: str) -> str:
    """WikiHow contexts carry markup (``[title]``, ``[step]``, ``[substeps]``): a title ends a sentence, the
    rest goes, as in the authors' and EvalScope's preprocessing."""
    text = text.strip().replace(" [title]", ". ")
    return re.sub(r"\[.*?\]", "", text).replace("  ", " ").strip()


@register_benchmark("hellaswag", task_type="mcq", tags=("en", "commonsense", "reasoning"))
class HellaSwag(MultipleChoice):
    """HellaSwag (Zellers et al., 2019), 0-shot generative, validation split."""

    version = "1"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "Rowan/hellaswag"), ("modelscope", "evalscope/hellaswag")),
                        split="validation")
    protocol_note = ("EvalScope's 0-shot generative form: cleaned context as the question, the endings as "
                     "options, simple-evals CoT prompt ('Answer: $LETTER'); not lm-eval's 10-shot likelihood")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        context = clean(f"{row['ctx_a']} {str(row['ctx_b']).capitalize()}")
        return self.make_sample(str(row.get("ind", index)), context, [clean(e) for e in row["endings"]],
                                [int(row["label"])], subset, activity_label=row.get("activity_label"))
