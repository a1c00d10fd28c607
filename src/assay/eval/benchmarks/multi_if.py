"""Multi-IF: IFEval's verifiable instructions over a three-turn conversation, in eight languages.

He et al., "Multi-IF: Benchmarking LLMs on Multi-Turn and Multilingual Instructions Following", 2024
(arXiv:2410.15553). HF ``facebook/Multi-IF`` (ModelScope ``facebook/Multi-IF``), split ``train``: 4,501
conversations (English, Chinese, French, Hindi, Italian, Portuguese, Russian, Spanish; the ``language``
column is the subset). Each row has ``key``, ``language`` and per turn k = 1..3 ``turn_k_prompt`` (a JSON string
``{"role": "user", "content": ...}``), ``turn_k_instruction_id_list`` and ``turn_k_kwargs`` (JSON lists; the hub
CSV double-encodes the kwargs as a list of JSON strings, both forms are read). Turn k's instruction list is
cumulative: it repeats the instructions of the earlier turns, and a later turn may revise one. A few rows have
no third turn (an empty ``turn_3_prompt``); they are two-turn conversations.

Protocol (the paper's, as EvalScope's ``multi_if`` runs it): turn k sends the earlier turns' user prompts
and the model's *own* earlier answers, then turn k's prompt; each answer is graded against its turn's
instruction list by IFEval's checker (``assay.eval.scoring.ifeval``, the official rules), strict and loose.
The conversation is driven by the runner's multi-turn hook (:meth:`MultiIF.next_turn`) rather than by one
sample per (conversation, turn): a turn's prompt depends on the model's previous answer, which a separate
sample could only read after that sample finished, an ordering the runner's single pool does not have; the
hook keeps a conversation one sample, one stored result (every turn's answer in ``Completion.turns``), so
resuming and re-grading work on whole conversations.

Metrics: per turn, IFEval's four accuracies (``turn_k_prompt_level_strict_acc``, ``turn_k_inst_level_strict_acc``,
``..._loose_acc``; instruction-level ones pooled over instructions) and ``turn_k_avg_acc``, the mean of those
four, which is the paper's per-turn "average accuracy" (o1-preview: 0.877 at turn 1, 0.707 at turn 3; the
official ``metrics.py`` calls it ``turn_k_<language>_overall``);
``avg_acc`` (main) is the mean of ``turn_k_avg_acc`` over the turns asked. Subsets are the languages.

As the official code (facebookresearch/Multi-IF), the word and sentence counts detect the answer's language
first and count Chinese, Japanese and Hindi their own way (``assay.eval.scoring.ifeval_multilingual``, which
lists the two details not reproduced); every other instruction is IFEval's, under its official rules.

Where assay differs: the paper and its code report each turn's average and each language's; ``avg_acc`` over
the turns is assay's one-number summary (a conversation cut short by ``max_turns`` or a two-turn row counts in
the turns it has). ``extra_params.max_turns`` (1-3, as EvalScope's) stops the conversations early.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Mapping, Sequence

from pydantic import Field

from assay.data import HubDataset
from assay.errors import DatasetError
from assay.eval.benchmarks.base import Benchmark, BenchmarkParams, register_benchmark
from assay.eval.filters import apply_filters
from assay.eval.report import DerivedMetrics
from assay.eval.scoring.ifeval import grade_response, ifeval_metrics
from assay.eval.scoring.ifeval_multilingual import build_multilingual
from assay.types import Completion, Message, Sample, Score
from assay.types.report import MetricScore

TURNS = (1, 2, 3)
LANGUAGES = ("English", "Chinese", "French", "Hindi", "Italian", "Portuguese", "Russian", "Spanish")
IFEVAL_METRICS = ("prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc")
INSTRUCTION_LEVEL = ("inst_level_strict_acc", "inst_level_loose_acc")


def turn_metric(turn: int, metric: str) -> str:
    return f"turn_{turn}_{metric}"


PER_TURN = tuple(turn_metric(t, m) for t in TURNS for m in IFEVAL_METRICS)
DERIVED = (*(turn_metric(t, "avg_acc") for t in TURNS), "avg_acc")
# Per-sample inputs of the derived metrics: each turn's four accuracies and its instruction count (to pool).
INPUTS = (*PER_TURN, *(turn_metric(t, "instructions") for t in TURNS))


def _json(value: Any, what: str) -> Any:
    """A hub cell that may hold JSON text (the CSV) or the decoded value (a parquet or jsonl copy)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise DatasetError(f"multi_if: {what} is not JSON: {value[:80]!r}") from None
    return value


