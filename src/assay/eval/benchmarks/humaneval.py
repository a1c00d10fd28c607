"""HumanEval: write a Python function from its signature and docstring.

Chen et al., "Evaluating Large Language Models Trained on Code", 2021 (arXiv:2107.03374). 164 problems, each a
prompt (imports, signature, docstring), an ``entry_point`` and a ``test`` defining ``check(candidate)``.
The candidate program runs in the sandbox (``assay.eval.scoring.sandbox``) followed by ``check(entry_point)``;
it passes when that exits cleanly within the limits.

Two ways of asking (``extra_params.style``): "chat" (default) asks for the function in a fenced block, and the
block counts whether it repeats the signature or gives only the body; "completion" sends the prompt alone
to be continued (the ``/completions`` endpoint, or the checkpoint without its chat template; backends that
only chat get it as a user message) and grades prompt + answer, cut at the Codex stop sequences. Grading recognises either shape of answer
whatever was asked. ``pass@1`` is the unbiased estimator (Chen et al., eq. 1) over repeats; with ``n`` repeats
the report adds ``pass@n``. ``dataset_id`` also takes the original ``HumanEval.jsonl.gz``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from assay.data import DatasetLoader, HubDataset
from assay.errors import DatasetError
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.code_common import CodeBenchmark, CodeParams, pass_score
from assay.eval.scoring.code import humaneval_program
from assay.types import Message, Sample, Score

CHAT_TEMPLATE = (
    "Implement the following Python function. Reply with the complete function (signature included) in one "
    "```python fenced block.\n\n```python\n{prompt}```"
)


@register_benchmark("humaneval", task_type="code", tags=("en", "code"))
class HumanEval(CodeBenchmark):
    """HumanEval (Chen et al., 2021): function synthesis graded by executing the problem's tests."""

    version = "1"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "openai/openai_humaneval"), ("modelscope", "opencompass/humaneval")),
                        split="test")
    protocol_note = "function from signature + docstring; run with check(entry_point) in the sandbox"

    class Params(CodeParams):
        style: Literal["chat", "completion"] = Field(
            "chat", description="chat: ask for the function in a fenced block; completion: continue the prompt")

    params: Params

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style = self.params.style

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        if root.is_file():  # the original HumanEval.jsonl.gz, or any single file in its schema
            return loader.rows(root, split)[0]
        return super().subset_rows(loader, root, subset, split)

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        missing = [key for key in ("task_id", "prompt", "test", "entry_point") if not row.get(key)]
        if missing:
            raise DatasetError(f"humaneval row {index} lacks {', '.join(missing)}; got keys {sorted(row)}")
        return Sample(id=str(row["task_id"]), subset=subset, target=row.get("canonical_solution"),
                      metadata={"question": row["prompt"], "test": row["test"], "entry_point": row["entry_point"]})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        if self.style == "completion":
            return [Message.user(sample.metadata["question"])]
        return [Message.user(CHAT_TEMPLATE.format(prompt=sample.metadata["question"]))]

    def raw_prompt(self, sample: Sample) -> str | None:
        # The Codex protocol: the model continues the prompt itself, through /completions.
        return sample.metadata["question"] if self.style == "completion" else None

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "style": self.style}

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        meta = sample.metadata
        program, style = humaneval_program(meta["question"], answer, meta["entry_point"])
        job = {"kind": "check", "program": program, "prompt": meta["question"], "test": meta["test"],
               "entry_point": meta["entry_point"]}
        passed, why, metadata = await self.run_harness(job)
        return pass_score(passed, program, why, style=style, **metadata)

