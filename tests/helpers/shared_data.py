"""The one place tests and benchmarks find the shared benchmark files (real public data kept outside the repo).

``ASSAY_TEST_DATA`` names the folder if set; otherwise it is ``<repo root>/../shared/data``. Tests that need a
file call ``shared_path(...)``, which skips the test, with the path and how to provide it, when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV = "ASSAY_TEST_DATA"


def shared_data_dir() -> Path:
    """The shared data folder (it may not exist on this machine)."""
    configured = os.environ.get(ENV)
    return Path(configured).expanduser() if configured else REPO_ROOT.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """``shared_data_dir() / parts``, or skip the calling test (or module) when that path is absent."""
    import pytest

    path = shared_data_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared benchmark data {path} is not on this machine (set {ENV} to the folder holding it)",
                    allow_module_level=True)
    return path