def parse_turn(row: Mapping[str, Any], turn: int) -> dict[str, Any] | None:
    """Turn ``turn`` of a row as {prompt, instruction_id_list, kwargs}; None when the row has no such turn."""
    prompt = row.get(f"turn_{turn}_prompt")
    if prompt is None or (isinstance(prompt, str) and not prompt.strip()):
        return None
    where = f"row {row.get('key')!r} turn {turn}"
    message = _json(prompt, f"{where} prompt")
    content = message.get("content") if isinstance(message, dict) else message
    if not isinstance(content, str) or not content.strip():
        raise DatasetError(f"multi_if: {where}: the prompt has no content")
    ids = _json(row.get(f"turn_{turn}_instruction_id_list"), f"{where} instruction_id_list") or []
    kwargs = [_json(k, f"{where} kwargs") or {} for k in _json(row.get(f"turn_{turn}_kwargs"), f"{where} kwargs")
              or []]
    if not ids or len(ids) != len(kwargs):
        raise DatasetError(f"multi_if: {where} needs instructions and one kwargs per instruction "
                           f"({len(ids)} instructions, {len(kwargs)} kwargs)")
    kwargs = [{key: value for key, value in k.items() if value is not None} for k in kwargs]
    for instruction_id, arguments in zip(ids, kwargs):
        build_multilingual(instruction_id, arguments)  # a bad row fails at load, not at scoring
    return {"prompt": content, "instruction_id_list": list(ids), "kwargs": kwargs}


def derived_metrics(values: Mapping[str, Sequence[float | None]]) -> dict[str, MetricScore]:
    """Each turn's mean of its four accuracies (instruction-level pooled by instruction count), and their mean
    over the turns graded."""
    out: dict[str, MetricScore] = {}
    averages = []
    for turn in TURNS:
        graded = [i for i, v in enumerate(values[turn_metric(turn, "prompt_level_strict_acc")]) if v is not None]
        if not graded:
            out[turn_metric(turn, "avg_acc")] = MetricScore(score=None)
            continue
        # A failed request scored as wrong (--ignore-errors) has no instruction count: it weighs one instruction.
        counts = {i: float(values[turn_metric(turn, "instructions")][i] or 1) for i in graded}
        accuracies = []
        for metric in IFEVAL_METRICS:
            column = values[turn_metric(turn, metric)]
            if metric in INSTRUCTION_LEVEL:
                total = sum(counts.values())
                accuracies.append(sum(float(column[i] or 0) * counts[i] for i in graded) / total)
            else:
                accuracies.append(sum(float(column[i] or 0) for i in graded) / len(graded))
        average = sum(accuracies) / len(accuracies)
        averages.append(average)
        out[turn_metric(turn, "avg_acc")] = MetricScore(score=average, num=len(graded))
    out["avg_acc"] = MetricScore(score=sum(averages) / len(averages) if averages else None,
                                 num=len(values[INPUTS[0]]))
    return out


class MultiIFParams(BenchmarkParams):
    max_turns: int = Field(3, ge=1, le=3, description="Turns of each conversation to ask and grade (1-3).")


@register_benchmark("multi_if", task_type="instruction_following",
                    tags=("multilingual", "instruction_following", "multi_turn"))
