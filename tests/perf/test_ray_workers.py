"""``--ray-address``: a plan shared by Ray actors (a local Ray of 2 CPUs) against the simulator."""

from __future__ import annotations

import asyncio
import importlib.util
import sqlite3
import sys
import time

import pytest

from assay.errors import AssayError, ConfigError
from assay.perf import PerfConfig, run_perf
from assay.perf.plans import LoadPlan
from assay.perf.ray_workers import connect_ray, run_plan_on_ray
from assay.perf.records import iter_rows
from assay.perf.summary import summarize_records
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(120)
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="ray is not installed (pip install 'assay[dist]')")

API_KEY = "sk-ray-actors-only"


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (starting it takes several seconds on 2 cores)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def sim():
    # Fixed latencies, and a key that requests must carry: every success proves the key reached the actors.
    config = SimConfig(latency_model="fixed", ttft_ms=20, itl_ms=2, output_len="8", api_key=API_KEY)
    with SimProcess(config) as s:
        yield s


def perf_config(sim, tmp_path, **kw) -> PerfConfig:
    values = dict(url=sim.base_url, model="assay-sim", prompt="Tell me a story", max_tokens=8,
                  api_key=API_KEY, outputs_dir=str(tmp_path), charts=False)
    return PerfConfig(**(values | kw))


class StopAfter:
    """Stands in for the rich progress bar: records the counts it is shown, sets ``stop`` at ``done``."""

    task_ids = [0]

    def __init__(self, stop: asyncio.Event, done: int) -> None:
        self.stop, self.done, self.seen = stop, done, []

    def __enter__(self) -> StopAfter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, task_id: int, *, completed: int, failed: int) -> None:
        self.seen.append(completed)
        if completed >= self.done:
            self.stop.set()


def run_on_ray(config: PerfConfig, plan: LoadPlan, records, *, stop_at: int | None = None) -> bool:
    async def main() -> bool:
        stop = asyncio.Event()
        progress = StopAfter(stop, stop_at) if stop_at is not None else None
        return await run_plan_on_ray(config, plan, records, stop, progress)

    return asyncio.run(main())


@needs_ray
def test_actors_share_the_plan_on_one_clock_and_match_one_process(local_ray, sim, tmp_path):
    plan = LoadPlan(number=40, parallel=4)
    records = tmp_path / "records.sqlite"
    before = time.perf_counter()
    assert run_on_ray(perf_config(sim, tmp_path, num_workers=2), plan, records)
    window_s = time.perf_counter() - before

    rows = list(iter_rows(records))
    assert sorted(r["request_index"] for r in rows) == list(range(40))
    assert all(r["ok"] and r["worker"] == r["request_index"] % 2 for r in rows)
    assert all(0 <= r["start_s"] <= r["done_s"] < window_s for r in rows)
    # Both actors began at the common start: each one's first request went out soon after time zero (a busy
    # machine may wake an actor late, but never before zero: the start is one instant set ahead for all).
    for worker in (0, 1):
        assert 0 <= min(r["start_s"] for r in rows if r["worker"] == worker) < 0.5
    with sqlite3.connect(records) as db:
        assert dict(db.execute("SELECT worker, min(t_s) >= 0 FROM health GROUP BY worker")) == {0: 1, 1: 1}
    assert not list(tmp_path.glob("records.worker*"))

    ray_summary = summarize_records(plan, records, workers=2)
    (single,) = run_perf(perf_config(sim, tmp_path, parallel=[4], number=[40])).summaries
    assert ray_summary.succeeded_requests == single.succeeded_requests == 40
    assert ray_summary.total_output_tokens == single.total_output_tokens == 40 * 8
    # Timings depend on how busy the machine is, so they are checked against what the code controls: the
    # simulator's fixed latencies are a floor for both runs (TTFT 20 ms; 20 + 7 x 2 ms for 8 tokens), and the
    # merged run's throughput is its own count over its own duration, which lies inside the measured window.
    # The floor has 1 ms of slack: asyncio may wake the simulator's timer up to its clock resolution early
    # (seen once: a median 3 µs under 20 ms).
    for summary in (ray_summary, single):
        assert summary.median_ttft_s >= 0.019
        assert summary.median_latency_s >= 0.033
    assert 0 < ray_summary.duration_s <= window_s
    assert ray_summary.request_throughput_rps == pytest.approx(40 / ray_summary.duration_s)


@needs_ray
def test_stop_ends_the_actors_cleanly_and_keeps_what_finished(local_ray, sim, tmp_path):
    plan = LoadPlan(number=400, rate=40.0, distribution="constant")  # 10 s of arrivals, stopped at 20 done
    records = tmp_path / "records.sqlite"
    assert run_on_ray(perf_config(sim, tmp_path, num_workers=2), plan, records, stop_at=20) is False
    indices = [r["request_index"] for r in iter_rows(records)]
    assert 20 <= len(indices) < 100 and len(set(indices)) == len(indices)


@needs_ray
def test_an_actor_failure_is_one_line_naming_the_worker(local_ray, sim, tmp_path):
    config = perf_config(sim, tmp_path, num_workers=2, prompt=None, dataset="line_by_line",
                         dataset_path=str(tmp_path / "missing.txt"))
    with pytest.raises(AssayError, match=r"^ray worker \d failed: ") as info:
        run_on_ray(config, LoadPlan(number=4, parallel=2), tmp_path / "records.sqlite")
    assert "\n" not in str(info.value) and "missing.txt" in str(info.value)


def test_without_ray_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail as if it were not installed
    with pytest.raises(ConfigError, match=r"pip install 'assay\[dist\]'"):
        connect_ray("auto")
    with pytest.raises(ConfigError, match=r"pip install 'assay\[dist\]'"):
        run_on_ray(PerfConfig(url="http://127.0.0.1:1/v1", model="m"), LoadPlan(number=1, parallel=1), "x")


@needs_ray
def test_run_perf_with_a_ray_address_runs_every_plan_on_the_actors(local_ray, sim, tmp_path):
    result = run_perf(perf_config(sim, tmp_path, parallel=[2, 4], number=[8, 16], num_workers=2, ray_address="local"))
    assert [s.succeeded_requests for s in result.summaries] == [8, 16]
    for summary in result.summaries:
        assert summary.failed_requests == 0
    records = [result.plan_dir(s) / "records.sqlite" for s in result.summaries]
    with sqlite3.connect(records[1]) as db:
        workers = dict(db.execute("SELECT worker, COUNT(*) FROM requests GROUP BY worker").fetchall())
    assert workers == {0: 8, 1: 8}


@needs_ray
def test_each_actor_spreads_its_requests_over_every_endpoint(local_ray, sim, tmp_path):
    config = SimConfig(latency_model="fixed", ttft_ms=20, itl_ms=2, output_len="8", api_key=API_KEY)
    with SimProcess(config) as second:
        urls = [sim.base_url, second.base_url]
        result = run_perf(perf_config(sim, tmp_path, url=urls, parallel=[4], number=[16], num_workers=2,
                                      ray_address="local"))
    (summary,) = result.summaries
    assert summary.succeeded_requests == 16 and [e.endpoint for e in summary.endpoints] == urls
    rows = list(iter_rows(result.plan_dir(summary) / "records.sqlite"))
    for worker in (0, 1):
        assert {r["endpoint"] for r in rows if r["worker"] == worker} == set(urls)
