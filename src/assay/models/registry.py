"""The backend registry: each backend registers itself under a name, its aliases and a typed ``model_args`` model.

Why a registry and not an if-chain in ``make_model``: a new backend (a test double, a plugin) is one decorated
class, ``eval_type`` accepts it at once, and ``--eval-type`` help and the docs list it with its settings. The
aliases keep EvalScope's spellings (``llm_ckpt``, ``mock_llm``, ``service``, ``server``) working.

A backend class offers ``from_task(task, args)``: it builds itself from the ``TaskConfig`` and its validated
``args`` (an instance of the registered model). ``model_args`` keys a backend does not declare are an error
when its model forbids them, else a warning (the key is ignored) when ``warn_unknown`` is set.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from assay.errors import ConfigError

if TYPE_CHECKING:
    from assay.eval.config import TaskConfig
    from assay.models.base import ModelBackend

log = logging.getLogger("assay.models")

T = TypeVar("T", bound=type)


class NoArgs(BaseModel):
    """A backend that takes no ``model_args`` (unknown keys are ignored, with a warning)."""

    model_config = ConfigDict(extra="ignore")


@dataclass(frozen=True)
class BackendSpec:
    """One registered backend: what ``eval_type`` names it, what it takes and what it needs of the task."""

    name: str
    cls: type
    args: type[BaseModel]
    aliases: tuple[str, ...] = ()
    summary: str = ""
    # TaskConfig fields the backend cannot run without, each with the hint its error gives.
    requires: dict[str, str] = field(default_factory=dict)
    # How the docs table names the model_args when listing every key would not fit (the simulator's two dozen).
    args_note: str = ""

    def parse_args(self, model_args: dict[str, Any]) -> BaseModel:
        """``model_args`` as this backend's typed model; a bad key or value is one ``ConfigError`` line."""
        try:
            parsed = self.args.model_validate(model_args)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, self.name, self.args)) from None
        if self.args.model_config.get("extra") != "forbid":
            known = _accepted_keys(self.args)
            for key in model_args:
                if key not in known:
                    log.warning("model_args.%s is not a %s setting and is ignored (known: %s)", key, self.name,
                                ", ".join(sorted(self.args.model_fields)) or "none")
        return parsed

    def fields(self) -> list[tuple[str, str, str]]:
        """(name, type, description) of each ``model_args`` key, for the docs and ``assay.models.backends()``."""
        rows = []
        for name, info in self.args.model_fields.items():
            annotation = info.annotation
            shown = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
            rows.append((name, shown, (info.description or "").strip()))
        return rows


_BUILTIN = ("openai_api", "checkpoint", "sim")  # listed first, in this order, whichever module loaded first
_BACKENDS: dict[str, BackendSpec] = {}
_ALIASES: dict[str, str] = {}


def register_backend(name: str, *, args: type[BaseModel] = NoArgs, aliases: tuple[str, ...] = (),
                     summary: str = "", requires: dict[str, str] | None = None,
                     args_note: str = "") -> Callable[[T], T]:
    """Class decorator: ``eval_type=name`` (or any alias) builds the class with ``cls.from_task(task, args)``."""

    def decorate(cls: T) -> T:
        if not callable(getattr(cls, "from_task", None)):
            raise TypeError(f"backend {name!r}: {cls.__name__} has no from_task(task, args)")
        for key in (name, *aliases):
            owner = _ALIASES.get(key, key if key in _BACKENDS else None)
            if owner is not None and owner != name:
                raise ValueError(f"eval_type {key!r} is already the {owner!r} backend")
        _BACKENDS[name] = BackendSpec(name=name, cls=cls, args=args, aliases=tuple(aliases),
                                      summary=summary or (cls.__doc__ or "").strip().splitlines()[0],
                                      requires=dict(requires or {}), args_note=args_note)
        for alias in aliases:
            _ALIASES[alias] = name
        return cls

    return decorate


def canonical_eval_type(name: str) -> str:
    """The registered name behind ``name`` (itself or an alias); an unknown one is a ``ValueError`` with
    the close matches, so that ``TaskConfig`` reports it as one line naming ``eval_type``."""
    _load_builtin()
    if name in _BACKENDS:
        return name
    if name in _ALIASES:
        return _ALIASES[name]
    known = [*_BACKENDS, *_ALIASES]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise ValueError(f"unknown backend {name!r} ({hint}known: {', '.join(eval_type_names())})")


def get_backend(name: str) -> BackendSpec:
    """The backend ``name`` (or an alias of it) names; unknown: a ``ConfigError`` line with close matches."""
    try:
        return _BACKENDS[canonical_eval_type(name)]
    except ValueError as exc:
        raise ConfigError(f"eval_type: {exc}") from None


def backends() -> list[BackendSpec]:
    """Every registered backend, in registration order (the built-in ones first)."""
    _load_builtin()
    order = {name: i for i, name in enumerate(_BUILTIN)}
    return sorted(_BACKENDS.values(), key=lambda spec: order.get(spec.name, len(order)))


def eval_type_names() -> list[str]:
    """Each backend's name, then its aliases: ``openai_api``, ``server``, ``service``..."""
    return [key for spec in backends() for key in (spec.name, *spec.aliases)]


def eval_type_help() -> str:
    """``--eval-type``'s help, from the registry."""
    names = "; ".join(f"{s.name} ({', '.join(s.aliases)})" if s.aliases else s.name for s in backends())
    return f"Model backend: {names}. Default: openai_api when api_url is set, else checkpoint."


def backends_table(*, builtin_only: bool = True) -> str:
    """The Markdown table docs/eval.md shows under "Backends" (a test keeps the two equal); a backend registered
    at run time (a plugin, a test's) is listed only with ``builtin_only=False``."""
    rows = ["| `eval_type` | aliases | what | `model_args` |", "|---|---|---|---|"]
    for spec in backends():
        if builtin_only and spec.name not in _BUILTIN:
            continue
        keys = spec.args_note or ", ".join(f"`{name}`" for name, _, _ in spec.fields()) or "none"
        aliases = ", ".join(f"`{alias}`" for alias in spec.aliases) or "-"
        rows.append(f"| `{spec.name}` | {aliases} | {spec.summary} | {keys} |")
    return "\n".join(rows)


def make_model(task: TaskConfig) -> ModelBackend:
    """The backend ``task.eval_type`` names, built from the task and its typed ``model_args``."""
    spec = get_backend(task.eval_type or "openai_api")
    return spec.cls.from_task(task, spec.parse_args(task.model_args))


def _load_builtin() -> None:
    # The built-in backends register on import; importing them here keeps `from assay.models.registry import ...`
    # complete without the caller importing each backend module.
    if not all(name in _BACKENDS for name in _BUILTIN):
        for module in ("openai_api", "checkpoint", "sim"):
            importlib.import_module(f"assay.models.{module}")


def _accepted_keys(model: type[BaseModel]) -> set[str]:
    keys = set()
    for name, info in model.model_fields.items():
        keys.add(name)
        alias = info.validation_alias
        choices = getattr(alias, "choices", None)
        if isinstance(alias, str):
            keys.add(alias)
        elif choices:
            keys.update(c for c in choices if isinstance(c, str))
        if info.alias:
            keys.add(info.alias)
    return keys


def _describe(exc: ValidationError, backend: str, model: type[BaseModel]) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in ("model_args", *err["loc"]))
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), list(model.model_fields), n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            parts.append(f"{where}: unknown key for the {backend} backend{hint}")
        else:
            parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    more = f" (and {len(exc.errors()) - 3} more)" if len(exc.errors()) > 3 else ""
    return "; ".join(parts) + more
