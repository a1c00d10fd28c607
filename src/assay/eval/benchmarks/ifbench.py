"""IFBench: does instruction following generalise to constraints a model was not trained on?

Pyatkin et al., "Generalizing Verifiable Instruction Following", 2025 (arXiv:2507.02833). HF
``allenai/IFBench_test``, split ``train``: 300 prompts (WildChat requests with one or more of 58 new
verifiable constraints: counting, ratios, word and sentence games, formats, copying), fields ``key``,
``prompt``, ``instruction_id_list`` and ``kwargs`` (one dict per instruction, every kwarg present, ``None``
where it does not apply). Data licence ODC-BY-1.0.

Protocol: the prompt as one user message, as IFEval; every constraint checked on the answer by a verifier
(``assay.eval.scoring.ifbench``) that decides as the official one does (allenai/IFBench's
``ifbench/instructions.py``), strictly and loosely (loose also tries the answer without its first and/or last
line, each with and without asterisks). Metrics are IFEval's: prompt-level (all of a prompt's constraints
followed) and instruction-level (pooled over constraints), strict and loose; the paper reports prompt-level
loose accuracy, the main metric here.

Where assay differs: four constraint types need a model or word list assay does not ship and are *ungraded*
(neither followed nor not): ``ratio:stop_words`` (NLTK's stop-word corpus), ``words:start_verb`` (NLTK's
part-of-speech tagger), ``words:odd_even_syllables`` (syllapy) and ``format:emoji`` (the emoji package). An
ungraded constraint leaves the instruction-level pool, and a prompt whose other constraints all pass gets no
prompt-level verdict (a failed one still fails it); so the scores are over the 54 graded types, and each
score's ``metadata["ungraded"]`` names what was left out. Any other unknown id is ungraded the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from assay.data import HubDataset
from assay.errors import DatasetError
from assay.eval.benchmarks.base import Benchmark, register_benchmark
from assay.eval.scoring.ifbench import build_verifier, grade_response, ifbench_metrics
from assay.types import Message, Sample, Score

INSTRUCTION_LEVEL = ("inst_level_strict_acc", "inst_level_loose_acc")


def _mark(value: bool | None) -> str:
    return "?" if value is None else "✓" if value else "✗"


@register_benchmark("ifbench", task_type="instruction_following", tags=("en", "instruction_following"))
class IFBench(Benchmark):
    """IFBench (Pyatkin et al., 2025): 58 unseen verifiable constraints, strict and loose accuracy."""

    version = "1"
    source = HubDataset(hubs=(("huggingface", "allenai/IFBench_test"),), split="train")
    licence = "ODC-BY-1.0"
    metrics = ("prompt_level_loose_acc", "inst_level_loose_acc", "prompt_level_strict_acc", "inst_level_strict_acc")
    main_metric = "prompt_level_loose_acc"
    protocol_note = "the prompt as one user message; strict and loose grading by IFBench's verifiers"

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        ids, kwargs = list(row.get("instruction_id_list") or []), list(row.get("kwargs") or [])
        if not ids or len(ids) != len(kwargs) or not row.get("prompt"):
            raise DatasetError(f"ifbench row {index} needs prompt, instruction_id_list and one kwargs per "
                               f"instruction; got keys {sorted(row)}")
        kwargs = [{key: value for key, value in (k or {}).items() if value is not None} for k in kwargs]
        for instruction_id, arguments in zip(ids, kwargs):
            build_verifier(instruction_id, arguments)  # a bad row fails at load, not at scoring
        return Sample(id=str(row.get("key", index)), subset=subset,
                      metadata={"question": row["prompt"], "instruction_id_list": ids, "kwargs": kwargs})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(sample.metadata["question"])]

    def score(self, sample: Sample, answer: str) -> Score:
        verdicts = grade_response(answer, sample.metadata["instruction_id_list"], sample.metadata["kwargs"])
        values, graded = ifbench_metrics(verdicts)
        return Score(
            values=values,
            extracted=answer,
            explanation="; ".join(f"{v.instruction_id}: strict {_mark(v.strict)}, loose {_mark(v.loose)}"
                                  for v in verdicts),
            metadata={"weights": {metric: graded for metric in INSTRUCTION_LEVEL},
                      "ungraded": [v.instruction_id for v in verdicts if v.strict is None],
                      "instructions": [{"id": v.instruction_id, "strict": v.strict, "loose": v.loose}
                                       for v in verdicts]},
        )

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        # Sentence splitting and tokenising are pure-Python work: keep them off the event loop.
        return await asyncio.to_thread(self.score, sample, answer)
