"""Launching ``assay eval`` and ``assay perf`` from the workbench: the form's fields and their parsing.

The form's fields are the CLI's own options (``assay.cli.options.model_options`` over ``TaskConfig`` and
``PerfConfig``), so a field has one definition: its name, type, choices, help and default come from the config
model, and a value typed in a box is converted by the same click type as on the command line (lists split as a
shell would, JSON fields decoded by ``cli_values``). The model itself then validates the whole form; each error
becomes one line under its field.

Secret values (``api_key``, a credential inside a JSON field or a URL, headers) are kept apart from the rest: they
are never written, and reach the run as its CLI flags through one environment variable (``assay.app.jobs``,
``assay.app.launched``).
"""

from __future__ import annotations

import json
import re
import shlex
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

import click
from pydantic import BaseModel, SecretStr, ValidationError

from assay.cli.options import cli_values, model_options
from assay.client.config import scrub_secrets
from assay.errors import ConfigError

SECRET_ARGS_ENV = "ASSAY_LAUNCH_SECRET_ARGS"
# The fields a launched run may not choose: its run folder goes under the app's outputs folder.
FORCED = {"eval": "work_dir", "perf": "outputs_dir"}


def config_model(kind: str) -> type[BaseModel]:
    if kind == "eval":
        from assay.eval.config import TaskConfig

        return TaskConfig
    if kind == "perf":
        from assay.perf.config import PerfConfig

        return PerfConfig
    raise ConfigError(f"unknown kind of run {kind!r} (eval or perf)")


def _has_secret_type(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_has_secret_type(arg) for arg in typing.get_args(annotation))
    return False


@dataclass(frozen=True)
class FormField:
    """One box of the form: a CLI option of the config model, seen as HTML needs it."""

    name: str
    flag: str
    help: str
    widget: str  # "text", "number", "select", "bool", "list", "json", "secret"
    choices: tuple[str, ...] = ()
    option: click.Option | None = field(default=None, compare=False, repr=False)


def form_fields(kind: str) -> list[FormField]:
    """The fields of ``kind``'s config model, in the model's order, as ``assay eval/perf --help`` lists them."""
    model = config_model(kind)
    fields = []
    for option in model_options(model, exclude=[FORCED[kind]]):
        name = str(option.name)
        annotation = model.model_fields[name].annotation
        choices: tuple[str, ...] = ()
        if _has_secret_type(annotation):
            widget = "secret"
        elif option.is_bool_flag:
            widget = "bool"
        elif option.multiple:
            widget = "list"
        elif option.metavar == "JSON":
            widget = "json"
        elif isinstance(option.type, click.Choice):
            widget, choices = "select", tuple(str(c) for c in option.type.choices)
        elif option.type.name in ("integer", "float") or option.type.name.endswith("|none"):
            widget = "number"
        else:
            widget = "text"
        fields.append(FormField(name, option.opts[0], option.help or "", widget, choices, option))
    return fields


@dataclass
class FormResult:
    """What a submitted form became: the values for the config file, the secret ones apart, or the errors."""

    values: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field name ("" for the form as a whole) → one line
    config: BaseModel | None = None


def _convert(item: FormField, text: str) -> Any:
    """The value of one box, as click would hand it to the command (``tuple`` for a list option)."""
    option = item.option
    assert option is not None
    if item.widget == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ConfigError("choose on or off")
        return lowered == "true"
    try:
        if item.widget == "list":
            try:
                words = shlex.split(text)
            except ValueError as exc:
                raise ConfigError(f"cannot split the values: {exc}") from None
            return tuple(option.type.convert(word, option, None) for word in words)
        return option.type.convert(text, option, None)
    except click.BadParameter as exc:
        raise ConfigError(exc.message) from None


