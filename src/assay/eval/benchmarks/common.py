"""What the multiple-choice and the math benchmarks share: prompt templates, choice shuffling, scoring."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, ClassVar, Sequence

from assay.data import DatasetLoader
from assay.errors import DatasetError
from assay.eval.benchmarks.base import Benchmark
from assay.eval.config import DatasetArgs
from assay.types import Message, Sample, Score

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# openai/simple-evals common.py QUERY_TEMPLATE_MULTICHOICE, with the letters following the option count.
MCQ_TEMPLATE = (
    "Answer the following multiple choice question. The last line of your response should be of the following "
    "format: 'Answer: $LETTER' (without quotes) where LETTER is one of {letters}. Think step by step before "
    "answering.\n\n{question}\n\n{choices}"
)

# The same in Chinese (iquiz, cmmlu): think step by step, the last line "答案：X".
ZH_MCQ_TEMPLATE = ("回答下面的单项选择题，请先逐步思考再作答。你的回答的最后一行应该是这样的格式：“答案：LETTER”（不带引号），"
                   "其中 LETTER 是 {letters} 中的一个。\n\n{question}\n\n{choices}")

# The Qwen / EvalScope math prompt: reason, then a boxed final answer.
MATH_TEMPLATE = "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."


def rows_of_file_named(loader: DatasetLoader, root: Path, split: str,
                       names: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``split`` in the first file or folder named by one of ``names``, or none: for hubs whose
    files are named after neither the subset nor the split (MMMLU's ``test/mmlu_ZH-CN.csv``, MuSR's
    ``murder_mystery.csv``)."""
    for name in names:
        try:
            rows, own = loader.rows(root, split, name)
        except DatasetError:
            continue
        if own and rows:
            return rows
    return []


def format_choices(choices: Sequence[str], separator: str = ") ") -> str:
    return "\n".join(f"{LETTERS[i]}{separator}{text}" for i, text in enumerate(choices))


class MultipleChoice(Benchmark):
    """A benchmark whose samples are a question, lettered options and one (or more) correct letters.

    ``shuffle_choices`` (seeded per sample, so a rerun or a larger limit asks the same order) is how a run
    checks position bias; a benchmark can shuffle by default (GPQA, whose source lists the answer first).
    """

    task_type = "mcq"
    metrics = ("acc", "acc_strict")
    shuffle_by_default: ClassVar[bool] = False
    protocol_note = ("simple-evals CoT prompt ('Answer: $LETTER'); acc: letter from the last answer marker, "
                     "then fallbacks; acc_strict: an explicit answer marker only")

    @property
    def shuffled(self) -> bool:
        return self.shuffle_by_default if self.args.shuffle_choices is None else self.args.shuffle_choices

    def make_sample(
        self,
        sample_id: str,
        question: str,
        choices: Sequence[str],
        answer_indices: Sequence[int],
        subset: str,
        **metadata: Any,
    ) -> Sample:
        """A sample with options lettered A, B, ...; shuffled if asked, the targets following their options."""
        order = list(range(len(choices)))
        shuffle = self.shuffled
        if shuffle:
            random.Random(f"{self.seed}:{self.name}:{sample_id}").shuffle(order)
        shown = [str(choices[i]) for i in order]
        targets = [LETTERS[order.index(i)] for i in answer_indices]
        return Sample(
            id=sample_id, target=targets[0] if len(targets) == 1 else targets, choices=shown, subset=subset,
            metadata={"question": question, **({"choice_order": order} if shuffle else {}), **metadata},
        )

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(self.fill_template(MCQ_TEMPLATE, sample))]

    def score(self, sample: Sample, answer: str) -> Score:
        return score_choice(answer, sample.target, len(sample.choices or []))


def score_choice(answer: str, target: str | list[str], option_count: int) -> Score:
    """``acc``: the letter extracted with the fallbacks (last "Answer: X", "(X)", a bare last letter...);
    ``acc_strict``: only an explicit answer statement counts. No letter found is wrong, not ungraded."""
    from assay.eval.scoring.choice import extract_choice

    letters = LETTERS[:option_count]
    targets = {target} if isinstance(target, str) else set(target)
    lenient = extract_choice(answer, letters=letters)
    strict = extract_choice(answer, letters=letters, strict=True)
    return Score(
        values={"acc": float(lenient in targets), "acc_strict": float(strict in targets)},
        extracted=lenient, explanation=None if lenient else "no answer letter found",
    )


