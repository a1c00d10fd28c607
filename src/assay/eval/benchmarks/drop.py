"""DROP: reading comprehension that needs discrete reasoning (adding, counting, sorting, comparing) over a
paragraph; answers are numbers, dates or one or more spans of the passage.

Dua, Wang, Dasigi, Stanovsky, Singh, Gardner, "DROP: A Reading Comprehension Benchmark Requiring Discrete
Reasoning Over Paragraphs", NAACL 2019 (arXiv:1903.00161). HF ``ucinlp/drop`` (ModelScope ``AI-ModelScope/DROP``,
EvalScope's copy), split ``validation`` (9,535 questions), few-shot examples from ``train``; fields
``section_id``, ``query_id``, ``passage``, ``question``, ``answers_spans`` (``spans``, ``types``: number, date,
span). CC-BY-SA-4.0.

Protocol, as simple-evals and EvalScope's ``drop``: 3-shot, the shots being passage, question and answer, then
the passage and question asked, "Think step by step, then write a line of the form "Answer: $ANSWER"". Scoring:
the official DROP evaluator's exact match (``em``) and span-aligned F1 (``f1``, the main metric), each the best
over the gold answers (:mod:`assay.eval.scoring.drop`).

Where assay differs, deliberately:
- the answer is the text after the *last* "Answer:" (simple-evals takes the first, which may be one the model
  quotes from the examples), else the last line, not the whole reply;
- the shots are the first three of ``train`` (simple-evals draws three per question; ``few_shot_random`` does);
- gold answers from ``answers_spans``. The hub copy flattens every annotator's answer into one list (a
  two-span answer given by two annotators is ``[A, B, A, B]``), so the answers are read back: each number or
  date is an answer of its own; span entries that repeat one block (``[A, B, A, B]``) are that one answer
  (multi-span where the block has several spans); otherwise each distinct span is an answer and all of them
  together one more (the list cannot tell two annotators' single spans from one annotator's two spans). A copy
  in the original schema (``answer`` and ``validated_answers``, as AI-ModelScope/DROP) is read exactly;
- a multi-span gold is compared with the answer split into spans at commas, "and" and the like; a single-span
  gold with the whole answer.
"""

from __future__ import annotations

import re
from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import Benchmark, register_benchmark
from assay.types import Message, Sample, Score

INSTRUCTION = "You will be asked to read a passage and answer a question."
EXAMPLES_INTRO = "Some examples of passages and Q&A are provided below.\n\n# Examples"
_ANSWER_LINE = re.compile(r"answer\s*:[ \t]*([^\n]*)", re.IGNORECASE)
ANSWER_FORMAT = 'Think step by step, then write a line of the form "Answer: $ANSWER" at the end of your response.'


def gold_answers(row: dict[str, Any]) -> list[list[str]]:
    """The row's gold answers, each a list of spans (see the module docstring for how they are read)."""
    if isinstance(row.get("answer"), dict) or row.get("validated_answers"):
        return _original_answers(row)
    entries = row["answers_spans"]
    spans, types = [str(s) for s in entries.get("spans") or []], list(entries.get("types") or [])
    types += ["span"] * (len(spans) - len(types))
    answers: list[list[str]] = []
    span_entries = []
    for span, kind in zip(spans, types):
        if kind in ("number", "date"):
            answers.append([span])
        else:
            span_entries.append(span)
    block = _repeated_block(span_entries)
    if block is not None:
        answers.append(block)
    else:
        distinct = list(dict.fromkeys(span_entries))
        answers += [[span] for span in distinct]
        if len(distinct) > 1:
            answers.append(distinct)
    return _unique(answers)


