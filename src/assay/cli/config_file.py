"""Reading config files (YAML or JSON) that fill the same models as the CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from assay.errors import ConfigError


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
