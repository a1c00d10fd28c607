"""--wandb-api-key / --swanlab-api-key in their offline modes: summaries logged, keys stored nowhere."""

from __future__ import annotations

import sys
import time

import pytest

from assay.perf import PerfConfig, run_perf
from assay.perf.tracking import metrics_of

from .conftest import Script

pytestmark = pytest.mark.timeout(90)

WANDB_KEY = "wandb-secret-key-0123456789abcdef0123456789abcdef"
SWANLAB_KEY = "swanlab-secret-key-0123456789"


def _no_key_in(folder, *keys):
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for key in keys:
                assert key.encode() not in data, path


def _run(scripted, tmp_path, prompts_file, **kw):
    server = scripted(Script(chunks=4))
    config = PerfConfig(url=server.base_url, model="m", dataset="line_by_line", dataset_path=str(prompts_file),
                        parallel=[1, 2], number=[3, 4], outputs_dir=str(tmp_path / "out"), charts=False, **kw)
    return run_perf(config)


def test_metrics_of_a_summary_are_flat_numbers(scripted, tmp_path, prompts_file):
    result = _run(scripted, tmp_path, prompts_file)
    metrics = metrics_of(result.summaries[0])
    assert metrics["summary/succeeded_requests"] == 3 and metrics["plan/parallel"] == 1
    assert "percentiles/ttft_s/p99" in metrics and "percentiles/itl_s/p10" in metrics
    assert all(isinstance(v, float) for v in metrics.values())


def test_wandb_offline_logs_each_plan_and_never_stores_the_key(scripted, tmp_path, prompts_file, monkeypatch):
    pytest.importorskip("wandb", reason="wandb is not installed (the `track` extra)")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb-home"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "argv", ["assay", "perf", "--wandb-api-key", WANDB_KEY])  # as the CLI would have it
    result = _run(scripted, tmp_path, prompts_file, wandb_api_key=WANDB_KEY)
    runs = list((result.run_dir / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
    # wandb's service process may finish writing the history a moment after finish() returns.
    deadline = time.monotonic() + 20
    while True:
        history = b"".join(p.read_bytes() for p in runs[0].glob("*.wandb"))
        if b"percentiles/ttft_s/p99" in history or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert b"request_throughput_rps" in history and b"percentiles/ttft_s/p99" in history
    _no_key_in(tmp_path, WANDB_KEY)


def test_swanlab_offline_logs_each_plan_and_never_stores_the_key(scripted, tmp_path, prompts_file, monkeypatch):
    pytest.importorskip("swanlab", reason="swanlab is not installed (the `track` extra)")
    monkeypatch.setenv("SWANLAB_MODE", "offline")
    monkeypatch.setenv("SWANLAB_SAVE_DIR", str(tmp_path / "swanlab-home"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "argv", ["assay", "perf", "--swanlab-api-key", SWANLAB_KEY])
    result = _run(scripted, tmp_path, prompts_file, swanlab_api_key=SWANLAB_KEY)
    logged = [p for p in (result.run_dir / "swanlog").rglob("*") if p.is_file()]
    assert logged
    assert any(b"request_throughput_rps" in p.read_bytes() for p in logged)
    _no_key_in(tmp_path, SWANLAB_KEY)


def test_keys_are_not_in_the_config_dump():
    config = PerfConfig(url="http://127.0.0.1:9/v1", model="m", wandb_api_key=WANDB_KEY, swanlab_api_key=SWANLAB_KEY)
    dumped = str(config.public_dump()) + repr(config)
    assert WANDB_KEY not in dumped and SWANLAB_KEY not in dumped
