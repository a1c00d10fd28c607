"""The inline, worker-process and Ray executors behind one interface: each satisfies the ``Executor`` protocol,
``run_perf`` goes through the one the config picks, and the worker modules do not import the driver
(``assay.perf.run``), so a worker process or actor loads only what it runs and no import cycle can come back."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest

from assay.perf import PerfConfig, run_perf
from assay.perf.endpoints import open_endpoints
from assay.perf.executors import Executor, InlineExecutor, ProcessExecutor, RayExecutor, executor_for
from assay.perf.run_setup import Setup

from .conftest import Script

pytestmark = pytest.mark.timeout(60)


def _setup(**kw: object) -> Setup:
    return Setup.from_config(PerfConfig(url="http://127.0.0.1:1/v1", model="m", prompt="Tell me a story", **kw))


def _executors() -> list[object]:
    setup = _setup()
    return [InlineExecutor(setup, open_endpoints(setup.config)), ProcessExecutor(setup), RayExecutor(setup)]


@pytest.mark.parametrize("executor", _executors(), ids=lambda e: type(e).__name__)
def test_each_executor_satisfies_the_protocol_with_the_same_signature(executor):
    assert isinstance(executor, Executor)
    assert inspect.iscoroutinefunction(executor.run_plan)
    expected = inspect.signature(Executor.run_plan)
    assert inspect.signature(type(executor).run_plan) == expected


@pytest.mark.parametrize(("options", "kind"), [
    ({}, InlineExecutor),
    ({"num_workers": 1}, InlineExecutor),
    ({"num_workers": 3}, ProcessExecutor),
    ({"ray_address": "local"}, RayExecutor),
    ({"ray_address": "local", "num_workers": 2}, RayExecutor),  # Ray wins, as the --ray-address help says
])
def test_the_config_picks_the_executor(options, kind):
    setup = _setup(**options)
    assert type(executor_for(setup, open_endpoints(setup.config))) is kind


def test_run_perf_runs_every_repeat_of_every_plan_through_the_picked_executor(scripted, tmp_path, prompts_file,
                                                                                monkeypatch):
    import assay.perf.run as run_module

    calls = []

    class Recording:
        def __init__(self, inner: Executor) -> None:
            self.inner = inner

        async def run_plan(self, plan, records, stop, progress, *, repeat=0):  # noqa: ANN001, ANN202
            calls.append((plan.name, repeat))
            return await self.inner.run_plan(plan, records, stop, progress, repeat=repeat)

    monkeypatch.setattr(run_module, "executor_for", lambda setup, endpoints: Recording(executor_for(setup, endpoints)))
    server = scripted(Script(chunks=2))
    config = PerfConfig(url=server.base_url, model="m", parallel=[1, 2], number=[2, 4], repeats=2,
                        dataset="line_by_line", dataset_path=str(prompts_file), outputs_dir=str(tmp_path),
                        charts=False, test_connection=False)
    result = run_perf(config)
    assert calls == [("parallel_1_number_2", 0), ("parallel_1_number_2", 1),
                     ("parallel_2_number_4", 0), ("parallel_2_number_4", 1)]
    assert [s.succeeded_requests for s in result.summaries] == [4, 8]


# Each module imported alone in a fresh interpreter, and the perf modules above it that it must not load.
IMPORT_RULES = {
    "assay.perf.workers": ["assay.perf.run", "assay.perf.executors"],
    "assay.perf.ray_workers": ["assay.perf.run", "assay.perf.executors", "assay.perf.workers"],
    "assay.perf.run_setup": ["assay.perf.run", "assay.perf.executors", "assay.perf.workers",
                             "assay.perf.ray_workers"],
    "assay.perf.executors": ["assay.perf.run"],
}


@pytest.mark.parametrize("module", list(IMPORT_RULES))
def test_worker_modules_do_not_import_the_driver(module):
    probe = (f"import importlib, json, sys; importlib.import_module({module!r}); "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('assay.perf'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert module in loaded
    assert loaded.isdisjoint(IMPORT_RULES[module]), sorted(loaded & set(IMPORT_RULES[module]))
