"""Grade a response against its instructions, strictly and loosely, as the IFEval paper defines.

Strict: the response as given follows the instruction. Loose: at least one of eight variants does, the
response with its first line, its last line or both removed, each with and without markdown asterisks
(the paper's allowance for "Sure, here is..." openers, closing remarks and bold markup). An empty
response, or an empty variant, follows nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from assay.eval.scoring.ifeval.base import Instruction, build_instruction


@dataclass(frozen=True)
class InstructionResult:
    """One instruction's verdicts for one response."""

    instruction_id: str
    strict: bool
    loose: bool


def loose_variants(response: str) -> list[str]:
    """The response without its first line, last line or both, each also without asterisks (8 in all)."""
    lines = response.split("\n")
    trimmed = [response, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return trimmed + [variant.replace("*", "") for variant in trimmed]


def follows(checker: Instruction, response: str) -> bool:
    """``checker.check`` on a non-empty response; an empty (or blank) response follows nothing."""
    return bool(response.strip()) and checker.check(response)


Builder = Callable[[str, Mapping[str, Any] | None], Instruction]


def grade_response(response: str, instruction_ids: Sequence[str], kwargs: Sequence[Mapping[str, Any] | None],
                   rules: str = "official", build: Builder | None = None) -> list[InstructionResult]:
    """Strict and loose verdicts for each instruction, in order, under ``rules`` ("official" or "assay");
    ``build`` (id, kwargs → checker) replaces the rules' checkers where a benchmark grades some ids its own way
    (Multi-IF's language-aware length checks)."""
    if len(instruction_ids) != len(kwargs):
        raise ValueError(f"{len(instruction_ids)} instructions but {len(kwargs)} kwargs")
    variants = loose_variants(response)
    results = []
    for instruction_id, arguments in zip(instruction_ids, kwargs):
        checker = build(instruction_id, arguments) if build is not None else \
            build_instruction(instruction_id, arguments, rules)
        strict = follows(checker, response)
        loose = strict or any(follows(checker, variant) for variant in variants[1:])
        results.append(InstructionResult(instruction_id, strict, loose))
    return results


def ifeval_metrics(results: Sequence[InstructionResult]) -> dict[str, float]:
    """The four IFEval metrics of one response. The instruction-level ones are this response's fraction;
    over a dataset they must be pooled (passed instructions / all instructions), weighted by
    ``len(results)``, not averaged per prompt."""
    total = len(results)
    if not total:
        raise ValueError("an IFEval prompt has at least one instruction")
    strict = sum(r.strict for r in results)
    loose = sum(r.loose for r in results)
    return {
        "prompt_level_strict_acc": float(strict == total),
        "inst_level_strict_acc": strict / total,
        "prompt_level_loose_acc": float(loose == total),
        "inst_level_loose_acc": loose / total,
    }