class MultiIF(Benchmark):
    """Multi-IF (He et al., 2024): IFEval instructions accumulated over three turns, eight languages."""

    version = "1"
    source = HubDataset(hubs=(("huggingface", "facebook/Multi-IF"), ("modelscope", "facebook/Multi-IF")),
                        split="train")
    licence = "CC-BY-NC-2.0"
    subsets = LANGUAGES
    metrics = PER_TURN
    main_metric = "avg_acc"
    Params = MultiIFParams
    protocol_note = ("a conversation of up to three user turns, each after the model's own earlier answers; every "
                     "answer graded strictly and loosely by the official IFEval rules")

    def subset_of(self, row: dict[str, Any]) -> str | None:
        language = row.get("language")
        return language if isinstance(language, str) else None

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        turns = []
        for turn in TURNS:
            parsed = parse_turn(row, turn)
            if parsed is None:
                break
            turns.append(parsed)
        if not turns:
            raise DatasetError(f"multi_if row {index} has no turn_1_prompt; got keys {sorted(row)}")
        turns = turns[: self.params.max_turns]  # type: ignore[attr-defined]
        return Sample(id=str(row.get("key", index)), subset=subset,
                      metadata={"question": turns[0]["prompt"], "language": row.get("language"), "turns": turns})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(sample.metadata["turns"][0]["prompt"])]

    def next_turn(self, sample: Sample, history: list[Message]) -> list[Message] | None:
        """The conversation so far and the next turn's prompt, while turns remain."""
        answered = sum(1 for message in history if message.role == "assistant")
        turns = sample.metadata["turns"]
        return [*history, Message.user(turns[answered]["prompt"])] if answered < len(turns) else None

    def sample_metrics(self, sample: Sample) -> list[str]:
        # A two-turn conversation (or max_turns < 3) has no later turns' metrics: not ungraded, absent.
        asked = len(sample.metadata.get("turns", TURNS))
        later = tuple(f"turn_{t}_" for t in TURNS if t > asked)
        return [m for m in super().sample_metrics(sample) if not m.startswith(later)] if later else \
            super().sample_metrics(sample)

    def derived_metrics(self) -> DerivedMetrics:
        return DerivedMetrics(names=DERIVED, inputs=INPUTS, compute=derived_metrics)

    def score_turns(self, sample: Sample, answers: Sequence[str]) -> Score:
        """Each turn's answer graded against that turn's instructions; a turn with no answer is not graded."""
        values: dict[str, float | None] = {}
        weights: dict[str, int] = {}
        lines, verdicts = [], []
        for turn, spec in enumerate(sample.metadata["turns"], start=1):
            if turn > len(answers):
                values.update({turn_metric(turn, m): None for m in IFEVAL_METRICS})
                continue
            results = grade_response(answers[turn - 1], spec["instruction_id_list"], spec["kwargs"],
                                     build=build_multilingual)
            values.update({turn_metric(turn, m): v for m, v in ifeval_metrics(results).items()})
            values[turn_metric(turn, "instructions")] = float(len(results))
            weights.update({turn_metric(turn, m): len(results) for m in INSTRUCTION_LEVEL})
            lines.append(f"turn {turn}: " + ", ".join(f"{r.instruction_id} {'✓' if r.strict else '✗'}"
                                                       f"{'' if r.strict == r.loose else ' (loose ✓)'}"
                                                       for r in results))
            verdicts.append([{"id": r.instruction_id, "strict": r.strict, "loose": r.loose} for r in results])
        return Score(values=values, extracted=answers[-1] if answers else None, explanation="; ".join(lines),
                     metadata={"weights": weights, "turns": verdicts})

    def score(self, sample: Sample, answer: str) -> Score:
        """``answer`` as the answer to the first turn (the later turns not graded); see :meth:`score_turns`."""
        return self.score_turns(sample, [answer])

    async def ascore_completion(self, sample: Sample, completion: Completion, answer: str, checker: Any) -> Score:
        earlier = [apply_filters(turn.text, self.args.filters).text for turn in completion.turns]
        # Language detection is pure-Python work of some milliseconds per answer: keep it off the event loop.
        return await asyncio.to_thread(self.score_turns, sample, [*earlier, answer])
