"""MT-Bench: 80 two-turn questions graded by an LLM judge.

Zheng et al., "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", NeurIPS 2023 (arXiv:2306.05685).
80 questions in 8 categories of 10 (writing, roleplay, reasoning, math, coding, extraction, stem, humanities),
each two user turns, the second a follow-up to the first. HF ``HuggingFaceH4/mt_bench_prompts``, split
``train``: ``prompt`` (the two turns), ``prompt_id``, ``category``, ``reference`` (the two reference answers of
the math, reasoning and coding questions, empty elsewhere). FastChat's own ``question.jsonl`` (``question_id``,
``category``, ``turns``, ``reference``) reads the same. Licence Apache-2.0.

The model answers turn 1, then turn 2 with its own first answer in the conversation (the runner's multi-turn
hook: ``next_turn``; the first answer is stored with the second in the prediction).

Protocol (``mode``):

- ``single`` (the paper's headline): the judge rates each turn from 1 to 10 and ends its reply with
  ``Rating: [[N]]``. Math, reasoning and coding questions show the judge the reference answer; the turn-2
  judge sees the whole conversation and grades only the second answer. ``score_turn1``, ``score_turn2`` and
  ``score`` (the mean of both turns of a question) per category (the subsets) and overall, on the paper's
  1-10 scale. A judge reply with no readable rating, like a failed judge request, leaves the turn ungraded
  (counted apart, never as a low score) and is asked again when the run is resumed.
- ``pairwise``: each turn is compared with a baseline's answer by the judge in both orders
  (``assay.eval.scoring.pairwise``, the verdicts ``[[A]]``, ``[[B]]``, ``[[C]]`` for a tie); a turn is won only
  when both orders prefer the model, lost only when both prefer the baseline, otherwise tied (the paper's
  consistency rule). ``win_rate`` counts a tie as half; ``tie_rate`` is the share of tied turns. The baseline
  answers come from ``baseline_answers`` (a FastChat ``model_answer/<model>.jsonl`` or rows of ``{question_id
  or prompt_id, turns: [a1, a2]}``) or a second model (``baseline_model_args``) asked both turns in the run.
  Answers are matched by id: FastChat's answer files carry FastChat's ``question_id`` (81-160), so run them
  with FastChat's ``question.jsonl`` as the dataset; the HF copy's ``prompt_id`` is a hash of the prompt. As
  in ``pairwise.py``, a failed judge request is asked again on resume; a reply naming no verdict stays
  ungraded.

The mode is a grading setting: a finished run resumed in the other mode grades its stored answers again. The
model's first answer goes back to it as it was given (its content; reasoning returned apart is not sent).

Where assay differs: the judge prompts are assay's wording of the paper's protocol (the same material, markers
and rating format); the paper's judge was GPT-4 (temperature 0, 2048 tokens), here any ``judge_model_args``.
FastChat samples the model at a temperature per category (writing and roleplay 0.7, stem and humanities 0.1,
the rest 0; 1024 new tokens); here every question gets the run's ``generation_config``.
The rating is the last ``[[N]]`` of the reply (FastChat takes the first); ``score`` of a question needs both
turns graded (FastChat averages whatever turns were graded). A question of a reference category whose row has
no reference is graded with the general prompt.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any, ClassVar, Literal

import orjson
from pydantic import Field

from assay.data import HubDataset
from assay.data.readers import read_rows
from assay.errors import ConfigError, DatasetError
from assay.eval.benchmarks.base import BenchmarkParams, register_benchmark
from assay.eval.benchmarks.common import JudgedBenchmark
from assay.eval.benchmarks.pairwise import close_baseline_model, make_baseline_model
from assay.eval.filters import apply_filters
from assay.eval.scoring.judge import parse_rating
from assay.eval.scoring.pairwise import PairResult, PairwiseJudge
from assay.types import Completion, Message, Sample, Score

CATEGORIES = ("writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities")
REFERENCE_CATEGORIES = ("math", "reasoning", "coding")  # FastChat's NEED_REF_CATS
TURNS = 2

# ---- single-answer grading ------------------------------------------------------------------------------

RATING_SYSTEM = """You are an impartial judge of the answers an AI assistant gives to users. Weigh how helpful, \
relevant, accurate and detailed the answer is, how deep and creative where that matters. Be objective. Start \
with a short explanation of your judgement, then rate the answer from 1 (worst) to 10 (best) and end with the \
rating in exactly this form: "Rating: [[N]]", for example "Rating: [[6]]"."""

REFERENCE_RATING_SYSTEM = """You are an impartial judge of the answers an AI assistant gives to users. The \
question has a reference answer: weigh above all whether the assistant's answer is correct, then how helpful \
it is. Compare the answer with the reference, and point out and correct its mistakes. Be objective. Start with \
a short explanation of your judgement, then rate the answer from 1 (worst) to 10 (best) and end with the rating \
in exactly this form: "Rating: [[N]]", for example "Rating: [[6]]"."""

