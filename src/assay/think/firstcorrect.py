"""Finding the first step of a trace that reaches the correct answer: by rule, or by an LLM judge.

The rule reads candidate answers out of each step and compares them with the target by the eval's math
equivalence (normalised strings, numbers, then math-verify in ``MathChecker``'s process pool):

- explicit answers, line by line: ``\\boxed{}``, "the answer is ...", "Final Answer: ...", ``#### N``
  (:func:`assay.eval.scoring.math.extract_math_answer` in strict mode);
- results of equations: what follows the last ``=`` of a sentence, up to the end of the math or the next
  clause ("so x = 3, which..." gives ``3``; "1/2 + 1/4 = 3/4" gives ``3/4``, never ``1/2 + 1/4``).

Bare numbers are not candidates (a "3" in "3 cases" is not an answer), so a step that reaches the answer in
words alone is missed by the rule; the LLM judge (EvalScope's method) reads the steps as a whole.
Explicit answers also delimit *solutions*, the units of the process efficiency of Chen et al. (2024).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from assay.eval.scoring.math import extract_boxed, extract_math_answer
from assay.think.splitting import Step

_MAX_CANDIDATE_CHARS = 200
_BOXED = re.compile(r"\\(?:boxed|fbox)\b")
_SENTENCE_END = re.compile(r"(?<=[^\d\s])\.\s|\.\s+(?=[A-Z])|[?!。]\s*|\n")
_EQUALS = re.compile(r"(?<![<>!=:\\])=(?!=)")
_RHS_END = re.compile(r"\$|\\\]|\\\)|,\s|;|\s+(?:[a-z]{2,}|[A-Z][a-z]+)\b|\s*\.$")


class Equality(Protocol):
    """What the finder needs of ``MathChecker``: an awaitable equivalence check (None: undecided)."""

    async def aequal(self, pred: str, target: str) -> bool | None: ...


def explicit_answers(text: str) -> list[str]:
    """Every explicit answer in ``text``, in order: each ``\\boxed{}``, and per line an answer marker."""
    found: list[str] = []
    starts = [m.start() for m in _BOXED.finditer(text)]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        boxed = extract_boxed(text[start:end])
        if boxed:
            found.append(boxed)
    for line in text.splitlines():
        if _BOXED.search(line):
            continue  # already read above
        extraction = extract_math_answer(line, strict=True)
        if extraction is not None and extraction.answer.strip():
            found.append(extraction.answer.strip())
    return [a for a in found if len(a) <= _MAX_CANDIDATE_CHARS]


def equation_results(text: str) -> list[str]:
    """The right-hand side of the last ``=`` of each sentence, trimmed to the math."""
    results = []
    for sentence in _SENTENCE_END.split(text):
        equals = list(_EQUALS.finditer(sentence))
        if not equals:
            continue
        rhs = sentence[equals[-1].end():]
        cut = _RHS_END.search(rhs)
        if cut is not None:
            rhs = rhs[: cut.start()]
        rhs = rhs.strip().rstrip(".").strip()
        if rhs and len(rhs) <= _MAX_CANDIDATE_CHARS:
            results.append(rhs)
    return results


def candidate_answers(text: str) -> list[str]:
    """The answers a step states or computes (explicit answers first), without repeats."""
    seen: dict[str, None] = {}
    for candidate in [*explicit_answers(text), *equation_results(text)]:
        seen.setdefault(candidate, None)
    return list(seen)


async def reaches(text: str, target: str, equality: Equality) -> bool:
    """Whether any candidate answer of ``text`` equals ``target``."""
    for candidate in candidate_answers(text):
        if await equality.aequal(candidate, target):
            return True
    return False


async def first_correct_by_rule(steps: Sequence[Step], target: str, equality: Equality) -> int | None:
    """The index of the first step whose candidates include the target, or ``None`` when none does."""
    for step in steps:
        if await reaches(step.text, target, equality):
            return step.index
    return None


# ---------------------------------------------------------------------------------------------- judge

JUDGE_TEMPLATE = (
    "Below are a math problem, its correct answer, and a model's reasoning cut into numbered paragraphs.\n"
    "Find the first paragraph in which the reasoning reaches the correct answer: it states or computes a "
    "value equal to the correct answer (count it even if the model later doubts or re-checks it).\n"
    "Reply with that paragraph's number alone, written as \\boxed{{N}}. Reply \\boxed{{0}} if no paragraph "
    "reaches the correct answer.\n\n"
    "Problem:\n{problem}\n\nCorrect answer: {answer}\n\nReasoning:\n{paragraphs}"
)


def judge_prompt(problem: str, answer: str, steps: Sequence[Step]) -> str:
    """The judge's question for one trace; paragraphs are numbered from 1."""
    paragraphs = "\n\n".join(f"<paragraph_{s.index + 1}>\n{s.text}\n</paragraph_{s.index + 1}>" for s in steps)
    return JUDGE_TEMPLATE.format(problem=problem.strip(), answer=answer, paragraphs=paragraphs)


def parse_judge_reply(reply: str, step_count: int) -> int | None | Any:
    """The 0-based step the judge named, ``None`` for "no paragraph", or ``UNREADABLE``."""
    boxed = extract_boxed(reply or "")
    text = boxed if boxed is not None else (reply or "")
    numbers = re.findall(r"-?\d+", text)
    if not numbers:
        return UNREADABLE
    number = int(numbers[-1] if boxed is None else numbers[0])
    if number <= 0:
        return None
    if number > step_count:
        return UNREADABLE
    return number - 1


UNREADABLE = object()


@dataclass
class SolutionSplit:
    """The solutions of a trace: the end (character index) of each, and each one's closing answer."""

    ends: list[int]
    answers: list[str | None]


def split_solutions(text: str, steps: Sequence[Step]) -> SolutionSplit:
    """Solutions as in Chen et al. (2024): a solution ends at a step that states an explicit answer; steps
    after the last such answer belong to the last solution; a trace with no explicit answer is one solution."""
    ends: list[int] = []
    answers: list[str | None] = []
    for step in steps:
        explicit = explicit_answers(step.text)
        if explicit:
            ends.append(step.end)
            answers.append(explicit[-1])
    if not ends:
        return SolutionSplit([len(text)], [None])
    ends[-1] = len(text)
    return SolutionSplit(ends, answers)


async def distinct_solutions(answers: Sequence[str | None], equality: Equality) -> list[bool]:
    """Which solutions are distinct: the first always; a later one when its answer equals no earlier one's.

    The paper has GPT-4o cluster solutions by reasoning strategy; a new answer is our rule-based stand-in
    for a new perspective (a re-check that lands on the same answer adds nothing new).
    """
    flags: list[bool] = []
    for i, answer in enumerate(answers):
        if i == 0:
            flags.append(True)
            continue
        if answer is None:
            flags.append(False)
            continue
        same = False
        for earlier in answers[:i]:
            if earlier is not None and await equality.aequal(answer, earlier):
                same = True
                break
        flags.append(not same)
    return flags
