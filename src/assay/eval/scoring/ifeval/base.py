"""The ``Instruction`` interface, the registry of instruction ids, and the kwargs checks they share.

Each instruction type is a small dataclass: its fields are the kwargs the dataset gives it (the hub copy of
IFEval gives every row every kwarg, ``None`` where it does not apply; those are dropped before building), and
``check(response)`` says whether the response follows it.

Two rule sets: ``official`` (the default) decides as Google's checker does, quirks included, so scores compare
with published ones; ``assay`` keeps assay's own fixes where the official check misreads a response. An
instruction type registered only once is graded the same under both.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any, Callable, ClassVar, Mapping, TypeVar

from assay.errors import DatasetError

INSTRUCTIONS: dict[str, type[Instruction]] = {}  # the official rules, one type per instruction id
ASSAY_RULES: dict[str, type[Instruction]] = {}  # assay's deliberate differences, by instruction id
RULES = ("official", "assay")
I = TypeVar("I", bound="type[Instruction]")

RELATIONS: dict[str, Callable[[int, int], bool]] = {"at least": operator.ge, "less than": operator.lt}


class Instruction:
    """One verifiable instruction; subclasses are dataclasses of their kwargs."""

    id: ClassVar[str] = ""

    def check(self, response: str) -> bool:
        """Whether ``response`` follows the instruction (pure; the response is never empty here)."""
        raise NotImplementedError


def instruction(instruction_id: str, rules: str = "official") -> Callable[[I], I]:
    """Class decorator: register an instruction type under its IFEval id ("group:name"), for the official
    rules (and so for both) or as assay's own variant (``rules="assay"``)."""
    registry = ASSAY_RULES if rules == "assay" else INSTRUCTIONS

    def decorate(cls: I) -> I:
        if instruction_id in registry:
            raise ValueError(f"instruction {instruction_id!r} is registered twice for the {rules} rules")
        cls.id = instruction_id
        registry[instruction_id] = cls
        return cls

    return decorate


def build_instruction(instruction_id: str, kwargs: Mapping[str, Any] | None, rules: str = "official") -> Instruction:
    """The checker for ``instruction_id`` with its ``kwargs`` (``None`` values ignored) under ``rules``; a
    ``DatasetError`` naming the instruction when the id is unknown or the kwargs do not fit it."""
    if rules not in RULES:
        raise ValueError(f"IFEval rules must be one of {RULES}, not {rules!r}")
    cls = (ASSAY_RULES.get(instruction_id) if rules == "assay" else None) or INSTRUCTIONS.get(instruction_id)
    if cls is None:
        raise DatasetError(f"unknown IFEval instruction {instruction_id!r}")
    return construct(cls, f"IFEval instruction {instruction_id}", kwargs)


def construct(cls: Any, what: str, kwargs: Mapping[str, Any] | None) -> Any:
    """The dataclass checker ``cls`` built from ``kwargs`` (``None`` values ignored); a ``DatasetError`` naming
    ``what`` when they do not fit its fields or its own checks refuse them (IFEval's and IFBench's builders)."""
    given = {key: value for key, value in (kwargs or {}).items() if value is not None}
    fields = {field.name for field in dataclasses.fields(cls)}
    unknown, missing = sorted(set(given) - fields), sorted(fields - set(given))
    if unknown or missing:
        raise DatasetError(f"{what}: kwargs {sorted(given)} do not fit; "
                           f"{'unknown ' + ', '.join(unknown) if unknown else ''}"
                           f"{'; ' if unknown and missing else ''}{'missing ' + ', '.join(missing) if missing else ''}")
    try:
        return cls(**given)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{what}: {exc}") from None


def relation(value: Any, name: str) -> str:
    """A relation kwarg: "at least" or "less than"."""
    if value not in RELATIONS:
        raise ValueError(f"{name} must be one of {sorted(RELATIONS)}, not {value!r}")
    return str(value)


def count(value: Any, name: str, minimum: int = 0) -> int:
    """A count kwarg as an int (hub parquet copies may hold 3.0 for 3)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, not {value!r}")
    return int(value)


def text(value: Any, name: str) -> str:
    """A non-empty string kwarg."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return value


def words(value: Any, name: str) -> tuple[str, ...]:
    """A non-empty list of non-empty strings."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{name} must be a non-empty list of strings, not {value!r}")
    return tuple(text(item, name) for item in value)


def compare(actual: int, relation_name: str, target: int) -> bool:
    """``actual`` "at least" / "less than" ``target``."""
    return RELATIONS[relation_name](actual, target)
