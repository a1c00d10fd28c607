"""IFEval: does the model follow verifiable instructions?

Zhou et al., "Instruction-Following Evaluation for Large Language Models", 2023 (arXiv:2311.07911).
541 prompts, each carrying one to three instructions a program can check ("answer in fewer than 100
words", "no commas", "wrap the answer in JSON"). The prompt is sent as is, as one user message; each
instruction is checked on the answer (``assay.eval.scoring.ifeval``), strictly and loosely (loose also
accepts the answer without its first or last line, or without markdown asterisks).

Metrics: prompt-level accuracy (all of a prompt's instructions followed) and instruction-level accuracy
(followed instructions / all instructions, pooled over prompts), each strict and loose. Every score keeps the
per-instruction verdicts and, in ``metadata["weights"]``, its instruction count, so the report pools the
instruction-level metrics over instructions rather than averaging per-prompt fractions.

Grading rules (``extra_params.ifeval_rules``): ``official`` (default) decides every instruction as Google's
checker does, so scores compare with published ones; ``assay`` keeps assay's fixes where the official check
misreads an answer (docs/eval.md lists each). The rules are part of the scoring fingerprint, so a resumed run
re-grades stored answers rather than mixing rules.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import Field

from assay.data import HubDataset
from assay.errors import DatasetError
from assay.eval.benchmarks.base import Benchmark, BenchmarkParams, register_benchmark
from assay.eval.scoring.ifeval import build_instruction, grade_response, ifeval_metrics
from assay.types import Message, Sample, Score

INSTRUCTION_LEVEL = ("inst_level_strict_acc", "inst_level_loose_acc")
IFEvalRules = Literal["official", "assay"]


@register_benchmark("ifeval", task_type="instruction_following", tags=("en", "instruction_following"))
class IFEval(Benchmark):
    """IFEval (Zhou et al., 2023): 25 kinds of verifiable instructions, strict and loose accuracy."""

    version = "2"  # 2: the official checker's rules by default, NLTK 3.8.1 punkt sentences, race-free langdetect
    licence = "Apache-2.0"
    source = HubDataset(hubs=(("huggingface", "google/IFEval"), ("modelscope", "opencompass/ifeval")), split="train")
    metrics = ("prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc")
    main_metric = "prompt_level_strict_acc"

    class Params(BenchmarkParams):
        ifeval_rules: IFEvalRules = Field(
            "official", description="official: Google's checker's verdicts; assay: with assay's fixes (docs/eval.md)")

    params: Params

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules: IFEvalRules = self.params.ifeval_rules

    @property
    def protocol_note(self) -> str:  # type: ignore[override]
        return f"the prompt as one user message; strict and loose grading under the {self.rules} IFEval rules"

    def scoring_fingerprint(self) -> dict[str, Any]:
        return {**super().scoring_fingerprint(), "ifeval_rules": self.rules}

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        ids, kwargs = list(row.get("instruction_id_list") or []), list(row.get("kwargs") or [])
        if not ids or len(ids) != len(kwargs) or not row.get("prompt"):
            raise DatasetError(f"ifeval row {index} needs prompt, instruction_id_list and one kwargs per "
                               f"instruction; got keys {sorted(row)}")
        # The hub copy gives every instruction every kwarg, None where it does not apply: keep the rest.
        kwargs = [{key: value for key, value in (k or {}).items() if value is not None} for k in kwargs]
        for instruction_id, arguments in zip(ids, kwargs):
            build_instruction(instruction_id, arguments, self.rules)  # a bad row fails at load, not at scoring
        return Sample(id=str(row.get("key", index)), subset=subset,
                      metadata={"question": row["prompt"], "instruction_id_list": ids, "kwargs": kwargs})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(sample.metadata["question"])]

    def score(self, sample: Sample, answer: str) -> Score:
        results = grade_response(answer, sample.metadata["instruction_id_list"], sample.metadata["kwargs"],
                                 self.rules)
        return Score(
            values=ifeval_metrics(results),
            extracted=answer,
            explanation="; ".join(f"{r.instruction_id}: strict {'✓' if r.strict else '✗'}, "
                                  f"loose {'✓' if r.loose else '✗'}" for r in results),
            metadata={"weights": {metric: len(results) for metric in INSTRUCTION_LEVEL},
                      "instructions": [{"id": r.instruction_id, "strict": r.strict, "loose": r.loose}
                                       for r in results]},
        )

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        # Language detection is pure-Python work of some milliseconds: keep it off the event loop.
        return await asyncio.to_thread(self.score, sample, answer)
