"""The simulator's embeddings and rerank routes: wire shapes, determinism, usage, latency and faults."""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest

from assay.sim.pooling import DEFAULT_DIMENSIONS, relevance_score

pytestmark = pytest.mark.timeout(30)


async def test_embeddings_have_the_openai_shape_and_are_deterministic(sim):
    status, body, _ = await sim.post("/embeddings", {"model": "e", "input": ["hello world", "other", "hello world"]})
    assert status == 200
    assert body["object"] == "list" and body["model"] == "e"
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    vectors = [np.array(d["embedding"]) for d in body["data"]]
    assert all(v.shape == (DEFAULT_DIMENSIONS,) for v in vectors)
    assert np.allclose([np.linalg.norm(v) for v in vectors], 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2]) and not np.array_equal(vectors[0], vectors[1])
    assert body["usage"] == {"prompt_tokens": body["usage"]["total_tokens"], "total_tokens": body["usage"]["total_tokens"]}
    assert body["usage"]["prompt_tokens"] > 0
    # A second request for the same text gets the same vector.
    _, again, _ = await sim.post("/embeddings", {"model": "e", "input": "hello world"})
    assert np.array_equal(np.array(again["data"][0]["embedding"]), vectors[0])


async def test_embedding_dimensions_and_base64(sim):
    _, body, _ = await sim.post("/embeddings", {"model": "e", "input": "abc", "dimensions": 8})
    floats = np.array(body["data"][0]["embedding"], dtype=np.float32)
    assert floats.shape == (8,)
    _, packed, _ = await sim.post("/embeddings", {"model": "e", "input": "abc", "dimensions": 8,
                                                   "encoding_format": "base64"})
    decoded = np.frombuffer(base64.b64decode(packed["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(decoded, floats)


@pytest.mark.parametrize("body", [{"model": "e"}, {"model": "e", "input": []}, {"model": "e", "input": "x",
                                                                                 "dimensions": 0}])
async def test_bad_embedding_requests_get_400(sim, body):
    status, payload, _ = await sim.post("/embeddings", body)
    assert status == 400 and "error" in payload


async def test_rerank_has_the_cohere_jina_vllm_shape(sim):
    documents = ["Berlin is in Germany.", "Paris is the capital of France.", "Bananas are yellow."]
    status, body, _ = await sim.post("/rerank", {"model": "r", "query": "capital of France", "documents": documents,
                                                 "top_n": 2, "return_documents": True})
    assert status == 200
    results = body["results"]
    assert len(results) == 2 and results[0]["index"] == 1
    assert results[0]["document"] == {"text": documents[1]}
    assert results[0]["relevance_score"] > results[1]["relevance_score"]
    assert all(0 < r["relevance_score"] < 1 for r in results)
    assert body["usage"]["total_tokens"] > 0 and body["model"] == "r"


async def test_rerank_at_the_root_path_and_bad_requests(sim, session):
    root = sim.base_url.removesuffix("/v1")
    async with session.post(root + "/rerank", json={"model": "r", "query": "q", "documents": [{"text": "q d"}]}) as r:
        assert r.status == 200 and (await r.json())["results"][0]["index"] == 0
    status, _, _ = await sim.post("/rerank", {"model": "r", "query": "q", "documents": []})
    assert status == 400


def test_relevance_score_prefers_documents_with_the_query_words():
    assert relevance_score("red apple", "a red apple") > relevance_score("red apple", "a red car") > \
        relevance_score("red apple", "nothing here")
    assert relevance_score("q", "d") == relevance_score("q", "d")


async def test_pooling_requests_take_the_configured_latency(start_sim):
    _, client = await start_sim(latency_model="fixed", ttft_ms=60, itl_ms=5)
    started = time.perf_counter()
    status, _, _ = await client.post("/embeddings", {"model": "e", "input": "timed"})
    elapsed = time.perf_counter() - started
    assert status == 200 and 0.055 < elapsed < 1.0  # never sooner than 60 ms; later on a busy machine


async def test_pooling_routes_honour_auth_and_faults(start_sim):
    _, client = await start_sim(api_key="k")
    status, _, _ = await client.post("/embeddings", {"model": "e", "input": "x"})
    assert status == 401
    status, _, _ = await client.post("/rerank", {"model": "r", "query": "q", "documents": ["d"]},
                                     headers={"Authorization": "Bearer k", "X-Sim-Fault": "429"})
    assert status == 429
