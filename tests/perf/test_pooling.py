"""``--api openai_embedding`` and ``--api rerank`` end to end against the simulator (fixed, known latency)."""

from __future__ import annotations

import json

import pytest

from assay.client import ClientConfig, OpenAIClient
from assay.errors import DatasetError
from assay.perf import PerfConfig, run_perf
from assay.perf.records import iter_rows
from assay.perf.report import percentile_table, summary_table
from assay.sim import SimConfig, SimProcess

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sim():
    # Truth: every embeddings or rerank request takes 30 ms (the fixed model's time to a first token).
    with SimProcess(SimConfig(port=0, latency_model="fixed", ttft_ms=30, itl_ms=5)) as server:
        yield server


def test_embeddings_load_test_measures_latency_and_input_tokens(sim, tmp_path, prompts_file):
    config = PerfConfig(url=sim.base_url + "/embeddings", model="bge-m3", dataset="embedding",
                        dataset_path=str(prompts_file), parallel=[4], number=[40], outputs_dir=str(tmp_path),
                        charts=True, extra_args={"dimensions": 64})
    assert config.endpoint[1] == "embeddings" and config.stream is False
    result = run_perf(config)
    (s,) = result.summaries
    assert s.api == "embeddings" and s.succeeded_requests == s.total_requests == 40
    assert s.input_token_source == "server" and s.total_input_tokens > 40
    assert s.mean_ttft_s is None and s.mean_tpot_s is None and s.itl_samples == 0
    assert s.output_throughput_tps is None and s.total_output_tokens == 0
    # Never under the truth (30 ms); above it only by what a busy machine costs.
    assert 0.029 < s.median_latency_s < 0.2
    assert 4 / 0.2 < s.request_throughput_rps < 4 / 0.029
    assert s.input_throughput_tps == pytest.approx(s.total_input_tokens / s.duration_s)
    assert s.total_throughput_tps == pytest.approx(s.input_throughput_tps)
    assert s.percentiles["e2e_latency_s"]["p99"] is not None and s.percentiles["total_throughput_tps"]["p50"] > 0
    plan_dir = result.run_dir / s.plan
    assert (plan_dir / "latency_distribution.png").is_file()
    rows = list(iter_rows(plan_dir / "records.sqlite"))
    assert all(r["ok"] and r["output_tokens"] is None and r["input_token_source"] == "server" for r in rows)
    # The tables show latency and input throughput, not empty TTFT/TPOT columns.
    headers = [c.header for c in percentile_table(s).columns]
    assert headers == ["Percentile", "Latency (s)", "Input tokens", "Input (tok/s)"]
    keys = list(summary_table(s).columns[0].cells)
    assert "Input token throughput (tok/s)" in keys and "Average time to first token (s)" not in keys


def test_rerank_load_test_sends_query_and_documents(sim, tmp_path):
    path = tmp_path / "rerank.jsonl"
    path.write_text("\n".join(json.dumps({"query": f"what is {i}", "documents": [f"{i} is a number", "a cat", "x"]})
                              for i in range(5)), encoding="utf-8")
    result = run_perf(PerfConfig(url=sim.base_url, api="rerank", model="bge-reranker", dataset="rerank",
                                 dataset_path=str(path), rate=[50], number=[20], rate_distribution="constant",
                                 outputs_dir=str(tmp_path), charts=False, extra_args={"top_n": 2},
                                 slo=["e2e_latency_ms=5000"]))
    (s,) = result.summaries
    assert s.api == "rerank" and s.succeeded_requests == 20
    assert s.input_token_source == "server" and s.mean_input_tokens > 5
    assert 0.029 < s.median_latency_s < 0.2
    assert s.goodput_rps == pytest.approx(s.request_throughput_rps)


def test_random_rerank_builds_documents_of_exact_lengths(sim, tmp_path, tokenizer_path):
    config = PerfConfig(url=sim.base_url + "/rerank", model="r", dataset="random_rerank", tokenizer_path=tokenizer_path,
                        min_prompt_length=4, max_prompt_length=4, num_documents=3, document_length_ratio=2,
                        parallel=[2], number=[6], outputs_dir=str(tmp_path), charts=False)
    from assay.perf.run_setup import Setup

    prompt = Setup.from_config(config).prompts.prompt(0)
    assert len(prompt.documents) == 3 and prompt.input_tokens == 4 + 3 * 8
    (s,) = run_perf(config).summaries
    assert s.succeeded_requests == 6


def test_rerank_needs_documents_and_pooling_rejects_ttft_slo(tmp_path, prompts_file):
    with pytest.raises(DatasetError, match="random_rerank"):
        run_perf(PerfConfig(url="http://127.0.0.1:9/v1/rerank", model="r", dataset="line_by_line",
                            dataset_path=str(prompts_file), outputs_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="no first token"):
        PerfConfig(url="http://127.0.0.1:9/v1", model="e", api="openai_embedding", slo=["ttft_ms=5"])


def test_preflight_catches_a_server_without_the_route(tmp_path, prompts_file, scripted):
    from assay.errors import ModelError

    server = scripted()  # serves only chat and completions
    with pytest.raises(ModelError, match="404"):
        run_perf(PerfConfig(url=server.base_url + "/embeddings", model="e", dataset="line_by_line",
                            dataset_path=str(prompts_file), outputs_dir=str(tmp_path)))


async def test_client_embed_and_rerank_methods(sim):
    async with OpenAIClient(ClientConfig(base_url=sim.base_url, model="e")) as client:
        done = await client.embed(["a", "b"], dimensions=8)
        assert done.ok and done.usage.prompt_tokens == 2 and done.usage.source == "server"
        assert done.timings.latency_s > 0.025
        ranked = await client.rerank("cat", ["dog", "cat"], top_n=1)
        assert ranked.ok and ranked.usage.prompt_tokens > 0
        failed = await client.rerank("q", [], capture_errors=True)
        assert failed.error is not None and failed.error.kind == "http_status" and failed.error.status == 400
