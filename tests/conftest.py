"""Session fixtures for integration tests: a tiny local checkpoint and a real `transformers serve` on it.

Both skip (not fail) when the `serving` extra (torch, transformers, tokenizers; fastapi and uvicorn for
the server) is not installed, so the rest of the suite runs without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.helpers.transformers_server import TransformersServer


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny random Qwen3-style checkpoint (model, tokenizer, chat template), built once."""
    for module in ("torch", "transformers", "tokenizers"):
        reason = f"`{module}` is not importable (needs the `serving` or `local` extra)"
        pytest.importorskip(module, exc_type=ImportError, reason=reason)
    from tests.helpers.tiny_checkpoint import build_tiny_checkpoint

    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-qwen3"))


@pytest.fixture(scope="session")
def transformers_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TransformersServer]:
    """A running `transformers serve` with the tiny checkpoint forced: a ``TransformersServer`` with
    ``.base_url`` ("http://127.0.0.1:PORT/v1") and ``.model`` (the name to send). Stopped at session end."""
    for module in ("fastapi", "uvicorn"):
        reason = f"`{module}` is not importable (needs the `serving` extra)"
        pytest.importorskip(module, exc_type=ImportError, reason=reason)
    from tests.helpers.transformers_server import TransformersServer

    tiny_checkpoint = request.getfixturevalue("tiny_checkpoint")  # after the checks: skip before building
    log_path = tmp_path_factory.mktemp("transformers-serve") / "server.log"
    server = TransformersServer(tiny_checkpoint, log_path=log_path, startup_timeout_s=150)
    server.start()
    try:
        yield server
    finally:
        server.stop()