def _repeated_block(items: list[str]) -> list[str] | None:
    """The shortest block that ``items`` repeats at least twice (``[A, B, A, B]`` → ``[A, B]``), or None."""
    for size in range(1, len(items) // 2 + 1):
        if len(items) % size == 0 and items == items[:size] * (len(items) // size):
            return items[:size]
    return None


def _original_answers(row: dict[str, Any]) -> list[list[str]]:
    """Answers of a row in the original DROP schema: ``answer`` and ``validated_answers`` (a list of answers, or
    the hub's columnar form, a dict of lists), each with ``number``, ``date`` (day, month, year), ``spans``."""
    validated = row.get("validated_answers") or []
    if isinstance(validated, dict):
        count = len(validated.get("spans") or validated.get("number") or [])
        validated = [{key: values[i] for key, values in validated.items() if i < len(values)} for i in range(count)]
    answers = []
    for answer in [row.get("answer") or {}, *validated]:
        spans = _original_spans(answer)
        if spans:
            answers.append(spans)
    return _unique(answers)


def _original_spans(answer: dict[str, Any]) -> list[str]:
    if str(answer.get("number") or "").strip():
        return [str(answer["number"]).strip()]
    if answer.get("spans"):
        return [str(span) for span in answer["spans"]]
    date = answer.get("date") or {}
    text = " ".join(str(date.get(part) or "") for part in ("day", "month", "year")).strip()
    return [" ".join(text.split())] if text else []


def _unique(answers: list[list[str]]) -> list[list[str]]:
    seen, unique = set(), []
    for answer in answers:
        if tuple(answer) not in seen:
            seen.add(tuple(answer))
            unique.append(answer)
    return unique


def extract_answer(reply: str) -> str | None:
    """The rest of the line after the last "Answer:" (bold markers removed), else the reply's last non-empty
    line; None for an empty reply."""
    reply = reply.split("</think>")[-1].replace("**", "")
    found = [m.group(1).strip() for m in _ANSWER_LINE.finditer(reply) if m.group(1).strip()]
    if found:
        return found[-1]
    lines = [line.strip() for line in reply.splitlines() if line.strip()]
    return lines[-1] if lines else None


def _query(sample: Sample) -> str:
    return f"Passage: {sample.metadata['passage']}\nQuestion: {sample.metadata['question']}"


@register_benchmark("drop", task_type="qa", tags=("en", "reading", "reasoning"))
class DROP(Benchmark):
    """DROP (Dua et al., 2019): 3-shot reading comprehension with discrete reasoning; official EM and F1."""

    version = "1"
    source = HubDataset(hubs=(("huggingface", "ucinlp/drop"), ("modelscope", "AI-ModelScope/DROP")),
                        split="validation")
    licence = "CC-BY-SA-4.0"
    metrics = ("em", "f1")
    main_metric = "f1"
    few_shot_split = "train"
    default_few_shot = 3
    protocol_note = ("simple-evals prompt (passage, question, 'Answer: $ANSWER'); the official DROP evaluator's "
                     "exact match and span-aligned F1, best over the gold answers")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        answers = gold_answers(row)
        return Sample(
            id=str(row.get("query_id") or index), target=", ".join(answers[0]) if answers else "", subset=subset,
            metadata={"passage": str(row["passage"]), "question": str(row["question"]), "answers": answers,
                      "section_id": row.get("section_id")})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        parts = [f"{INSTRUCTION} {EXAMPLES_INTRO}" if shots else INSTRUCTION]
        parts += [f"---\n{_query(shot)}\nAnswer: {shot.target}" for shot in shots]
        parts.append(f"# Your Task\n---\n{_query(sample)}\n\n{ANSWER_FORMAT}")
        return [Message.user("\n\n".join(parts))]

    def score(self, sample: Sample, answer: str) -> Score:
        from assay.eval.scoring.drop import best_drop_metrics

        extracted = extract_answer(answer)
        if extracted is None:
            return Score(values={"em": 0.0, "f1": 0.0}, extracted=None, explanation="no answer found")
        em, f1 = best_drop_metrics(extracted, sample.metadata["answers"])
        return Score(values={"em": em, "f1": f1}, extracted=extracted)
