"""The outputs folder the viewer's tests read: built once per session by running the real tools
(``assay eval`` and ``assay perf`` against the simulator, ``assay think``), see make_fixtures.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.make_fixtures import build


@pytest.fixture(scope="session")
def app_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"root": outputs folder, "thinker": run, "plain": run, "perf_a"/"perf_b": perf runs, "think": folder}``."""
    pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")
    root = tmp_path_factory.mktemp("app") / "outputs"
    made = build(root, root.parent / "replay")
    return {"root": root, **made}
