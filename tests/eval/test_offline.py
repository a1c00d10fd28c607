"""Offline for real: `assay data prefetch` caches what a run needs; afterwards, or with --dataset-dir, a run
touches no network (proved with every non-loopback connection refused); a missing dataset fails at start."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from assay.eval import TaskConfig, run_task
from tests.helpers.fake_hubs import FakeHubs

from .conftest import FIXTURES, gold_answer, load_samples, sim_args

pytestmark = pytest.mark.timeout(60)
pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")
hf = pytest.importorskip("huggingface_hub")

# What the fake hub serves: repo id → a folder in the hub's schema.
HUB = {"openai/gsm8k": FIXTURES / "gsm8k", "cais/mmlu": FIXTURES / "mmlu"}
MMLU_SUBSETS = {"mmlu": {"subset_list": ["abstract_algebra", "anatomy"]}}
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture
def fake_hub(monkeypatch):
    """The hub serves HUB (tests/helpers/fake_hubs.py); cache-only lookups run the real library code."""
    return FakeHubs(huggingface=HUB).install(monkeypatch).downloads


@pytest.fixture
def no_network(monkeypatch):
    """Refuse every connection and name lookup that does not stay on this machine; record the attempts."""
    attempts: list[object] = []
    real_connect, real_connect_ex, real_getaddrinfo = socket.socket.connect, socket.socket.connect_ex, \
        socket.getaddrinfo

    def local(address: object) -> bool:
        return not isinstance(address, tuple) or address[0] in LOOPBACK

    def connect(self, address):
        if not local(address):
            attempts.append(address)
            raise OSError(f"network blocked in this test: {address}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not local(address):
            attempts.append(address)
            raise OSError(f"network blocked in this test: {address}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK and host is not None:
            attempts.append(host)
            raise socket.gaierror(f"name lookup blocked in this test: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def _replay(make_replay):
    gsm = load_samples("gsm8k", dataset_id=str(FIXTURES / "gsm8k"))
    mmlu = load_samples("mmlu", dataset_id=str(FIXTURES / "mmlu"), **MMLU_SUBSETS["mmlu"])
    return make_replay(gsm + mmlu, [gold_answer(s, "math") for s in gsm] + [gold_answer(s, "mcq") for s in mmlu])


def test_prefetch_then_a_run_with_the_network_blocked(tmp_path, make_replay, fake_hub, no_network, capsys):
    import orjson

    from assay.cli.main import main

    cache = tmp_path / "datasets"
    main(["data", "prefetch", "--datasets", "gsm8k", "mmlu", "--dataset-dir", str(cache),
          "--dataset-args", orjson.dumps(MMLU_SUBSETS).decode()])
    out = capsys.readouterr().out
    assert "gsm8k: 4 samples ready offline" in out and "mmlu: 3 samples ready offline" in out
    assert fake_hub == [("huggingface", "openai/gsm8k"), ("huggingface", "cais/mmlu")]

    result = run_task(TaskConfig(eval_type="sim", model="m", model_args=sim_args(_replay(make_replay)),
                                 datasets=["gsm8k", "mmlu"], dataset_args=MMLU_SUBSETS, dataset_dir=str(cache),
                                 work_dir=str(tmp_path / "out")), show=False)
    assert result.reports["gsm8k"].score == 1.0 and result.reports["mmlu"].score == 1.0
    assert len(fake_hub) == 2, "the run downloaded again"
    assert no_network == [], f"the run tried the network: {no_network}"


def test_a_dataset_dir_copy_needs_no_hub_and_no_network(tmp_path, make_replay, no_network, monkeypatch):
    def no_hub(*args, **kwargs):
        raise AssertionError("the hub was asked although --dataset-dir holds the data")

    monkeypatch.setattr(hf, "snapshot_download", no_hub)
    folder = tmp_path / "data"
    shutil.copytree(FIXTURES / "gsm8k", folder / "gsm8k")
    shutil.copytree(FIXTURES / "mmlu", folder / "mmlu")
    result = run_task(TaskConfig(eval_type="sim", model="m", model_args=sim_args(_replay(make_replay)),
                                 datasets=["gsm8k", "mmlu"], dataset_args=MMLU_SUBSETS, dataset_dir=str(folder),
                                 work_dir=str(tmp_path / "out")), show=False)
    assert result.reports["gsm8k"].num == 4 and result.reports["mmlu"].score == 1.0
    assert no_network == []


def test_the_network_block_is_real(no_network):
    with pytest.raises(OSError, match="blocked in this test"):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    assert no_network


def test_offline_with_a_missing_dataset_fails_at_start_with_the_fix(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HF_HUB_OFFLINE": "1"}
    work = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "assay", "eval", "--eval-type", "sim", "--model", "m", "--datasets", "gsm8k",
         "--dataset-dir", str(tmp_path / "empty"), "--work-dir", str(work)],
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: dataset 'gsm8k' is not available")
    assert f"run `assay data prefetch --datasets gsm8k --dataset-dir {tmp_path / 'empty'}`" in result.stderr
    assert not work.exists() or not any(work.iterdir()), "a run folder was created before the data was found"


def test_prefetch_without_datasets_is_one_line(capsys):
    from assay.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["data", "prefetch"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: nothing to prefetch")
