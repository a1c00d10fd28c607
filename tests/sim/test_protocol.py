"""The simulator speaks OpenAI's wire format: shapes of answers, streams, usage, errors and side routes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(30)


async def test_chat_non_stream_shape(start_sim, chat_body):
    _, sim = await start_sim(output_len="5")
    status, body, headers = await sim.post("/chat/completions", chat_body("Hello there", max_tokens=50))
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert body["model"] == "assay-sim"
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "The quick brown fox jumps"
    assert "reasoning_content" not in choice["message"]
    assert body["usage"] == {
        "prompt_tokens": 2, "completion_tokens": 5, "total_tokens": 7,
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


async def test_model_name_is_echoed(sim, chat_body):
    _, body, _ = await sim.post("/chat/completions", {**chat_body(), "model": "my-model"})
    assert body["model"] == "my-model"
    _, body, _ = await sim.post("/chat/completions", {"messages": [{"role": "user", "content": "x"}]})
    assert body["model"] == "assay-sim"


async def test_chat_stream_shape(start_sim, chat_body):
    _, sim = await start_sim(output_len="4")
    result = await sim.stream("/chat/completions", chat_body(max_tokens=50))
    assert result.status == 200
    assert result.headers["Content-Type"].startswith("text/event-stream")
    assert result.done and result.error is None
    first, *tokens, last = result.events
    # vLLM's role-only opening frame, which a client must not count as the first token.
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    contents = [event["choices"][0]["delta"]["content"] for event in tokens]
    assert contents == ["The", " quick", " brown", " fox"]
    assert last["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    for event in result.events:
        assert event["object"] == "chat.completion.chunk"
        assert event["id"] == first["id"] and event["id"].startswith("chatcmpl-")
        assert event["model"] == "assay-sim"
        assert "usage" not in event


async def test_stream_include_usage(start_sim, chat_body):
    _, sim = await start_sim(output_len="3")
    body = chat_body("one two three", stream_options={"include_usage": True})
    result = await sim.stream("/chat/completions", body)
    usage_chunk = result.events[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {
        "prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6,
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    assert result.raw.endswith(b"data: [DONE]\n\n")


async def test_completions_non_stream_and_stream(start_sim):
    _, sim = await start_sim(output_len="3")
    request = {"model": "m", "prompt": "Once upon a time", "max_tokens": 10}
    status, body, _ = await sim.post("/completions", request)
    assert status == 200
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    assert body["choices"] == [
        {"index": 0, "text": "The quick brown", "logprobs": None, "finish_reason": "stop"}
    ]
    assert body["usage"]["prompt_tokens"] == 4 and body["usage"]["completion_tokens"] == 3

    result = await sim.stream("/completions", {"prompt": "Once upon a time", "max_tokens": 10,
                                               "stream_options": {"include_usage": True}})
    assert result.done
    assert all(event["object"] == "text_completion" for event in result.events)
    assert [event["choices"][0]["text"] for event in result.chunks] == ["The", " quick", " brown", ""]
    assert result.chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert result.events[-1]["choices"] == [] and result.events[-1]["usage"]["completion_tokens"] == 3


async def test_completions_token_id_prompt(sim):
    status, body, _ = await sim.post("/completions", {"prompt": [1, 2, 3, 4, 5], "max_tokens": 4})
    assert status == 200
    assert body["usage"]["prompt_tokens"] == 5


async def test_n_choices(start_sim, chat_body):
    _, sim = await start_sim(output_len="uniform:2:6")
    _, body, _ = await sim.post("/chat/completions", chat_body(n=3, max_tokens=50))
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]
    lengths = [len(choice["message"]["content"].split()) for choice in body["choices"]]
    assert body["usage"]["completion_tokens"] == sum(lengths)

    result = await sim.stream("/chat/completions", chat_body(n=2, max_tokens=50))
    assert result.done
    finishes = [c["index"] for e in result.chunks for c in e["choices"] if c["finish_reason"]]
    assert sorted(finishes) == [0, 1]


async def test_output_len_clamped_to_max_tokens(start_sim, chat_body):
    _, sim = await start_sim(output_len="100")
    _, body, _ = await sim.post("/chat/completions", chat_body(max_tokens=7))
    assert body["usage"]["completion_tokens"] == 7
    assert body["choices"][0]["finish_reason"] == "length"
    _, body, _ = await sim.post("/chat/completions", chat_body(max_completion_tokens=5))
    assert body["usage"]["completion_tokens"] == 5


async def test_min_tokens_and_ignore_eos(start_sim, chat_body):
    _, sim = await start_sim(output_len="3")
    _, body, _ = await sim.post("/chat/completions", chat_body(max_tokens=50, min_tokens=10))
    assert body["usage"]["completion_tokens"] == 10
    assert body["choices"][0]["finish_reason"] == "stop"
    _, body, _ = await sim.post("/chat/completions", chat_body(max_tokens=40, ignore_eos=True))
    assert body["usage"]["completion_tokens"] == 40
    assert body["choices"][0]["finish_reason"] == "length"


async def test_output_len_max_uses_request_max_tokens(start_sim, chat_body):
    _, sim = await start_sim(output_len="max")
    result = await sim.stream("/chat/completions", chat_body(max_tokens=12))
    assert len(result.token_times) == 12
    assert result.chunks[-1]["choices"][0]["finish_reason"] == "length"


async def test_uniform_lengths_stay_in_range(start_sim, chat_body):
    _, sim = await start_sim(output_len="uniform:3:6")
    lengths = set()
    for _ in range(30):
        _, body, _ = await sim.post("/chat/completions", chat_body(max_tokens=100))
        lengths.add(body["usage"]["completion_tokens"])
    assert lengths <= {3, 4, 5, 6} and len(lengths) > 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "object"),
        (b'{"model": "m"}', "messages"),
        (b'{"messages": []}', "messages"),
        (b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": "5"}', "max_tokens"),
        (b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}', "max_tokens"),
        (b'{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}', "stream"),
        (b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "min_tokens": 9}', "min_tokens"),
        (b'{"messages": "hello"}', "messages"),
    ],
)
async def test_bad_chat_bodies_get_400(sim, body, needle):
    status, payload, headers = await sim.post("/chat/completions", body)
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    error = payload["error"]
    assert needle in error["message"]
    assert error["type"] == "invalid_request_error" and error["code"] == 400


@pytest.mark.parametrize(
    "body", [b'{"max_tokens": 5}', b'{"prompt": 5}', b'{"prompt": ["a", "b"]}', b'{"prompt": []}']
)
async def test_bad_completions_bodies_get_400(sim, body):
    status, payload, _ = await sim.post("/completions", body)
    assert status == 400
    assert payload["error"]["message"]


async def test_api_key(start_sim, chat_body):
    _, sim = await start_sim(api_key="secret")
    status, body, _ = await sim.post("/chat/completions", chat_body())
    assert status == 401 and body["error"]["type"] == "authentication_error"
    wrong, right = {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer secret"}
    status, body, _ = await sim.post("/chat/completions", chat_body(), headers=wrong)
    assert status == 401
    status, _ = await sim.get("/v1/models")
    assert status == 401
    status, body, _ = await sim.post("/chat/completions", chat_body(), headers=right)
    assert status == 200 and body["choices"]
    status, _ = await sim.get("/v1/models", headers=right)
    assert status == 200
    assert (await sim.get("/health"))[0] == 200  # health checks need no key


async def test_models_health_stats_and_unknown_routes(start_sim, chat_body):
    _, sim = await start_sim(model="tiny-model")
    status, body = await sim.get("/v1/models")
    assert status == 200
    assert body["object"] == "list"
    assert body["data"][0]["id"] == "tiny-model" and body["data"][0]["object"] == "model"
    assert (await sim.get("/health"))[0] == 200

    await sim.post("/chat/completions", chat_body())
    await sim.stream("/chat/completions", chat_body())
    status, stats = await sim.get("/sim/stats")
    assert status == 200
    assert stats["requests_total"] == 2
    assert stats["running"] == 0 and stats["waiting"] == 0 and stats["active_streams"] == 0
    assert stats["peak_running"] >= 1 and stats["peak_active_streams"] >= 1
    assert set(stats["faults"]) == {"error", "429", "disconnect", "malformed", "stall", "error_200"}
    assert not any(stats["faults"].values())

    status, body = await sim.get("/v1/nothing-here")
    assert status == 404 and body["error"]["code"] == 404
    async with sim.session.get(sim.base_url + "/chat/completions") as resp:
        assert resp.status == 405


async def test_multipart_content_and_system_messages_count_as_prompt(sim):
    body = {"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hi there"},
                                     {"type": "image_url", "image_url": {"url": "data:,"}}]},
    ]}
    _, payload, _ = await sim.post("/chat/completions", body)
    assert payload["usage"]["prompt_tokens"] == 5  # "Be", "brief", ".", "Hi", "there"


def test_max_model_len_rejects_a_prompt_plus_max_tokens_over_it_like_vllm():
    import orjson

    from assay.sim.protocol import BadRequest, parse_request

    def body(max_tokens: int | None) -> bytes:
        payload: dict = {"model": "m", "messages": [{"role": "user", "content": "hello there"}]}
        if max_tokens is not None:
            payload["max_tokens"] = max_tokens
        return orjson.dumps(payload)

    with pytest.raises(BadRequest, match=r"maximum context length is 100 tokens\. However, you requested"):
        parse_request(body(200), "chat", default_model="m", reasoning="none", max_model_len=100)
    assert parse_request(body(50), "chat", default_model="m", reasoning="none", max_model_len=100).max_tokens == 50
    unset = parse_request(body(None), "chat", default_model="m", reasoning="none", max_model_len=100)
    assert unset.max_tokens <= 100 - unset.prompt_tokens
    assert parse_request(body(5000), "chat", default_model="m", reasoning="none").max_tokens == 5000