SECOND_TURN_NOTE = """ You are shown a conversation of two turns: grade only the assistant's answer to the \
second user question, in the light of the first turn."""

RATING_TEMPLATE = """[Question]
{question}
{reference}
[The Start of the Assistant's Answer]
{answer}
[The End of the Assistant's Answer]"""

REFERENCE_BLOCK = """
[The Start of the Reference Answer]
{reference}
[The End of the Reference Answer]
"""

CONVERSATION_RATING_TEMPLATE = """{reference}<|The Start of the Assistant's Conversation with the User|>

{conversation}

<|The End of the Assistant's Conversation with the User|>"""

CONVERSATION_REFERENCE_BLOCK = """<|The Start of the Reference Answer|>

### User:
{question_1}

### Reference answer:
{reference_1}

### User:
{question_2}

### Reference answer:
{reference_2}

<|The End of the Reference Answer|>

"""

# ---- pairwise grading -----------------------------------------------------------------------------------

PAIR_SYSTEM = """You are an impartial judge. Two AI assistants answered the user question below: decide which \
answer follows the user's instructions and answers the question better, weighing helpfulness, relevance, \
accuracy, depth, creativity and detail. Where a reference answer is given, weigh correctness first and compare \
both answers with it. Do not let the order of the answers, their length or the assistants' names sway you. \
Explain your comparison briefly, then end with exactly one verdict: "[[A]]" if assistant A is better, "[[B]]" \
if assistant B is better, "[[C]]" for a tie."""

PAIR_SECOND_TURN_NOTE = """ You are shown each assistant's conversation of two turns with the user: compare \
only their answers to the second user question."""

PAIR_TEMPLATE = """{question}

[The Start of Assistant A's Answer]
{answer_a}
[The End of Assistant A's Answer]

[The Start of Assistant B's Answer]
{answer_b}
[The End of Assistant B's Answer]"""

PAIR_CONVERSATION_TEMPLATE = """{question}<|The Start of Assistant A's Conversation with the User|>

{answer_a}

<|The End of Assistant A's Conversation with the User|>

<|The Start of Assistant B's Conversation with the User|>

{answer_b}

<|The End of Assistant B's Conversation with the User|>"""


def conversation(questions: list[str], answers: list[str], speaker: str = "Assistant") -> str:
    """The turns as the judge reads them: ``### User:`` and ``### Assistant:`` blocks."""
    return "\n\n".join(f"### User:\n{q}\n\n### {speaker}:\n{a}" for q, a in zip(questions, answers))


def rating_messages(questions: list[str], answers: list[str], references: list[str] | None,
                    turn: int) -> list[Message]:
    """The judge's messages rating ``answers[turn]`` (turn 0 or 1); the turn-2 judge sees the whole conversation."""
    system = REFERENCE_RATING_SYSTEM if references else RATING_SYSTEM
    if turn == 0:
        reference = REFERENCE_BLOCK.format(reference=references[0]) if references else ""
        prompt = _fill(RATING_TEMPLATE, question=questions[0], reference=reference, answer=answers[0])
    else:
        system += SECOND_TURN_NOTE
        reference = _fill(CONVERSATION_REFERENCE_BLOCK, question_1=questions[0], reference_1=references[0],
                          question_2=questions[1], reference_2=references[1]) if references else ""
        prompt = _fill(CONVERSATION_RATING_TEMPLATE, reference=reference,
                       conversation=conversation(questions[:2], answers[:2]))
    return [Message.system(system), Message.user(prompt)]


def _fill(template: str, **fields: str) -> str:
    # str.replace, not str.format: answers are full of braces (code, LaTeX).
    for name, value in fields.items():
        template = template.replace("{" + name + "}", value)
    return template


def turn_value(values: list[float | None]) -> float | None:
    """A question's value from its turns' values: their mean, or None unless every turn was graded."""
    return None if any(v is None for v in values) else sum(values) / len(values)  # type: ignore[arg-type]


# ---- baseline answers -----------------------------------------------------------------------------------

