"""WinoGrande: Winograd-schema pronoun resolution at scale; a sentence with a blank (``_``) and two options.

Sakaguchi et al., "WinoGrande: An Adversarial Winograd Schema Challenge at Scale", AAAI 2020
(arXiv:1907.10641). As EvalScope's ``winogrande``: the 1,267 validation questions (the test labels are
hidden), 0-shot, the sentence as the question and the two fillers as options A and B, asked with the
simple-evals prompt. lm-evaluation-harness instead compares the likelihood of the sentence's continuation
after each filler (partial scoring); the two are not comparable.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MultipleChoice
from assay.types import Sample


@register_benchmark("winogrande", task_type="mcq", tags=("en", "commonsense", "reasoning"))
class WinoGrande(MultipleChoice):
    """WinoGrande (Sakaguchi et al., 2020), validation split, two options."""

    version = "1"
    licence = "CC-BY-4.0"
    source = HubDataset(hubs=(("huggingface", "allenai/winogrande"), ("modelscope", "AI-ModelScope/winogrande_val")),
                        config="winogrande_xl", split="validation")
    protocol_note = ("EvalScope's 0-shot form: the sentence with its blank as the question, the two fillers as "
                     "options A/B, simple-evals CoT prompt ('Answer: $LETTER')")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        return self.make_sample(str(row.get("qID") or index), str(row["sentence"]),
                                [row["option1"], row["option2"]], [int(row["answer"]) - 1], subset)