class JudgedBenchmark(Benchmark):
    """A benchmark an LLM judge may grade (``judge_strategy``): ``llm`` asks the judge about every answer,
    ``llm_recall`` only about those the rule did not find correct; ``rule`` (and ``auto``) never asks it.

    The judge is part of the benchmark from its construction (the runner passes ``judge_strategy`` and
    ``llm_judge``; ``with_judge`` builds a judged copy), so the metrics it adds are fixed then and an instance
    never changes once built. The judge's verdict replaces (or adds) ``acc``, and the rule's own value, the judge
    prompt and its reply are kept in the score's metadata.
    """

    default_judge_mode: ClassVar[str] = "rule"
    needs_judge: ClassVar[bool] = False  # no rule grades it: judge_strategy rule is refused at start
    judge_kind: ClassVar[str] = "an LLM judge"  # what grades it, as the refusal says
    rule_metric: ClassVar[str] = "acc"  # the rule's value that says an answer is right (llm_recall asks no more)
    judge_grades_acc: ClassVar[bool] = True  # the verdict is "acc"; False where the judge gives the metrics itself

    def __init__(self, args: DatasetArgs | None = None, seed: int = 42, *, judge_strategy: str = "auto",
                 llm_judge: Any = None) -> None:
        from assay.eval.scoring.judge import resolve_mode

        super().__init__(args, seed)
        mode = resolve_mode(judge_strategy, self.default_judge_mode)  # type: ignore[arg-type]
        self.judge_mode: str = mode if llm_judge is not None else "rule"
        self.llm_judge: Any = llm_judge if self.judge_mode != "rule" else None  # an ``LLMJudge``
        if self.llm_judge is not None and self.judge_grades_acc and "acc" not in self.metrics:
            self.metrics = ("acc", *self.metrics)
            self.main_metric = "acc"

    def with_judge(self, strategy: str, judge: Any) -> JudgedBenchmark:
        """A new benchmark like this one, graded with ``judge`` (an ``LLMJudge``, or None) as ``strategy`` says;
        this one is left as it is."""
        return type(self)(self.args, self.seed, judge_strategy=strategy, llm_judge=judge)

    def scoring_fingerprint(self) -> dict[str, Any]:
        fingerprint = super().scoring_fingerprint()
        if self.llm_judge is not None:
            fingerprint["judge"] = {"mode": self.judge_mode, **self.llm_judge.config.fingerprint()}
        return fingerprint

    def protocol(self) -> str:
        text = super().protocol()
        if self.llm_judge is None:
            return text
        when = "every answer" if self.judge_mode == "llm" else "answers the rule did not find correct"
        return f"{text}; acc by LLM judge {self.llm_judge.config.model_id} on {when}"

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        """The rule's score, then the judge's verdict where the judge mode asks for one."""
        rule = self.score(sample, answer)
        return await self.judged(sample, answer, rule, rule.values.get(self.rule_metric) == 1.0)

    async def judged(self, sample: Sample, answer: str, rule: Score, rule_correct: bool) -> Score:
        """``rule``, or the judge's verdict on ``answer`` where the judge mode asks for one."""
        if self.llm_judge is None or (self.judge_mode == "llm_recall" and rule_correct):
            return rule
        from assay.eval.scoring.judge import apply_verdict

        verdict = await self.llm_judge.judge(str(sample.metadata.get("question", "")), str(sample.target), answer)
        return apply_verdict(rule, verdict, "acc")


class MathBenchmark(JudgedBenchmark):
    """A benchmark graded by the final (boxed) answer's mathematical equivalence to the target."""

    task_type = "math"
    heavy_scoring = True
    protocol_note = ("'reason step by step, final answer in \\boxed{}'; the last boxed answer (else the last "
                     "answer marker or number) vs the target by math-verify equivalence")

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        messages: list[Message] = []
        for shot in shots:
            messages.append(Message.user(MATH_TEMPLATE.format(question=shot.metadata["question"])))
            messages.append(Message.assistant(shot.metadata.get("solution") or f"\\boxed{{{shot.target}}}"))
        messages.append(Message.user(MATH_TEMPLATE.format(question=sample.metadata["question"])))
        return messages

    def score(self, sample: Sample, answer: str) -> Score:
        from assay.eval.scoring.math import math_equal

        extraction = final_answer(answer)
        if extraction is None:
            return math_score(None, None)
        return math_score(extraction, math_equal(extraction.answer, str(sample.target)))

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        # The same grading as ``score``, with the symbolic stage in the checker's worker processes; then the LLM
        # judge where judge_strategy asks for it.
        extraction = final_answer(answer)
        if extraction is None or checker is None:
            rule = self.score(sample, answer)
        else:
            rule = math_score(extraction, await checker.aequal(extraction.answer, str(sample.target)))
        return await self.judged(sample, answer, rule, rule.values.get("acc") == 1.0)


def final_answer(answer: str) -> Any:
    """The extracted final answer (boxed, "the answer is", ``####``, last number), or None."""
    from assay.eval.scoring.math import extract_math_answer

    extraction = extract_math_answer(answer)
    return extraction if extraction is not None and extraction.answer.strip() else None


def math_score(extraction: Any, equal: bool | None) -> Score:
    """``acc`` 1/0 from math-verify equivalence; no final answer is wrong; ``None`` when the check could not
    decide (a timeout), which the report counts apart from wrong answers."""
    if extraction is None:
        return Score(values={"acc": 0.0}, extracted=None, explanation="no final answer found")
    return Score(
        values={"acc": None if equal is None else float(bool(equal))}, extracted=extraction.answer,
        explanation="equivalence check undecided" if equal is None else None, metadata={"rule": extraction.rule},
    )


def integer_answer(value: Any) -> str:
    """AIME answers as plain integers: "025" and 70.0 become "25" and "70"."""
    text = str(value).strip()
    try:
        return str(int(float(text)))
    except ValueError:
        return text
