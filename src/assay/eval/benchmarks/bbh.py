"""BIG-Bench Hard: the 27 BIG-Bench tasks (23 task families, 6,511 questions) on which language models were
below the average human rater, asked with chain-of-thought.

Suzgun et al., "Challenging BIG-Bench Tasks and Whether Chain-of-Thought Can Solve Them", Findings of ACL 2023
(arXiv:2210.09261). The published protocol, as EvalScope's ``bbh``: 3-shot, each task's three hand-written CoT
exemplars (``cot-prompts/<task>.txt`` in suzgun/BIG-Bench-Hard, MIT) after the task description, then
"Q: <input>\\nA: Let's think step by step."; the answer is what follows the last "the answer is", compared by
exact match with the target (the option letter for the 17 multiple-choice tasks, the text for the 10 free-form
ones). assay does not ship the CoT prompts: they are read from the dataset copy (a ``cot-prompts`` or
``cot_prompts`` folder beside the task files) or from ``extra_params.cot_prompts`` (a folder of
``<task>.txt``); ``few_shot_num: 0`` asks without them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import Field

from assay.data import DatasetLoader, HubDataset
from assay.errors import ConfigError, DatasetError
from assay.eval.benchmarks.base import Benchmark, BenchmarkParams, register_benchmark
from assay.types import Message, Sample, Score

TASKS = (
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa", "dyck_languages",
    "formal_fallacies", "geometric_shapes", "hyperbaton", "logical_deduction_five_objects",
    "logical_deduction_seven_objects", "logical_deduction_three_objects", "movie_recommendation",
    "multistep_arithmetic_two", "navigate", "object_counting", "penguins_in_a_table",
    "reasoning_about_colored_objects", "ruin_names", "salient_translation_error_detection", "snarks",
    "sports_understanding", "temporal_sequences", "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects", "web_of_lies",
    "word_sorting",
)
PROMPT_FOLDERS = ("cot-prompts", "cot_prompts")
_OPTION = re.compile(r"^\(([A-Z])\)$")
_ANSWER_MARKER = re.compile(r"the answer is\s*:?", re.IGNORECASE)


def parse_cot_prompt(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A CoT prompt file: the task description, then exemplars "Q: <input>\\nA: <reasoning>", blank-line apart.
    Returns the description and the (input, reasoning) pairs. A first line of dashes (the files' separator
    before the description) is skipped."""
    text = text.replace("\r\n", "\n").strip()
    if text.startswith("-----"):
        text = text.split("\n", 1)[1].strip() if "\n" in text else ""
    head, _, rest = text.partition("Q: ")
    exemplars = []
    for block in re.split(r"\n\s*\nQ: ", rest) if rest else []:
        question, _, reasoning = block.partition("\nA: ")
        if question.strip() and reasoning.strip():
            exemplars.append((question.strip(), reasoning.strip()))
    return head.strip(), exemplars


def extract_answer(answer: str) -> str | None:
    """The text after the last "the answer is" (its first line, bold and a final full stop removed); without
    the marker, the last non-empty line."""
    markers = list(_ANSWER_MARKER.finditer(answer))
    tail = answer[markers[-1].end():] if markers else answer
    lines = [line.strip() for line in tail.strip().split("\n") if line.strip()]
    if not lines:
        return None
    text = lines[0] if markers else lines[-1]
    text = text.replace("**", "").strip()
    return text[:-1].strip() if text.endswith(".") else text


def normalise(text: str, multiple_choice: bool) -> str:
    """Letters compare without their parentheses ("(B)" = "B"); free-form answers by their words."""
    text = " ".join(text.split())
    if multiple_choice:
        match = re.match(r"^\(?([A-Z])\)?(?:\s|$)", text)
        return match.group(1) if match else text
    return text


@register_benchmark("bbh", task_type="reasoning", tags=("en", "reasoning"))
class BBH(Benchmark):
    """BIG-Bench Hard (Suzgun et al., 2023): 27 tasks, 3-shot CoT with the published exemplars, exact match."""

    version = "1"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "lukaemon/bbh"), ("modelscope", "evalscope/bbh")),
                        split="test", subset_is_config=True)
    subsets = TASKS
    few_shot_split = "cot-prompts"  # not a split of the data: the task's CoT prompt file (see shot_pool)
    default_few_shot = 3
    protocol_note = ("the paper's CoT prompt: task description, exemplars, 'Q: ... A: Let's think step by step.'; "
                     "acc: exact match of the text after the last 'the answer is'")

    class Params(BenchmarkParams):
        cot_prompts: str | None = Field(
            None, description="folder of the published CoT prompts (TASK.txt each); default: cot-prompts/ of the data")

    params: Params

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        target = str(row["target"]).strip()
        option = _OPTION.match(target)
        return Sample(id=f"{subset}/{index}", target=option.group(1) if option else target, subset=subset,
                      metadata={"question": str(row["input"]), "multiple_choice": bool(option)})

    def shot_pool(self, loader: DatasetLoader, root: Path, subset: str) -> list[Sample]:
        file = self._prompt_file(root, subset)
        description, exemplars = parse_cot_prompt(file.read_text(encoding="utf-8"))
        if not exemplars:
            raise DatasetError(f"{file}: no 'Q: ... A: ...' exemplars in the CoT prompt")
        return [Sample(id=f"cot/{subset}/{i}", subset=subset,
                       metadata={"question": question, "solution": reasoning, "description": description})
                for i, (question, reasoning) in enumerate(exemplars)]

    def _prompt_file(self, root: Path, task: str) -> Path:
        configured = self.params.cot_prompts
        base = root if root.is_dir() else root.parent
        folders = [Path(str(configured)).expanduser()] if configured else [base / f for f in PROMPT_FOLDERS]
        for folder in folders:
            if (folder / f"{task}.txt").is_file():
                return folder / f"{task}.txt"
        where = folders[0] if configured else f"{base}/cot-prompts"
        raise ConfigError(f"bbh: {self.few_shot_num}-shot CoT needs {task}.txt (the published CoT prompts, "
                          f"cot-prompts/ of suzgun/BIG-Bench-Hard) in {where}; set dataset_args.bbh.extra_params."
                          "cot_prompts to their folder, or few_shot_num: 0")

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        description = shots[0].metadata["description"] if shots else ""
        parts = [description] if description else []
        parts += [f"Q: {s.metadata['question']}\nA: {s.metadata['solution']}" for s in shots]
        parts.append(f"Q: {sample.metadata['question']}\nA: Let's think step by step.")
        return [Message.user("\n\n".join(parts))]

    def score(self, sample: Sample, answer: str) -> Score:
        extracted = extract_answer(answer)
        if extracted is None:
            return Score(values={"acc": 0.0}, extracted=None, explanation="no answer found")
        multiple_choice = bool(sample.metadata.get("multiple_choice"))
        correct = normalise(extracted, multiple_choice) == normalise(str(sample.target), multiple_choice)
        return Score(values={"acc": float(correct)}, extracted=extracted)
