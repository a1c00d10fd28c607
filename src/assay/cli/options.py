"""CLI options derived from pydantic config models, so each option is defined once.

Every field of a config model becomes ``--field-name`` (snake_case → kebab-case) with the field's
description as help; lists take several values (``--parallel 1 8 32``); dicts and nested models take
JSON. Validation errors become one ``ConfigError`` line that names the flag.
"""

from __future__ import annotations

import json
import re
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Sequence

import click
from pydantic import BaseModel, SecretStr, ValidationError

from assay.errors import ConfigError
from assay.utils.config_file import describe_validation_error, flag_name

_NUMBER = re.compile(r"^-\d+(\.\d*)?$")


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
        # str | list[str] and similar: take the richest form the CLI can express.
        for arg in args:
            if typing.get_origin(arg) in (list, tuple):
                return arg
        return args[0]
    return annotation


def _allows_none(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def _click_type(annotation: Any) -> tuple[Any, bool, bool]:
    """(click type, multiple, json) for a field annotation."""
    annotation = _strip_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return click.Choice([str(a) for a in typing.get_args(annotation)]), False, False
    if origin in (list, tuple, set, frozenset, Sequence):
        inner = typing.get_args(annotation)[0] if typing.get_args(annotation) else str
        inner_type, _, _ = _click_type(inner)
        return inner_type, True, False
    if origin is dict or annotation is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return str, False, True
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return click.Choice([e.value for e in annotation]), False, False
    if annotation in (int, float, str):
        return annotation, False, False
    if annotation is bool:
        return bool, False, False
    if annotation in (Path, SecretStr):
        return str, False, False
    return str, False, False


class _NoneOr(click.ParamType):
    """A number, or ``none`` to turn off a limit whose default is on (``--total-timeout none``)."""

    UNSET = object()  # what "none" converts to: cli_values hands the model None for it

    def __init__(self, inner: type) -> None:
        self.inner = inner
        self.name = f"{inner.__name__}|none"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is self.UNSET or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
            return self.UNSET
        try:
            return self.inner(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number or none", param, ctx)


def model_options(
    model: type[BaseModel],
    *,
    exclude: Iterable[str] = (),
    aliases: dict[str, Sequence[str]] | None = None,
) -> list[click.Option]:
    """One click option per field of ``model`` (defaults stay ``None``: the model supplies them)."""
    skip = set(exclude)
    aliases = aliases or {}
    options: list[click.Option] = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        ctype, multiple, is_json = _click_type(field.annotation)
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        help_text = (field.description or "").strip()
        if field.is_required():
            help_text += " [required]"
        elif default not in (None, [], {}, "") and not isinstance(default, SecretStr):
            help_text += f" [default: {_shown_default(default)}]"
        names = [flag_name(name), *aliases.get(name, ())]
        if ctype is bool:
            decl = [f"{names[0]}/--no-{names[0][2:]}", *names[1:]]
            options.append(click.Option([*decl, name], default=None, help=help_text))
            continue
        if ctype in (int, float) and default is not None and _allows_none(field.annotation):
            ctype = _NoneOr(ctype)
        metavar = "JSON" if is_json else None
        options.append(click.Option([*names, name], type=ctype, multiple=multiple, default=None, help=help_text,
                                    metavar=metavar))
    return options


def cli_values(model: type[BaseModel], params: dict[str, Any]) -> dict[str, Any]:
    """The options the user actually gave, decoded (JSON for dict/model fields)."""
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name not in model.model_fields or value is None or value == ():
            continue
        _, multiple, is_json = _click_type(model.model_fields[name].annotation)
        if is_json:
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"bad JSON in {flag_name(name)}: {exc.msg} at position {exc.pos}") from None
        elif multiple:
            value = list(value)
        values[name] = None if value is _NoneOr.UNSET else value
    return values


def build_model(model: type[BaseModel], values: dict[str, Any], *, source: str = "option") -> BaseModel:
    """``model(**values)``, with a validation failure turned into one ``ConfigError`` line."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source=source)) from None


def add_options(options: list[click.Option]) -> Callable[[click.Command], click.Command]:
    def decorate(command: click.Command) -> click.Command:
        command.params.extend(options)
        return command

    return decorate


def expand_list_args(command: click.Command, argv: list[str]) -> list[str]:
    """Rewrite ``--opt a b c`` as ``--opt a --opt b --opt c`` for options that take several values.

    Click has no "one or more values" option; EvalScope's users type ``--parallel 1 8 32`` and
    ``--datasets gsm8k math_500``, so we accept that form.
    """
    multi = _multi_value_flags(command, argv)
    if not multi:
        return argv
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        out.append(token)
        i += 1
        if token == "--":
            out.extend(argv[i:])
            break
        if token in multi:
            first = True
            while i < len(argv) and (not argv[i].startswith("-") or _NUMBER.match(argv[i])):
                if not first:
                    out.append(token)
                out.append(argv[i])
                first = False
                i += 1
    return out


def _multi_value_flags(command: click.Command, argv: list[str]) -> set[str]:
    # Walk down the group tree along argv to the command that will parse these options.
    current: click.Command = command
    for token in argv:
        # Duck-typed, so groups built by other click-based libraries walk too.
        commands = getattr(current, "commands", None)
        if isinstance(commands, dict) and token in commands:
            current = commands[token]
    flags: set[str] = set()
    for param in current.params:
        if getattr(param, "multiple", False) and getattr(param, "opts", None):
            flags.update(param.opts)
    return flags


def _shown_default(default: object) -> object:
    """A default as ``--help`` shows it: JSON for dicts, lists and config models (only the fields that are set,
    as a user would write them), the value itself otherwise."""
    if isinstance(default, BaseModel):
        default = {key: value for key, value in default.model_dump(mode="json", exclude_none=True).items()
                   if value not in ({}, [], "")}
    return json.dumps(default) if isinstance(default, (dict, list)) else default
