"""assay's client against a server we did not write: `transformers serve` on a tiny random checkpoint.

That server sends a role-only first frame, text frames as its streamer releases them, usage either in its
own last chunk with empty `choices` when `stream_options.include_usage` is set (transformers 5.25) or inside
the finish frame (<= 5.24), and no `data: [DONE]`; the client must still report a complete answer with
server usage and per-token timestamps.
"""

from __future__ import annotations

import pytest

from assay.client import ClientConfig, OpenAIClient
from assay.errors import HTTPStatusError
from assay.types import GenerationConfig, Message

pytestmark = [pytest.mark.serving, pytest.mark.timeout(240)]


def client_for(server) -> OpenAIClient:
    return OpenAIClient(ClientConfig(base_url=server.base_url + "/chat/completions", model=server.model,
                                     read_timeout_s=60))


async def test_streamed_chat_gets_text_usage_and_a_timestamp_per_content_frame(transformers_server):
    async with client_for(transformers_server) as client:
        completion = await client.chat([Message.user("Hello there")], generation=GenerationConfig(max_tokens=12))
    assert completion.ok and completion.text
    assert completion.finish_reason in ("length", "stop")
    usage = completion.usage
    assert usage.source == "server" and usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 12
    # transformers' text streamer holds tokens back until a word or a character is complete, so a content
    # frame carries one or more tokens and some frames are empty: one stamp per content frame, never more
    # stamps than tokens, never more than the frames received.
    assert 0 < len(completion.timings.chunk_ns) <= min(usage.completion_tokens, completion.chunk_count)
    timings = completion.timings
    assert timings.request_start_ns < timings.first_token_ns <= timings.chunk_ns[-1] <= timings.done_ns
    assert completion.timings.time_to_first_token_s > 0


async def test_non_streamed_chat_and_completions(transformers_server):
    async with client_for(transformers_server) as client:
        chat = await client.chat([Message.user("Hi")], generation=GenerationConfig(max_tokens=6), stream=False)
        text = await client.complete("Once upon a time", generation=GenerationConfig(max_tokens=6), stream=True)
        assert await client.list_models() == [transformers_server.model]
    assert chat.ok and chat.usage.completion_tokens <= 6 and chat.usage.source == "server"
    assert text.ok and text.finish_reason in ("length", "stop")


async def test_server_rejection_is_a_typed_error(transformers_server):
    async with client_for(transformers_server) as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.chat([Message.user("Hi")], model="some-other-model", generation=GenerationConfig(max_tokens=4))
    assert info.value.status == 400 and "pinned" in str(info.value)