def _validation_errors(exc: ValidationError, names: set[str]) -> dict[str, str]:
    """One line per field (the first error of each); errors of the model as a whole (cross-field checks) under
    ``""``. Only pydantic's message is shown, never the input (it may be a secret)."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        message = "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"]).removeprefix("Value error, ")
        where = loc[0] if loc and loc[0] in names else ""
        if len(loc) > 1 or (loc and not where):
            message = f"{'.'.join(loc)}: {message}"
        if where not in errors:
            errors[where] = message
        elif where == "" and message not in errors[""]:
            errors[""] += f"; {message}"
    return errors


def _is_secret(item: FormField, value: Any) -> bool:
    """Whether ``value`` of ``item`` must never be written: a secret-typed field, a field named like a
    credential, headers, or a value that :func:`scrub_secrets` would change (a key in a JSON field, a URL with
    a password or a ``?key=``)."""
    if item.widget == "secret" or item.name == "headers":
        return True
    return scrub_secrets({item.name: value}) != {item.name: value}


def parse_form(kind: str, form: Mapping[str, str]) -> FormResult:
    """Turn the submitted boxes into a validated config (or errors per field), as ``assay eval/perf`` does with
    its flags; an empty box is a flag not given (the model's default applies)."""
    model = config_model(kind)
    result = FormResult()
    given: dict[str, Any] = {}
    fields = form_fields(kind)
    for item in fields:
        text = (form.get(item.name) or "").strip()
        if not text:
            continue
        try:
            given.update(cli_values(model, {item.name: _convert(item, text)}))
        except ConfigError as exc:
            result.errors[item.name] = str(exc)
    try:
        config = model(**given, **{FORCED[kind]: "."})
    except ValidationError as exc:
        result.errors = {**_validation_errors(exc, {f.name for f in fields}), **result.errors}
        return result
    if result.errors:
        return result
    result.config = config
    by_name = {f.name: f for f in fields}
    for name, value in given.items():
        (result.secrets if _is_secret(by_name[name], value) else result.values)[name] = value
    return result


def secret_args(kind: str, secrets: Mapping[str, Any]) -> list[str]:
    """The secret values as the CLI's own flags (``--api-key=...``), for the child to add to its argv."""
    by_name = {f.name: f for f in form_fields(kind)}
    args = []
    for name, value in secrets.items():
        option = by_name[name].option
        assert option is not None
        flag = option.opts[0]
        if isinstance(value, bool):
            args.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, list) and option.multiple:
            args += [f"{flag}={item}" for item in value]
        elif isinstance(value, (dict, list)):
            args.append(f"{flag}={json.dumps(value)}")
        else:
            args.append(f"{flag}={'none' if value is None else value}")
    return args


def secret_texts(kind: str, secrets: Mapping[str, Any]) -> list[str]:
    """The credentials among the secret values (to blank them in a log tail, should a tool ever print one; the
    tools don't, this is a second guard): a secret field's whole value, the strings :func:`scrub_secrets` would
    hide, the password of a URL, a header's value."""
    out: list[str] = []
    widgets = {f.name: f.widget for f in form_fields(kind)}

    def walk(value: Any, scrubbed: Any) -> None:
        if isinstance(value, str):
            if value != scrubbed:
                out.append(value)
                userinfo = urlsplit(value).netloc.rpartition("@")[0] if "@" in value else ""
                out.extend(part for part in (userinfo, userinfo.partition(":")[2]) if part)
                out.extend(v for k, _, v in (p.partition("=") for p in urlsplit(value).query.split("&")) if v)
        elif isinstance(value, dict) and isinstance(scrubbed, dict):
            for key, item in value.items():
                walk(item, scrubbed.get(key))
        elif isinstance(value, (list, tuple)) and isinstance(scrubbed, (list, tuple)):
            for item, clean in zip(value, scrubbed):
                walk(item, clean)

    for name, value in secrets.items():
        if widgets.get(name) == "secret" and isinstance(value, str):
            out.append(value)
        elif name == "headers":
            pairs = value.items() if isinstance(value, dict) else (str(v).partition("=")[::2] for v in value)
            for key, item in pairs:
                if re.search(r"auth|key|token|secret|cookie", str(key), re.IGNORECASE) and item:
                    out += [str(item), str(item).split()[-1]]
        else:
            walk(value, scrub_secrets(value) if not isinstance(value, dict) else scrub_secrets({name: value})[name])
    return sorted({text for text in out if len(text) >= 4}, key=len, reverse=True)
