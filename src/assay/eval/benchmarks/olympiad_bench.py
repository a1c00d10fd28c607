"""OlympiadBench: open-ended olympiad mathematics (and physics) problems with a closed-form final answer.

He et al., "OlympiadBench: A Challenging Benchmark for Promoting AGI with Olympiad-Level Bilingual Multimodal
Scientific Problems", ACL 2024 (arXiv:2402.14008). 8,476 problems from olympiads and the Chinese college
entrance exam, in configs named by question type (``OE`` open-ended, ``TP`` theorem proving), modality (``TO``
text-only, ``MM`` with images), subject, language and source. assay runs the text-only English open-ended ones:
``OE_TO_maths_en_COMP`` (674 problems) and ``OE_TO_physics_en_COMP`` (236); ``subset_list`` picks one. HF
``Hothan/OlympiadBench``, ModelScope ``AI-ModelScope/OlympiadBench`` (EvalScope's ``olympiad_bench``, the name
kept here), a config per subset, split ``train``; fields ``id``, ``question``, ``final_answer`` (a list of
strings, the several answers of a multiple-answer problem joined by commas in its first), ``is_multiple_answer``,
``unit``, ``answer_type`` (Numerical, Expression, Equation, Interval, Tuple; comma-separated per answer),
``error`` (an absolute tolerance, one per answer when comma-separated) and ``context`` (a physics problem's
shared set-up, sent before the question as the paper does).

Prompt: the paper's (its ``Evaluator.make_prompt``), which names the answer type and the unit convention and asks
to end with "So the final answer is \\boxed{answer}." (``\\boxed{multiple answers connected with commas}``).
Grading, as the paper's judge: the boxed answers after the last "So the final answer is" (else the solution's
last boxed answer), a unit stripped, each answer equal to one target with every target matched, order free;
numbers within ``error`` where the row gives one. Where assay differs: equivalence is assay's math checker
(normalised strings, exact numbers, math-verify) rather than the paper's sympy judge, so numbers without an
``error`` agree to a relative 1e-4 (the paper: absolute 1e-8, or the target times 100 or over 100), and the
tolerance applies to plain numbers only (``14\\sqrt{2}`` is compared exactly with ``19.8``, where the paper
evaluates it); without the marker only the last boxed answer counts (the paper joins every box in the solution).
"""

from __future__ import annotations

import re
from typing import Any

from assay.data import HubDataset
from assay.errors import DatasetError
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark, final_answer
from assay.types import Message, Sample, Score

SUBSETS = ("OE_TO_maths_en_COMP", "OE_TO_physics_en_COMP")

_TYPE_TEXT = {"Numerical": "a numerical value", "Expression": "an expression", "Equation": "an equation",
              "Interval": "an interval"}
_MARKER = re.compile(r"So the final answer is", re.IGNORECASE)
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_UNIT_COMMAND = re.compile(r"\s*(?:\\[,;:!]|~|\\quad)*\s*\\(?:mathrm|text|rm|mbox|operatorname)\s*\{[^{}]*\}"
                           r"(?:\s*(?:\^\{?-?\d\}?|/|\\cdot)\s*(?:\\(?:mathrm|text|rm)\s*\{[^{}]*\})?)*\s*$")
_PLAIN_UNIT = re.compile(r"(?<=[\d}])(?:\s|~|\\,)+[A-Za-z\u00b0\u03bc\u03a9][A-Za-z\u03bc\u03a9/^{}()\d\s*.-]*$")


def _type_text(answer_type: str) -> str | None:
    """The phrase the paper's prompt uses for one answer type ("a numerical value"); None for one it lacks."""
    answer_type = answer_type.split("-")[0]
    return next((text for name, text in _TYPE_TEXT.items() if name in answer_type), None)


def answer_type_sentence(answer_type: str, multiple: bool) -> str:
    """The prompt's sentence on the answer type; none for tuples (whose meaning varies), human-graded rows and
    types the paper's prompt has no phrase for."""
    if not answer_type or "Tuple" in answer_type or "Need_human_evaluate" in answer_type:
        return ""
    texts = [_type_text(part) for part in (answer_type.split(",") if multiple else [answer_type])]
    if None in texts:
        return ""
    if not multiple:
        return f"The answer of The problem should be {texts[0]}. "
    if len(set(texts)) == 1:
        return f"The problem has multiple answers, each of them should be {texts[0]}. "
    return f"The problem has multiple answers, with the answers in order being {', '.join(texts)}. "


