"""Collection files written by EvalScope, read as assay collection rows.

EvalScope's rows are ``{index, prompt, tags, categories, task_type, weight, dataset_name, subset_name}``:

- from 1.0, ``prompt`` is EvalScope's dumped sample: ``input`` (chat messages), ``target`` (a letter, a list of
  letters or an answer string), ``choices``, ``id`` and the benchmark's ``metadata`` (IFEval's instructions,
  MMLU-Redux's annotations, MATH's ``question_id``, ...);
- in the 0.15-0.17 releases, ``prompt`` is ``{data: [the prompt text], system_prompt?, multi_choices?,
  raw_input: the hub record}`` and no target is stored: it is derived from ``raw_input`` as from a hub row.

Each row is asked as EvalScope saved it and graded by assay's scorer for ``dataset_name``: the sample is
rebuilt from what the row holds the way the benchmark builds it from its hub row (so MMLU-Redux's corrections
and IFEval's instruction arguments are read as for assay's own rows), and a multiple-choice target is lettered
in the order the options were shown. ``weight`` is the dataset's share of the mix: EvalScope up to 1.2
repeats the share on each row, from 1.3 it divides it among the rows drawn (a file's weights sum to 1); both
are read. Rows of a benchmark assay lacks, or that cannot be read, are returned apart with the reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

from assay.collections.item import CollectionItem
from assay.eval.benchmarks.common import LETTERS
from assay.types import Message, Sample

# EvalScope names that differ from assay's.
BENCHMARK_NAMES = {"gpqa": "gpqa_diamond"}


@dataclass(frozen=True)
class SkippedRow:
    """A row that is not run: its EvalScope dataset name and why."""

    dataset_name: str
    reason: str


def is_evalscope_row(row: dict[str, Any]) -> bool:
    """EvalScope's row shape (assay's own rows name a ``benchmark`` and hold a ``sample``)."""
    return "dataset_name" in row and "prompt" in row and "benchmark" not in row


def dataset_shares(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], float]:
    """Each dataset's share of the mix, keyed by (categories..., dataset_name), for either weight convention.

    Shares repeated on every row (EvalScope <= 1.2) add up to more than 1 as soon as one dataset has two rows;
    per-row weights (>= 1.3) add up to at most 1. A file with one row per dataset reads the same either way.
    """
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for row in rows:
        groups[_dataset_key(row)].append(float(row.get("weight") or 0.0))
    repeated = sum(sum(weights) for weights in groups.values()) > 1 + 1e-6
    return {key: (max(weights) if repeated else sum(weights)) for key, weights in groups.items()}


def _dataset_key(row: dict[str, Any]) -> tuple[str, ...]:
    return (*[str(c) for c in row.get("categories") or []], str(row.get("dataset_name")))


def read_evalscope_row(row: dict[str, Any], shares: dict[tuple[str, ...], float]) -> CollectionItem | SkippedRow:
    """One EvalScope row as a ``CollectionItem`` (``shares``: the file's ``dataset_shares``)."""
    from assay.errors import ConfigError
    from assay.eval.benchmarks import get_benchmark

    dataset_name = str(row["dataset_name"])
    name = BENCHMARK_NAMES.get(dataset_name, dataset_name)
    try:
        cls = get_benchmark(name)
    except ConfigError:
        return SkippedRow(dataset_name, "no such benchmark in assay")
    if getattr(cls, "needs_judge", False):
        kind = getattr(cls, "judge_kind", "an LLM judge")
        return SkippedRow(dataset_name, f"graded only by {kind}, which collections do not run")
    benchmark = cls()
    prompt = row["prompt"] if isinstance(row["prompt"], dict) else {}
    subset = str(row.get("subset_name") or "default")
    index = int(row.get("index", 0))
    try:
        if "input" in prompt:
            sample = _sample_v1(benchmark, prompt, subset, index)
        elif "raw_input" in prompt:
            sample = _sample_v0(benchmark, prompt, subset, index)
        else:
            return SkippedRow(dataset_name, "its prompt holds neither `input` (EvalScope >= 1.0) nor `raw_input` "
                                            "(EvalScope 0.x)")
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        return SkippedRow(dataset_name, f"the row does not hold what {name} needs ({exc!r})")
    except Exception as exc:  # a benchmark's own DatasetError on a bad row, with its message
        return SkippedRow(dataset_name, str(exc))
    return CollectionItem(
        index=index, benchmark=name, benchmark_version=cls.version, subset=subset,
        task_type=str(row.get("task_type") or cls.task_type), tags=[str(t) for t in row.get("tags") or []],
        path=[str(c) for c in row.get("categories") or []] or ["collection"], weight=shares[_dataset_key(row)],
        args={},
        sample=sample)


# ---- EvalScope >= 1.0: a dumped sample --------------------------------------------------------------

def _sample_v1(benchmark: Any, prompt: dict[str, Any], subset: str, index: int) -> Sample:
    messages = [Message(role=m.get("role", "user"), content=_text(m.get("content"))) for m in prompt["input"]]
    question = next((m.text() for m in reversed(messages) if m.role == "user"), "")
    meta = dict(prompt.get("metadata") or {})
    target, choices = prompt.get("target"), prompt.get("choices")
    rebuild = _HUB_ROWS.get(benchmark.name)
    if rebuild is not None:
        sample = benchmark.sample(rebuild(question, target, choices, meta, prompt), subset, index)
    elif choices:
        sample = _shown_choices_sample(str(prompt.get("id", index)), question, target, choices, subset)
    else:  # a benchmark whose hub row is the sample's metadata plus its question and answer
        sample = benchmark.sample({"question": question, "problem": question, "prompt": question,
                                   "answer": target, **meta}, subset, index)
    if choices:
        sample = _lettered_as_shown(sample, [str(c) for c in choices], target)
    sample.messages = messages
    return sample


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _letters(target: Any) -> list[str]:
    return [str(t).strip() for t in (target if isinstance(target, list) else [target])]


def _index(target: Any) -> int:
    return LETTERS.index(_letters(target)[0])


def _shown_choices_sample(sample_id: str, question: str, target: Any, choices: list[Any], subset: str) -> Sample:
    letters = _letters(target)
    return Sample(id=sample_id, target=letters[0] if len(letters) == 1 else letters, subset=subset,
                  choices=[str(c) for c in choices], metadata={"question": question})


def _mmlu_redux_row(question: str, target: Any, choices: Any, meta: dict[str, Any], prompt: dict) -> dict:
    # EvalScope's target already follows a wrong-ground-truth correction; rebuilt with the annotations, assay's
    # reading of them decides, as for its own rows.
    return {"question": question, "choices": list(choices), "answer": _index(target),
            **{key: _none(meta.get(key)) for key in ("error_type", "correct_answer", "potential_reason")}}


def _none(value: Any) -> Any:
    return None if value in (None, "None", "nan", "") else value


def _math_row(question: str, target: Any, choices: Any, meta: dict[str, Any], prompt: dict) -> dict:
    return {"unique_id": meta.get("question_id", prompt.get("id")), "problem": question, "answer": target,
            "subject": meta.get("subject")}


def _aime_row(question: str, target: Any, choices: Any, meta: dict[str, Any], prompt: dict) -> dict:
    return {"id": prompt.get("id"), "problem": question, "answer": target}


def _ifeval_row(question: str, target: Any, choices: Any, meta: dict[str, Any], prompt: dict) -> dict:
    return {"key": meta.get("key", prompt.get("id")), "prompt": meta.get("prompt") or question,
            "instruction_id_list": meta["instruction_id_list"], "kwargs": meta["kwargs"]}


# Benchmarks whose scorer reads more than a target and options: how their hub row is rebuilt from a dumped
# sample. Other multiple-choice benchmarks are graded on the shown options and EvalScope's target letters.
_HUB_ROWS: dict[str, Callable[[str, Any, Any, dict[str, Any], dict], dict[str, Any]]] = {
    "mmlu_redux": _mmlu_redux_row, "math_500": _math_row, "competition_math": _math_row,
    "aime24": _aime_row, "aime25": _aime_row, "ifeval": _ifeval_row,
}


# ---- EvalScope 0.x: the hub record ------------------------------------------------------------------

def _sample_v0(benchmark: Any, prompt: dict[str, Any], subset: str, index: int) -> Sample:
    data = prompt.get("data") or [""]
    text = _text(data[0]) if not isinstance(data[0], str) else data[0]
    sample = benchmark.sample(dict(prompt["raw_input"]), subset, index)
    if sample.choices:
        shown = _choices_in_text(text, len(sample.choices))
        if shown is not None and sorted(map(_squash, shown)) == sorted(map(_squash, sample.choices)):
            sample = _lettered_as_shown(sample, shown, None)
    system = prompt.get("system_prompt")
    sample.messages = [*([Message.system(system)] if system else []), Message.user(text)]
    return sample


def _choices_in_text(text: str, count: int) -> list[str] | None:
    """The options as a prompt lists them (``(A) x``, ``(A): x``, ``A) x``, ``A. x``), or None."""
    found = []
    for letter in LETTERS[:count]:
        match = re.search(rf"^\s*(?:\({letter}\)[:.]?|{letter}[:.)])\s*(.*\S)\s*$", text, re.MULTILINE)
        if not match:
            return None
        found.append(match.group(1))
    return found


def _squash(text: str) -> str:
    return " ".join(str(text).split())


def _lettered_as_shown(sample: Sample, shown: list[str], fallback_target: Any) -> Sample:
    """``sample`` with its options in the order shown and its target letters following them.

    Where the correct options' texts are not all among those shown, ``fallback_target`` (the letters the row
    stored) is kept, or the sample as it is when there is none.
    """
    own = sample.choices or []
    if own == shown:
        return sample
    correct = [own[LETTERS.index(letter)] for letter in _letters(sample.target) if LETTERS.index(letter) < len(own)]
    squashed = [_squash(c) for c in shown]
    positions = [squashed.index(_squash(text)) for text in correct if _squash(text) in squashed]
    if len(positions) == len(correct) and correct:
        letters = [LETTERS[p] for p in positions]
    elif fallback_target is not None:
        letters = _letters(fallback_target)
    else:
        return sample
    metadata = {k: v for k, v in sample.metadata.items() if k != "choice_order"}
    return sample.model_copy(update={"choices": list(shown), "metadata": metadata,
                                     "target": letters[0] if len(letters) == 1 else letters})
