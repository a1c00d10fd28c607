"""Stand-ins for the two hub clients, so tests drive assay's real download and cache code with no network.

``huggingface_hub.snapshot_download`` is replaced by one whose downloads copy a local folder into the real
cache layout (``refs/main`` → ``snapshots/<commit>``), while cache-only lookups still run the real library;
``modelscope`` (not installed here) becomes a module whose ``snapshot_download`` copies into ``<cache>/<id>``.
A repo that is not served fails the way an unreachable hub does. Every download attempt is recorded, in order.
"""

from __future__ import annotations

import shutil
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest


class HubUnreachable(ConnectionError):
    """What a fake hub raises for a repo it does not serve."""


@dataclass
class FakeHubs:
    """What each fake hub serves (repo id → folder in the hub's schema) and the downloads asked of them."""

    huggingface: dict[str, Path] = field(default_factory=dict)
    modelscope: dict[str, Path] = field(default_factory=dict)
    downloads: list[tuple[str, str]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeHubs:
        self._install_huggingface(monkeypatch)
        module = types.ModuleType("modelscope")
        module.snapshot_download = self._modelscope_download  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "modelscope", module)
        return self

    def _install_huggingface(self, monkeypatch: pytest.MonkeyPatch) -> None:
        try:
            import huggingface_hub as hf
        except ImportError:
            return
        real = hf.snapshot_download

        def snapshot_download(repo_id, *, repo_type=None, cache_dir=None, local_files_only=False, **kwargs):
            if local_files_only:
                return real(repo_id, repo_type=repo_type, cache_dir=cache_dir, local_files_only=True, **kwargs)
            self.downloads.append(("huggingface", repo_id))
            if repo_id not in self.huggingface:
                raise HubUnreachable(f"fake huggingface does not serve {repo_id}")
            commit = "0" * 40
            repo = Path(cache_dir) / f"datasets--{repo_id.replace('/', '--')}"
            (repo / "refs").mkdir(parents=True, exist_ok=True)
            (repo / "refs" / "main").write_text(commit)
            shutil.copytree(self.huggingface[repo_id], repo / "snapshots" / commit, dirs_exist_ok=True)
            return str(repo / "snapshots" / commit)

        monkeypatch.setattr(hf, "snapshot_download", snapshot_download)

    def _modelscope_download(self, repo_id: str, *, repo_type: str | None = None, cache_dir: str | None = None,
                             **kwargs: object) -> str:
        self.downloads.append(("modelscope", repo_id))
        if repo_id not in self.modelscope:
            raise HubUnreachable(f"fake modelscope does not serve {repo_id}")
        target = Path(cache_dir or ".") / repo_id
        shutil.copytree(self.modelscope[repo_id], target, dirs_exist_ok=True)
        return str(target)
