"""SimpleQA: 4,326 short fact-seeking questions, each with one indisputable answer, graded by an LLM judge.

Wei et al., "Measuring short-form factuality in large language models", OpenAI 2024 (arXiv:2411.04368). Hugging
Face ``basicv8vc/SimpleQA`` (the published ``simple_qa_test_set.csv``), ModelScope ``evalscope/SimpleQA``;
split ``test``; fields ``metadata`` (a Python-literal dict: ``topic``, ``answer_type``, ``urls``), ``problem``,
``answer``. MIT (openai/simple-evals).

Protocol, as in simple-evals: the question alone as the user message; the judge (``judge_model_args``) grades
the answer against the gold answer as A CORRECT / B INCORRECT / C NOT_ATTEMPTED under the paper's rules, which
the grader prompt below restates in its own words and examples (``assay.eval.scoring.factuality`` reads the
grade and computes the metrics). Reported: ``is_correct``, ``is_incorrect``, ``is_not_attempted`` (means),
``correct_given_attempted`` and the headline ``f_score`` (the harmonic mean of the two), both from the sums
over the samples (per subset too).

Where assay differs: a judge reply with no readable grade is a judge error, left ungraded and counted apart
(simple-evals and EvalScope read it as NOT_ATTEMPTED); EvalScope also wraps the question in "Answer the
question:", which assay does not; the grader prompt is assay's wording of the published rules, not the
published text, so a judge may grade a borderline answer differently. SimpleQA has no rule-based grading: the
judge is required (``judge_strategy`` auto or llm; rule is refused at start).
"""

from __future__ import annotations

import ast
from typing import Any, ClassVar

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import JudgedBenchmark
from assay.eval.report import DerivedMetrics
from assay.eval.scoring.factuality import (
    RATIO_METRICS,
    SAMPLE_METRICS,
    describe,
    grade_values,
    parse_grade,
    ratio_metrics,
)
from assay.types import Message, Sample, Score

GRADER_TEMPLATE = """You grade answers to short factual questions. You see a question, its gold answer and a \
predicted answer, and give the predicted answer one of three grades: CORRECT, INCORRECT or NOT_ATTEMPTED.

CORRECT: the predicted answer contains the key facts of the gold answer and nothing that contradicts it.
- Only meaning counts: wording, capitalisation, punctuation, word order and extra true detail do not matter.
- A hedged or guessing answer is CORRECT if it still commits to the gold answer and says nothing wrong \
("I believe it was Marie Curie, though I would double-check").
- A slightly misspelt name that is clearly the same person or place is still CORRECT.

INCORRECT: some factual statement in the predicted answer contradicts the gold answer.
- Hedging does not save a wrong claim: "it might be 1912, I am not sure" against gold 1905 is INCORRECT.
- Several candidate answers of which some are wrong ("either Lyon or Marseille") are INCORRECT.
- A partial list that adds a wrong item, or a wrong count ("she had three children" against two), is INCORRECT.

NOT_ATTEMPTED: the key facts of the gold answer are missing and nothing contradicts them.
- "I don't know", a refusal, a request for more context, or related facts without the answer asked for \
(for gold "Ljubljana": "It is the capital of a country in Central Europe, but I cannot recall which city").

Also:
- Numbers: the predicted number must match the gold answer to the gold's last significant figure. For gold \
"3.2 million", "3.2 million" and "3.24 million" are CORRECT, "2.9 million" is INCORRECT, and vague bounds such \
as "over a million" or "a few million" are NOT_ATTEMPTED.
- The gold answer may say more than the question asks; the predicted answer needs only what the question asks \
(gold "Season 3, episode 7: The Storm" to "Which episode ...": "episode 7 of season 3" or "The Storm" is CORRECT).
- Information the question itself implies may be left out (the question asks for a height in metres: "1.82" \
is CORRECT for gold "1.82 m"; the question names the family: a first name is CORRECT).

Grade this example:
Question: {question}
Gold answer: {reference}
Predicted answer: {candidate}

Reply with one letter only:
A: CORRECT
B: INCORRECT
C: NOT_ATTEMPTED"""