def _turn_texts(value: Any) -> list[str] | None:
    """A list of turns as texts (plain strings, or messages with ``content``); None for anything else."""
    if isinstance(value, list) and value and all(isinstance(t, str) for t in value):
        return list(value)
    if isinstance(value, list) and value and all(isinstance(t, dict) for t in value):
        texts = [t.get("content") for t in value]
        return texts if all(isinstance(t, str) for t in texts) else None  # type: ignore[return-value]
    return None


def baseline_turns(record: dict[str, Any]) -> list[str] | None:
    """A baseline record's answers to both turns: FastChat's ``choices[0].turns``, or ``turns`` / ``answers``."""
    choices = record.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return _turn_texts(choices[0].get("turns"))
    for key in ("turns", "answers"):
        if key in record:
            return _turn_texts(record[key])
    return None


def read_baseline_file(path: str) -> dict[str, list[str]]:
    """Baseline answers by question id (``question_id``, ``prompt_id`` or ``id``) from a JSON/JSONL/CSV/parquet file."""
    try:
        records = read_rows(path)
    except DatasetError as exc:
        raise ConfigError(f"extra_params.baseline_answers: {exc}") from None
    answers: dict[str, list[str]] = {}
    for number, record in enumerate(records, 1):
        turns = baseline_turns(record) if isinstance(record, dict) else None
        key = next((record[k] for k in ("question_id", "prompt_id", "id") if isinstance(record, dict)
                    and isinstance(record.get(k), (str, int))), None)
        if turns is None or len(turns) < TURNS or key is None:
            raise ConfigError(f"extra_params.baseline_answers: {path} record {number} has no question id and two "
                              "answers (question_id or prompt_id, with choices[0].turns, turns or answers)")
        answers.setdefault(str(key), turns[:TURNS])
    return answers


# ---- the benchmark --------------------------------------------------------------------------------------

