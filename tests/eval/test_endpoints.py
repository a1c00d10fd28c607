"""Several api_url endpoints (replicas of one model): one request pool over all of them, each answer tagged with
the endpoint that gave it, the same results as one endpoint. Two `assay sim` servers on 127.0.0.1."""

from __future__ import annotations

import orjson
import pytest

from assay.eval import TaskConfig, run_task

from .conftest import FIXTURES, gold_answer, load_samples, sim_args

pytestmark = pytest.mark.timeout(120)
pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")

GSM = {"dataset_id": str(FIXTURES / "gsm8k")}
MMLU = {"dataset_id": str(FIXTURES / "mmlu"), "subset_list": ["abstract_algebra", "anatomy"]}


@pytest.fixture
def two_sims(make_replay):
    from assay.sim import SimConfig, SimProcess

    gsm, mmlu = load_samples("gsm8k", **GSM), load_samples("mmlu", **MMLU)
    replay = make_replay(gsm + mmlu, [gold_answer(s, "math") for s in gsm] + [gold_answer(s, "mcq") for s in mmlu])
    config = SimConfig(**{**sim_args(replay), "ttft_ms": 20})
    with SimProcess(config) as first, SimProcess(config) as second:
        yield first.base_url, second.base_url


def _task(api_url, work_dir, **extra) -> TaskConfig:
    return TaskConfig(model="m", api_url=api_url, datasets=["gsm8k", "mmlu"], dataset_args={"gsm8k": GSM, "mmlu": MMLU},
                      eval_batch_size=3, max_retries=0, work_dir=str(work_dir), **extra)


def _answers(run_dir):
    out = {}
    for name in ("gsm8k", "mmlu"):
        for line in (run_dir / "predictions" / f"{name}.jsonl").read_bytes().splitlines():
            row = orjson.loads(line)
            out[(name, row["sample"]["id"])] = row["completions"][0]
    return out


@pytest.mark.parametrize("policy", ["round-robin", "least-loaded"])
def test_two_endpoints_share_the_pool_and_give_the_same_results_as_one(two_sims, tmp_path, policy):
    first, second = two_sims
    single = run_task(_task(first, tmp_path / "one"), show=False)
    both = run_task(_task([first, second], tmp_path / "two", endpoint_policy=policy), show=False)
    assert {name: r.score for name, r in both.reports.items()} == {name: r.score for name, r in single.reports.items()}
    assert all(r.score == 1.0 for r in both.reports.values())
    one, two = _answers(single.run_dir), _answers(both.run_dir)
    assert {key: c["text"] for key, c in two.items()} == {key: c["text"] for key, c in one.items()}
    assert all("endpoint" not in c for c in one.values())  # one endpoint: predictions as before
    used = [c["endpoint"] for c in two.values()]
    assert set(used) == {first, second}
    if policy == "round-robin":
        assert abs(used.count(first) - used.count(second)) <= 1
    config = (both.run_dir / "config.yaml").read_text()
    assert first in config and second in config


def test_the_pool_bounds_requests_over_all_endpoints(two_sims, tmp_path):
    """eval_batch_size is one limit for the run, not one per endpoint."""
    result = run_task(_task(list(two_sims), tmp_path), show=False)
    spans = [(c["timings"]["request_start_ns"], c["timings"]["done_ns"]) for c in _answers(result.run_dir).values()]
    events = sorted([(s, 1) for s, _ in spans] + [(d, -1) for _, d in spans])
    in_flight = peak = 0
    for _, step in events:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak <= 3


def test_one_api_url_in_a_list_is_kept_as_before():
    task = TaskConfig(model="m", api_url=["http://127.0.0.1:8000/v1"])
    assert task.api_url == "http://127.0.0.1:8000/v1" and task.api_urls == [task.api_url]
    assert task.public_dict()["api_url"] == task.api_url


def test_credentials_in_every_api_url_are_redacted(tmp_path):
    from assay.models import make_model

    task = TaskConfig(model="m", api_url=["http://u:pw@127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1?key=s3"])
    expected = ["http://***@127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1?key=***"]
    assert task.public_dict()["api_url"] == expected
    assert make_model(task).describe()["api_url"] == expected


def test_the_cli_takes_api_url_repeated():
    from assay.cli.main import build_cli
    from assay.cli.options import build_model, cli_values, expand_list_args

    cli = build_cli()
    command = cli.commands["eval"]
    argv = ["eval", "--model", "m", "--api-url", "http://h:1/v1", "--api-url", "http://h:2/v1",
            "--endpoint-policy", "least-loaded"]
    params = command.make_context("eval", expand_list_args(cli, argv)[1:], resilient_parsing=True).params
    task = build_model(TaskConfig, cli_values(TaskConfig, params))
    assert task.api_urls == ["http://h:1/v1", "http://h:2/v1"] and task.endpoint_policy == "least-loaded"
