"""The IFBench verifier registry, and grading a response strictly and loosely with unknown ids left ungraded.

Each verifier is a small dataclass of its kwargs (the hub rows give every instruction every kwarg, ``None``
where it does not apply; those are dropped) with a pure ``check(response)``. The behaviour of each is that of
the official verifiers (allenai/IFBench, ``ifbench/instructions.py``), quirks included, written from their
descriptions: the paper's scores only compare with assay's when a response is decided the same way.

An instruction id with no verifier here is *ungraded*: it counts neither as followed nor as not followed, so
it leaves the instruction-level pool, and a prompt whose other instructions all pass has no prompt-level
verdict (``None``), while one with a failed instruction still fails.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping, Sequence, TypeVar

from assay.eval.scoring.ifeval import build_instruction, follows, loose_variants
from assay.eval.scoring.ifeval.base import INSTRUCTIONS as IFEVAL_INSTRUCTIONS
from assay.eval.scoring.ifeval.base import construct
from assay.eval.scoring.ifeval.base import count as _count
from assay.eval.scoring.ifeval.base import text as _text

VERIFIERS: dict[str, type[Verifier]] = {}
V = TypeVar("V", bound="type[Verifier]")
PUNCTUATION = string.punctuation
_NO_PUNCTUATION = str.maketrans("", "", PUNCTUATION)


class Verifier:
    """One IFBench constraint; subclasses are dataclasses of their kwargs."""

    id: ClassVar[str] = ""

    def check(self, response: str) -> bool:
        """Whether ``response`` (never empty here) follows the constraint."""
        raise NotImplementedError


def verifier(instruction_id: str) -> Callable[[V], V]:
    """Class decorator: register a verifier under its IFBench id ("group:name")."""

    def decorate(cls: V) -> V:
        if instruction_id in VERIFIERS:
            raise ValueError(f"IFBench verifier {instruction_id!r} is registered twice")
        cls.id = instruction_id
        VERIFIERS[instruction_id] = cls
        return cls

    return decorate


def gradable(instruction_id: str) -> bool:
    """Whether assay can grade ``instruction_id``: an IFBench verifier, or one of IFEval's (which IFBench's
    registry also carries, and which assay's IFEval checker grades under the official rules)."""
    return instruction_id in VERIFIERS or instruction_id in IFEVAL_INSTRUCTIONS


def build_verifier(instruction_id: str, kwargs: Mapping[str, Any] | None) -> Any | None:
    """The checker for ``instruction_id`` with its ``kwargs`` (``None`` values ignored); None for an id assay
    cannot grade; a ``DatasetError`` naming the instruction when the kwargs do not fit it."""
    if instruction_id not in VERIFIERS:
        return build_instruction(instruction_id, kwargs) if instruction_id in IFEVAL_INSTRUCTIONS else None
    return construct(VERIFIERS[instruction_id], f"IFBench instruction {instruction_id}", kwargs)


@dataclass(frozen=True)
class Verdict:
    """One instruction's verdicts for one response; ``None`` both: no verifier for it (ungraded)."""

    instruction_id: str
    strict: bool | None
    loose: bool | None


def grade_response(response: str, instruction_ids: Sequence[str],
                   kwargs: Sequence[Mapping[str, Any] | None]) -> list[Verdict]:
    """Strict and loose verdicts for each instruction, in order. Loose: any of IFEval's eight variants (the
    first and/or last line dropped, each with and without asterisks) follows, as IFBench's evaluation does."""
    if len(instruction_ids) != len(kwargs):
        raise ValueError(f"{len(instruction_ids)} instructions but {len(kwargs)} kwargs")
    variants = loose_variants(response)
    verdicts = []
    for instruction_id, arguments in zip(instruction_ids, kwargs):
        checker = build_verifier(instruction_id, arguments)
        if checker is None:
            verdicts.append(Verdict(instruction_id, None, None))
            continue
        strict = follows(checker, response)
        loose = strict or any(follows(checker, variant) for variant in variants[1:])
        verdicts.append(Verdict(instruction_id, strict, loose))
    return verdicts


def _prompt_level(verdicts: Sequence[bool | None]) -> float | None:
    if any(v is False for v in verdicts):
        return 0.0
    return None if any(v is None for v in verdicts) else 1.0


def ifbench_metrics(verdicts: Sequence[Verdict]) -> tuple[dict[str, float | None], int]:
    """IFEval's four metrics of one response, and how many of its instructions were graded (the weight of its
    instruction-level values when they are pooled over a dataset; ``None`` values when none was)."""
    graded = [v for v in verdicts if v.strict is not None]
    strict = sum(bool(v.strict) for v in graded)
    loose = sum(bool(v.loose) for v in graded)
    return {
        "prompt_level_strict_acc": _prompt_level([v.strict for v in verdicts]),
        "inst_level_strict_acc": strict / len(graded) if graded else None,
        "prompt_level_loose_acc": _prompt_level([v.loose for v in verdicts]),
        "inst_level_loose_acc": loose / len(graded) if graded else None,
    }, len(graded)


# ---- shared text helpers (the official verifiers' building blocks) --------------------------------------

def without_punctuation(text: str) -> str:
    """``text`` with every ASCII punctuation mark removed (``str.translate`` over ``string.punctuation``)."""
    return text.translate(_NO_PUNCTUATION)


def strip_punctuation(word: str) -> str:
    """``word`` with ASCII punctuation and spaces stripped from both ends."""
    return word.strip(PUNCTUATION + " ")


# The IFEval checker's kwarg readers, shared: a count as an int (hub parquet copies hold 3.0 for 3), a non-empty
# string.
whole = _count
phrase = _text