@register_benchmark("mt_bench", task_type="arena", tags=("en", "chat", "multi_turn", "llm_judge"))
class MTBench(JudgedBenchmark):
    """MT-Bench: two-turn questions, each turn rated 1-10 by the judge (or compared with a baseline's)."""

    class Params(BenchmarkParams):
        mode: Literal["single", "pairwise"] = Field(
            default="single", description="single: the judge rates each turn 1-10; pairwise: each turn against "
            "a baseline's answer, both orders.")
        baseline_answers: str | None = Field(
            default=None, description="pairwise: a file of baseline answers (FastChat model_answer/<model>.jsonl, "
            "or rows of question_id and turns).")
        baseline_model_args: dict[str, Any] | None = Field(
            default=None, description="pairwise: a second model (the judge's keys) whose answers are the baseline.")

    version = "1"
    source = HubDataset(hubs=(("huggingface", "HuggingFaceH4/mt_bench_prompts"),), split="train",
                        subset_column="category")
    licence = "Apache-2.0"
    subsets = CATEGORIES
    metrics = ("score", "score_turn1", "score_turn2")
    main_metric = "score"
    default_judge_mode: ClassVar[str] = "llm"
    needs_judge: ClassVar[bool] = True
    judge_kind: ClassVar[str] = "an LLM judge (MT-Bench)"
    judge_grades_acc: ClassVar[bool] = False  # the judge's ratings (or comparisons) are the metrics

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        params = self.params
        assert isinstance(params, MTBench.Params)
        where = f"dataset_args.{self.name}.extra_params"
        self.pairwise_mode = params.mode == "pairwise"
        if params.baseline_answers and params.baseline_model_args:
            raise ConfigError(f"{where}: give baseline_answers or baseline_model_args, not both")
        if self.pairwise_mode != bool(params.baseline_answers or params.baseline_model_args):
            raise ConfigError(f"{where}: mode pairwise needs baseline_answers or baseline_model_args" if
                              self.pairwise_mode else f"{where}: baseline answers are for mode pairwise")
        if self.pairwise_mode:
            self.metrics = ("win_rate", "win_rate_turn1", "win_rate_turn2", "tie_rate")
            self.main_metric = "win_rate"
        self._baseline_file = read_baseline_file(params.baseline_answers) if params.baseline_answers else None
        self.baseline_model: Any = (make_baseline_model(self.name, params.baseline_model_args)
                                    if params.baseline_model_args else None)
        judge = self.llm_judge
        self.pair_judges: tuple[PairwiseJudge, PairwiseJudge] | None = (
            PairwiseJudge(judge, PAIR_SYSTEM, PAIR_TEMPLATE),
            PairwiseJudge(judge, PAIR_SYSTEM + PAIR_SECOND_TURN_NOTE, PAIR_CONVERSATION_TEMPLATE),
        ) if judge is not None else None

    async def aclose(self) -> None:
        """Close the baseline model's connections."""
        await close_baseline_model(self.baseline_model)

    # ---- data --------------------------------------------------------------------------------------

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        turns = _turn_texts(row.get("prompt") if "prompt" in row else row["turns"])
        if turns is None or len(turns) != TURNS:
            raise DatasetError(f"{self.name} row {index}: expected {TURNS} turns in 'prompt' (or 'turns'), "
                               f"got {row.get('prompt', row.get('turns'))!r:.80}")
        sample_id = next((str(row[k]) for k in ("question_id", "prompt_id") if row.get(k) is not None), str(index))
        category = str(row.get("category") or subset)
        reference = _turn_texts(row.get("reference") or [])
        if category not in REFERENCE_CATEGORIES or not reference or len(reference) < TURNS:
            reference = None  # FastChat shows the reference to the judge only in these categories
        metadata: dict[str, Any] = {"question": turns[0], "turns": turns, "category": category}
        if self._baseline_file is not None and sample_id not in self._baseline_file:  # said at start, not at grading
            raise DatasetError(f"{self.name} question {sample_id}: the baseline_answers file has no answers for it "
                               "(its ids must be the dataset's: question_id for FastChat's question.jsonl, prompt_id "
                               "for the HF copy)")
        return Sample(id=sample_id, subset=subset, target=reference, metadata=metadata)

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(sample.metadata["turns"][0])]

    def next_turn(self, sample: Sample, history: list[Message]) -> list[Message] | None:
        turn = sum(message.role == "assistant" for message in history)  # the turns answered so far
        turns = sample.metadata["turns"]
        return [*history, Message.user(turns[turn])] if turn < len(turns) else None

    # ---- grading -----------------------------------------------------------------------------------

    def score(self, sample: Sample, answer: str) -> Score:
        return Score(values={metric: None for metric in self.metrics}, explanation="needs the LLM judge")

    async def ascore_completion(self, sample: Sample, completion: Completion, answer: str, checker: Any) -> Score:
        if self.llm_judge is None:
            return self.score(sample, answer)
        if len(completion.turns) != TURNS - 1:
            return Score(values={metric: None for metric in self.metrics},
                         explanation=f"the answer holds {len(completion.turns) + 1} turns, not {TURNS}")
        answers = [apply_filters(turn.text, self.args.filters).text for turn in completion.turns] + [answer]
        if self.pairwise_mode:
            return await self._compare(sample, answers)
        return await self._rate(sample, answers)

    async def _ask_rating(self, messages: list[Message]) -> dict[str, Any]:
        """One turn's rating; a cached reply with no readable rating (from an earlier run) is asked again."""
        reply = await self.llm_judge.ask(messages)
        if reply.cached and parse_rating(reply.text) is None:
            reply = await self.llm_judge.ask(messages, fresh=True)
        rating = None if reply.error is not None else parse_rating(reply.text)
        error = reply.error or (None if rating is not None else "no readable rating ('Rating: [[N]]')")
        return {"rating": rating, "prompt": reply.prompt, "reply": reply.text, "error": error,
                "cached": reply.cached}

    async def _rate(self, sample: Sample, answers: list[str]) -> Score:
        questions, references = sample.metadata["turns"], sample.target
        calls = await asyncio.gather(*(self._ask_rating(rating_messages(questions, answers, references, turn))
                                       for turn in range(TURNS)))
        ratings = [call["rating"] for call in calls]
        values = {"score": turn_value(ratings), "score_turn1": ratings[0], "score_turn2": ratings[1]}
        errors = [f"turn {n}: {call['error']}" for n, call in enumerate(calls, 1) if call["error"]]
        explanation = ("; ".join(errors) + "; not graded" if errors
                       else f"rated {ratings[0]:g} and {ratings[1]:g} out of 10")
        metadata: dict[str, Any] = {"judge_turns": calls, "judge_errors": len(errors)}
        if errors:
            # The runner asks again on resume for a score whose judge failed: an unreadable rating counts too.
            metadata["judge"] = {"error": "; ".join(errors)}
        return Score(values=values, extracted=answers, explanation=explanation, metadata=metadata)

    async def _baseline(self, sample: Sample) -> tuple[list[str] | None, str | None]:
        """The baseline's answers to both turns (the second model answers turn 2 after its own turn 1)."""
        if self._baseline_file is not None:  # read at grading: a stored sample graded again gets them too
            return self._baseline_file[sample.id], None
        self.baseline_model.cache = self.llm_judge.cache  # one cache file per run, keyed by model and prompt
        messages = list(sample.messages or self.prompt(sample, []))
        answers: list[str] = []
        for turn in range(TURNS):
            if turn:
                following = self.next_turn(sample, [*messages, Message.assistant(answers[-1])])
                assert following is not None
                messages = following
            reply = await self.baseline_model.ask(messages)
            if reply.error is not None or not reply.text:
                return None, f"turn {turn + 1}: {reply.error or 'the baseline model gave an empty answer'}"
            answers.append(reply.text)
        return answers, None

    async def _compare(self, sample: Sample, answers: list[str]) -> Score:
        assert self.pair_judges is not None
        baseline, error = await self._baseline(sample)
        if baseline is None:
            return Score(values={metric: None for metric in self.metrics},
                         explanation=f"baseline answer failed ({error}); not graded",
                         metadata={"baseline_error": error, "judge": {"error": error}})
        questions, references = sample.metadata["turns"], sample.target
        first_block = f"[User Question]\n{questions[0]}\n" + (
            REFERENCE_BLOCK.format(reference=references[0]) if references else "")
        second_block = _fill(CONVERSATION_REFERENCE_BLOCK, question_1=questions[0], reference_1=references[0],
                             question_2=questions[1], reference_2=references[1]) if references else ""
        pairs: list[PairResult] = list(await asyncio.gather(
            self.pair_judges[0].compare(first_block, answers[0], baseline[0]),
            self.pair_judges[1].compare(second_block, conversation(questions, answers),
                                        conversation(questions, baseline))))
        turn_values = [pair.value for pair in pairs]
        graded = turn_value(turn_values)
        values = {"win_rate": graded, "win_rate_turn1": turn_values[0], "win_rate_turn2": turn_values[1],
                  "tie_rate": None if graded is None else sum(v == 0.5 for v in turn_values) / TURNS}
        explanation = "; ".join(f"turn {n}: {pair.describe()}" for n, pair in enumerate(pairs, 1))
        metadata: dict[str, Any] = {
            "pairwise": [[game.record() for game in pair.games] for pair in pairs],
            "judge_errors": sum(pair.judge_errors for pair in pairs),
            **({"baseline": baseline} if self.baseline_model is not None else {})}
        # As in pairwise.py: a failed judge request (not an unreadable verdict) is asked again on resume.
        failed = [game.error for pair in pairs for game in pair.games if game.error]
        if failed:
            metadata["judge"] = {"error": failed[0]}
        return Score(values=values, extracted=answers, explanation=explanation, metadata=metadata)

    # ---- identity ----------------------------------------------------------------------------------

    def scoring_fingerprint(self) -> dict[str, Any]:
        # The mode and the baseline change the grade, never the model's answers: resuming a run in another mode,
        # or with another baseline file (its answers are hashed), grades its stored answers again.
        fingerprint = super().scoring_fingerprint()
        if self.pairwise_mode:
            source = "model" if self._baseline_file is None else hashlib.sha256(
                orjson.dumps(self._baseline_file, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
            fingerprint["pairwise"] = {"baseline": source, "system": PAIR_SYSTEM + PAIR_SECOND_TURN_NOTE,
                                       "templates": [PAIR_TEMPLATE, PAIR_CONVERSATION_TEMPLATE]}
            if self.baseline_model is not None:
                fingerprint["baseline_model"] = self.baseline_model.config.fingerprint()
        else:
            fingerprint["rating"] = {"systems": [RATING_SYSTEM, REFERENCE_RATING_SYSTEM, SECOND_TURN_NOTE],
                                     "templates": [RATING_TEMPLATE, CONVERSATION_RATING_TEMPLATE]}
        return fingerprint

    def fingerprint(self) -> dict[str, Any]:
        # Its own settings only grade (scoring_fingerprint has them): the answers, hence resume, ignore them.
        fingerprint = super().fingerprint()
        extra = {k: v for k, v in fingerprint.pop("extra_params", {}).items() if k not in MTBench.Params.model_fields}
        return {**fingerprint, **({"extra_params": extra} if extra else {})}

    def protocol(self) -> str:
        judge = self.llm_judge.config.model_id if self.llm_judge is not None else "(no judge)"
        if not self.pairwise_mode:
            return (f"0-shot, two turns (turn 2 follows the model's own first answer); judge {judge} rates each "
                    "turn 1-10 ('Rating: [[N]]'), with the reference answer for math, reasoning and coding")
        baseline = (f"baseline model {self.baseline_model.config.model_id}" if self.baseline_model is not None
                    else "baseline answers from a file")
        return (f"0-shot, two turns; pairwise judge {judge} against {baseline}, each turn in both orders (a turn "
                "won only when both orders agree; ties count half)")