class FactualityBenchmark(JudgedBenchmark):
    """Short-answer factuality graded A/B/C by the LLM judge; the report's ratios come from sums over samples."""

    task_type = "qa"
    default_judge_mode: ClassVar[str] = "llm"
    needs_judge: ClassVar[bool] = True
    # The judge grades every answer whatever the strategy says (there is no rule to try first), and the
    # metrics are the three grades, not the "acc" JudgedBenchmark adds.
    judge_grades_acc: ClassVar[bool] = False
    metrics = SAMPLE_METRICS
    main_metric = "f_score"
    judge_system: ClassVar[str | None] = None
    judge_template: ClassVar[str] = GRADER_TEMPLATE
    protocol_note = "the question as one user message"

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(str(sample.metadata["question"]))]

    def derived_metrics(self) -> DerivedMetrics:
        return DerivedMetrics(names=RATIO_METRICS, inputs=("is_correct", "is_incorrect"), compute=ratio_metrics)

    # ---- grading -----------------------------------------------------------------------------------

    def score(self, sample: Sample, answer: str) -> Score:
        return Score(values=grade_values(None), extracted=answer.strip() or None,
                     explanation=f"{self.name} is graded by an LLM judge; none configured")

    def judge_messages(self, sample: Sample, answer: str) -> list[Message]:
        """The grader prompt for ``answer``: the benchmark's own, or ``judge_model_args.prompt_template`` (and
        ``system_prompt``) where the user set one."""
        from assay.eval.scoring.judge import render_judge_prompt

        config = self.llm_judge.config
        template = config.prompt_template or self.judge_template
        system = config.system_prompt if "system_prompt" in config.model_fields_set else self.judge_system
        prompt = render_judge_prompt(str(sample.metadata["question"]), str(sample.target), answer.strip(), template)
        return [*([Message.system(system)] if system else []), Message.user(prompt)]

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        if self.llm_judge is None:
            return self.score(sample, answer)
        reply = await self.llm_judge.ask(self.judge_messages(sample, answer))
        grade = None if reply.error is not None else parse_grade(reply.text)
        record = {"model": self.llm_judge.config.model_id, "prompt": reply.prompt, "reply": reply.text,
                  "grade": grade, "error": reply.error, "cached": reply.cached}
        # A failed request (``error``) is asked again when the run is resumed; an unreadable reply is not.
        explanation = f"judge failed ({reply.error}); not graded" if reply.error is not None else describe(grade)
        return Score(values=grade_values(grade), extracted=answer.strip() or None, explanation=explanation,
                     metadata={"judge": record})

    def scoring_fingerprint(self) -> dict[str, Any]:
        fingerprint = super().scoring_fingerprint()
        fingerprint["grader"] = {"system": self.judge_system, "template": self.judge_template}
        return fingerprint

    def protocol(self) -> str:
        judge = self.llm_judge.config.model_id if self.llm_judge is not None else "(no judge)"
        return (f"0-shot; {self.protocol_note}; graded A CORRECT / B INCORRECT / C NOT_ATTEMPTED by LLM judge "
                f"{judge}; correct_given_attempted = correct / (correct + incorrect), f_score = their harmonic "
                "mean with is_correct, both from sums over the samples; an unreadable grade is ungraded")


def literal_metadata(value: Any) -> dict[str, Any]:
    """SimpleQA's ``metadata`` column: a Python-literal dict in the CSV (single quotes), a dict in other copies."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


@register_benchmark("simple_qa", task_type="qa", tags=("en", "knowledge", "factuality", "llm_judge"))
class SimpleQA(FactualityBenchmark):
    """SimpleQA (Wei et al., 2024): short factual questions, graded CORRECT / INCORRECT / NOT_ATTEMPTED."""

    version = "1"
    source = HubDataset(hubs=(("modelscope", "evalscope/SimpleQA"), ("huggingface", "basicv8vc/SimpleQA")),
                        split="test", aliases=("simpleqa",))
    licence = "MIT"

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        info = literal_metadata(row.get("metadata"))
        metadata = {"question": str(row["problem"]), **{key: info[key] for key in ("topic", "answer_type", "urls")
                                                         if key in info}}
        return Sample(id=str(index), target=str(row["answer"]), subset=subset, metadata=metadata)