def make_prompt(question: str, *, subject: str, answer_type: str, multiple: bool, unit: str | None,
                context: str | None = None) -> str:
    """The paper's English open-ended prompt, then the (physics: context and) question."""
    boxed = "\\boxed{multiple answers connected with commas}" if multiple else "\\boxed{answer}"
    unit_text = ""
    if unit:
        boxed += "(unit)"
        unit_text = ", note that the unit of the answer should not be included in \\boxed{}"
    instruction = (
        f"The following is an open-ended problem from an International {subject} competition. "
        f"{answer_type_sentence(answer_type, multiple)}Please calculate the answer according to the given "
        "requirements and the information provided. Please use LaTeX format to represent the variables and "
        f"formulas used in the solution process and results. Please end your solution with \"So the final "
        f"answer is {boxed}.\" and give the result explicitly{unit_text}."
    )
    body = f"{context}\n{question}" if context and subject == "Physics" else question
    return f"{instruction}\n{body}"


def split_answers(text: str) -> list[str]:
    """``text`` cut at its top-level commas: ``(1,2), [3,4)`` is two answers, ``1,2`` two, ``\\{1,2\\}`` one."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:index])
            start = index + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def _boxed_all(text: str) -> list[str]:
    """The contents of every complete ``\\boxed{...}`` in ``text``, in order."""
    from assay.eval.scoring.equivalence import balanced_group

    found = []
    for match in _BOXED.finditer(text):
        content = balanced_group(text, match.end() - 1)
        if content is not None and content.strip():
            found.append(content.strip())
    return found


def extract_answers(text: str, multiple: bool) -> list[str]:
    """The model's final answer(s): the boxes after the last "So the final answer is" (several boxes, or one with
    commas, for a multiple-answer problem), else the written answer on that line, else the last boxed answer
    (or answer statement, or number) of the solution. Empty: no answer found."""
    markers = list(_MARKER.finditer(text))
    found: list[str] = []
    if markers:
        span = text[markers[-1].end():]
        boxes = _boxed_all(span)
        if boxes:
            found = boxes if multiple else [boxes[-1]]
        else:
            line = span.strip().split("\n", 1)[0].strip().strip(":").strip().rstrip(".").strip().strip("$").strip()
            found = [line] if line else []
    if not found:
        extraction = final_answer(text)
        found = [extraction.answer] if extraction is not None else []
    if multiple:
        return [item for answer in found for item in split_answers(answer)]
    return found


def strip_unit(answer: str, unit: str | None, numerical: bool = False) -> str:
    """The answer without a unit written after it (the prompt asks for none in the box; models add one): a
    ``\\mathrm{}``/``\\text{}`` unit, the row's own unit as written, and after a number (numerical answers only,
    where no variable can follow) a plain one such as ``m/s``."""
    if not unit:
        return answer
    answer = _UNIT_COMMAND.sub("", answer)
    plain = unit.strip().strip("$").strip()
    if plain and answer.endswith(plain) and answer[: -len(plain)].strip():
        answer = answer[: -len(plain)]
    if numerical:
        answer = _PLAIN_UNIT.sub("", answer)
    return answer.strip().rstrip("~").rstrip("\\,").strip()


def _tolerances(error: Any, count: int) -> list[float | None]:
    """One absolute tolerance per target answer (the paper: one for all, or one each, comma-separated)."""
    if error is None or str(error).strip() == "":
        return [None] * count
    values = [float(part) if part.strip() else None for part in str(error).split(",")]
    if len(values) == 1:
        return values * count
    return (values + [None] * count)[:count]


def within(pred: str, target: str, tolerance: float | None) -> bool | None:
    """Whether two numbers lie within ``tolerance``; None when there is none or either is not a number."""
    if tolerance is None:
        return None
    from assay.eval.scoring.math import clean_math_answer, parse_number

    got, want = parse_number(clean_math_answer(pred)), parse_number(clean_math_answer(target))
    if not got or not want:
        return None
    return any(abs(float(a) - float(b)) <= tolerance * 1.01 for a in got for b in want)


def match_all(equal: list[list[bool | None]]) -> bool | None:
    """Whether every target (row) pairs with its own prediction (column) that equals it: a perfect matching
    of the equality table, so order does not matter. None when only undecided checks stand in the way."""
    if not equal or len(equal) != len(equal[0]):
        return False

    def matching(table: list[list[bool]]) -> bool:
        owner: dict[int, int] = {}

        def place(row: int, seen: set[int]) -> bool:
            for col, ok in enumerate(table[row]):
                if ok and col not in seen:
                    seen.add(col)
                    if col not in owner or place(owner[col], seen):
                        owner[col] = row
                        return True
            return False

        return all(place(row, set()) for row in range(len(table)))

    if matching([[cell is True for cell in row] for row in equal]):
        return True
    if any(cell is None for row in equal for cell in row) and matching([[cell is not False for cell in row]
                                                                         for row in equal]):
        return None
    return False


PENDING = "pending"  # a cell of the equality table still to be decided by the math checker


def _pending(table: list[list[Any]]) -> list[tuple[int, int]]:
    return [(i, j) for i, row in enumerate(table) for j, cell in enumerate(row) if cell == PENDING]


@register_benchmark("olympiad_bench", task_type="math", tags=("en", "math", "physics", "reasoning"))
class OlympiadBench(MathBenchmark):
    """OlympiadBench (He et al., 2024): text-only English open-ended olympiad problems, boxed final answers."""

    version = "1"
    subsets = SUBSETS
    source = HubDataset(hubs=(("huggingface", "Hothan/OlympiadBench"), ("modelscope", "AI-ModelScope/OlympiadBench")),
                        split="train", subset_is_config=True, aliases=("OlympiadBench",))
    licence = "Apache-2.0"
    protocol_note = ("the paper's prompt (answer type, 'So the final answer is \\boxed{}'); boxed answer(s) after "
                     "the last marker, every target matched order-free by the math checker, 'error' as tolerance")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        given = row["final_answer"] or []
        answers = [str(answer).strip() for answer in ([given] if isinstance(given, str) else given)
                   if str(answer).strip()]
        if not answers:
            raise DatasetError(f"olympiad_bench row {row.get('id', index)} has no final_answer (a theorem-proving "
                               "row? only the open-ended configs can be graded)")
        multiple = bool(row.get("is_multiple_answer"))
        targets = [item.strip("$").strip() for item in answers]
        if multiple and len(targets) == 1:
            targets = split_answers(targets[0])
        subject = row.get("subject") or ("Physics" if "physics" in subset else "Math")
        unit = row.get("unit") or None
        answer_type = str(row.get("answer_type") or "")
        question = make_prompt(row["question"], subject=subject, answer_type=answer_type, multiple=multiple,
                               unit=unit, context=row.get("context"))
        return Sample(id=str(row.get("id", index)), target=", ".join(targets), subset=subset,
                      metadata={"question": question, "targets": targets, "is_multiple_answer": multiple,
                                "unit": unit, "answer_type": answer_type, "error": row.get("error"),
                                "subfield": row.get("subfield")})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(sample.metadata["question"])]

    def score(self, sample: Sample, answer: str) -> Score:
        from assay.eval.scoring.math import math_equal

        preds, table = self._table(sample, answer)
        for cell in _pending(table) if len(preds) == len(table) else []:  # else no matching can exist
            table[cell[0]][cell[1]] = math_equal(preds[cell[1]], sample.metadata["targets"][cell[0]])
        return self._verdict(sample, preds, table)

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        # The symbolic checks go to the checker's worker processes; then the LLM judge where judge_strategy asks.
        if checker is None:
            rule = self.score(sample, answer)
        else:
            preds, table = self._table(sample, answer)
            for cell in _pending(table) if len(preds) == len(table) else []:
                table[cell[0]][cell[1]] = await checker.aequal(preds[cell[1]], sample.metadata["targets"][cell[0]])
            rule = self._verdict(sample, preds, table)
        return await self.judged(sample, answer, rule, rule.values.get("acc") == 1.0)

    def _table(self, sample: Sample, answer: str) -> tuple[list[str], list[list[bool | None | str]]]:
        """The model's answers, and per target a row over them: decided by the tolerance, or ``PENDING``."""
        meta = sample.metadata
        numerical = "Numerical" in meta.get("answer_type", "")
        preds = [strip_unit(pred, meta.get("unit"), numerical)
                 for pred in extract_answers(answer, meta["is_multiple_answer"])]
        targets = list(meta["targets"])
        table: list[list[bool | None | str]] = []
        for target, tolerance in zip(targets, _tolerances(meta.get("error"), len(targets))):
            row: list[bool | None | str] = []
            for pred in preds:
                close = within(pred, target, tolerance)
                row.append(PENDING if close is None else close)
            table.append(row)
        return preds, table

    @staticmethod
    def _verdict(sample: Sample, preds: list[str], table: list[list[Any]]) -> Score:
        if not preds:
            return Score(values={"acc": 0.0}, extracted=None, explanation="no final answer found")
        verdict = match_all(table)
        targets = sample.metadata["targets"]
        explanation = None
        if verdict is None:
            explanation = "equivalence check undecided"
        elif not verdict and len(preds) != len(targets):
            explanation = f"{len(preds)} answers for {len(targets)} targets"
        return Score(values={"acc": None if verdict is None else float(verdict)}, extracted=", ".join(preds),
                     explanation=explanation, metadata={"answers": len(preds)})
