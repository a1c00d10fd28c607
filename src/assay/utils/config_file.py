"""Config files (YAML or JSON) and validation messages, shared by the CLI and the Python API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assay.errors import ConfigError


def flag_name(field: str) -> str:
    """The CLI flag of a config field: snake_case → --kebab-case."""
    return "--" + field.replace("_", "-")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML or JSON file; a missing or malformed file is a one-line ``ConfigError``."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"config file {file} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {file} must hold a mapping of option names to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def describe_validation_error(exc: ValidationError, *, source: str = "option") -> str:
    """One line naming each bad option (``--flag`` when ``source`` is "option", else ``field.path``) and why."""
    parts = []
    for err in exc.errors()[:3]:
        loc = [str(p) for p in err["loc"]]
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        if not loc:  # a check across several options: its message names them
            parts.append(message)
            continue
        where = flag_name(loc[0]) if source == "option" else ".".join(loc)
        if len(loc) > 1 and source == "option":
            where += "." + ".".join(loc[1:])
        parts.append(f"bad value for {where}: {message}")
    more = f" (and {len(exc.errors()) - 3} more)" if len(exc.errors()) > 3 else ""
    return "; ".join(parts) + more
