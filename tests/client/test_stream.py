"""The SSE decoder and the response accumulator, on hand-built bytes."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.client.stream import ResponseAccumulator, SSEDecoder
from assay.errors import MalformedResponseError, ServerReportedError


def chunk(content=None, reasoning=None, finish=None, usage=None, choices=True) -> bytes:
    event: dict = {"id": "c1", "object": "chat.completion.chunk", "model": "m"}
    if choices:
        delta = {}
        if content is not None:
            delta["content"] = content
        if reasoning is not None:
            delta["reasoning_content"] = reasoning
        event["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
    else:
        event["choices"] = []
    if usage:
        event["usage"] = usage
    return b"data: " + orjson.dumps(event) + b"\n\n"


STREAM = (
    chunk(content="")  # role-only frame: must not count as the first token
    + chunk(content="Hello")
    + chunk(content=" world", finish="stop")
    + chunk(choices=False, usage={"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9})
    + b"data: [DONE]\n\n"
)


def decode_all(pieces: list[bytes]) -> list[bytes]:
    decoder = SSEDecoder()
    out: list[bytes] = []
    for piece in pieces:
        out.extend(decoder.feed(piece))
    out.extend(decoder.flush())
    return out


def test_decoder_splits_events():
    payloads = decode_all([STREAM])
    assert len(payloads) == 5
    assert payloads[-1] == b"[DONE]"


def test_decoder_handles_crlf_comments_and_multiline_data():
    raw = b": keep-alive\r\n\r\nevent: message\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: [DONE]\r\n\r\n"
    assert decode_all([raw]) == [b'{"a":\n1}', b"[DONE]"]


def test_decoder_flushes_an_unterminated_last_event():
    assert decode_all([b"data: {}\n\ndata: [DONE]"]) == [b"{}", b"[DONE]"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12), st.booleans())
def test_decoder_result_does_not_depend_on_how_bytes_are_split(cuts, crlf):
    raw = STREAM.replace(b"\n", b"\r\n") if crlf else STREAM
    cuts = sorted({min(c, len(raw)) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    assert decode_all(pieces) == decode_all([STREAM])


def accumulate(raw: bytes, stamps=None):
    acc = ResponseAccumulator(request_start_ns=0)
    for i, payload in enumerate(decode_all([raw])):
        if acc.add_event(payload, (stamps or {}).get(i, 1000 * (i + 1))):
            break
    return acc


def test_accumulator_collects_text_usage_and_first_token_time():
    acc = accumulate(STREAM)
    completion = acc.finish(99_000, split_think=True, think_end_tag="</think>")
    assert completion.text == "Hello world"
    assert completion.finish_reason == "stop"
    assert completion.usage.completion_tokens == 2 and completion.usage.source == "server"
    # The role-only frame (event 0, t=1000) is not the first token; "Hello" (event 1, t=2000) is.
    assert completion.timings.first_token_ns == 2000
    assert completion.timings.chunk_ns == [2000, 3000]
    assert completion.timings.done_ns == 99_000


@pytest.mark.parametrize("shape", ["own chunk, choices []", "inside the finish frame"])
def test_usage_is_read_from_either_shape_servers_send(shape):
    """OpenAI, vLLM and transformers 5.25 send usage in a last chunk with empty `choices`; transformers <= 5.24
    put it in the finish frame beside `finish_reason`. Both give the same completion."""
    usage = {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    if shape == "inside the finish frame":
        raw = chunk(content="Hello") + chunk(content=" world") + chunk(finish="length", usage=usage)
    else:
        raw = chunk(content="Hello") + chunk(content=" world") + chunk(finish="length") + chunk(choices=False,
                                                                                                 usage=usage)
    completion = accumulate(raw).finish(99_000, split_think=True, think_end_tag="</think>")
    assert completion.text == "Hello world" and completion.finish_reason == "length"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (7, 2)
    assert completion.usage.source == "server"


def test_reasoning_deltas_count_as_first_token_but_not_first_content():
    raw = chunk(reasoning="Let me think") + chunk(content="42", finish="stop") + b"data: [DONE]\n\n"
    completion = accumulate(raw).finish(10_000, split_think=True, think_end_tag="</think>")
    assert completion.reasoning == "Let me think"
    assert completion.text == "42"
    assert completion.timings.first_token_ns == 1000
    assert completion.timings.first_content_ns == 2000


def test_inline_think_is_split_off_and_first_content_is_after_it():
    raw = (chunk(content="<think>\nhmm") + chunk(content=" ok</think>") + chunk(content="\n\n")
           + chunk(content="The answer is 7", finish="stop") + b"data: [DONE]\n\n")
    completion = accumulate(raw).finish(10_000, split_think=True, think_end_tag="</think>")
    assert completion.reasoning == "hmm ok"
    assert completion.text == "The answer is 7"
    assert completion.timings.first_token_ns == 1000
    assert completion.timings.first_content_ns == 4000


def test_think_closed_without_opening_tag_in_output():
    # Qwen3 puts "<think>\n" in the prompt, so the output only has the closing tag.
    raw = chunk(content="step one\n</think>\n\nB", finish="stop") + b"data: [DONE]\n\n"
    completion = accumulate(raw).finish(1, split_think=True, think_end_tag="</think>")
    assert (completion.reasoning, completion.text) == ("step one", "B")


def test_split_think_off_keeps_raw_text():
    raw = chunk(content="<think>a</think>b", finish="stop") + b"data: [DONE]\n\n"
    completion = accumulate(raw).finish(1, split_think=False, think_end_tag="</think>")
    assert completion.text == "<think>a</think>b" and completion.reasoning is None


def test_malformed_chunk_and_error_event_raise_typed_errors():
    with pytest.raises(MalformedResponseError):
        ResponseAccumulator(0).add_event(b'{"choices": [', 1)
    with pytest.raises(MalformedResponseError):
        ResponseAccumulator(0).add_event(b"[1, 2]", 1)
    with pytest.raises(ServerReportedError, match="overloaded"):
        ResponseAccumulator(0).add_event(b'{"error": {"message": "overloaded"}}', 1)


def test_non_streamed_body():
    body = orjson.dumps({
        "id": "x", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "B", "reasoning_content": "because"},
                     "finish_reason": "length"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8,
                  "completion_tokens_details": {"reasoning_tokens": 4}},
    })
    acc = ResponseAccumulator(0)
    acc.add_body(body, 500, chat=True)
    completion = acc.finish(600, split_think=True, think_end_tag="</think>")
    assert (completion.text, completion.reasoning, completion.finish_reason) == ("B", "because", "length")
    assert completion.truncated
    assert completion.usage.reasoning_tokens == 4
    assert completion.timings.first_token_ns == 500


@pytest.mark.parametrize("body", [b"<html>", b"[]", b'{"choices": []}', b'{"choices": [{"message": 3}]}'])
def test_non_streamed_body_that_is_not_openai(body):
    with pytest.raises(MalformedResponseError):
        ResponseAccumulator(0).add_body(body, 1, chat=True)


def decode_events(pieces: list[bytes]) -> tuple[list, bool]:
    decoder = SSEDecoder()
    events: list = []
    done = False
    for piece in pieces:
        batch, finished = decoder.feed_events(piece)
        events.extend(batch)
        done = done or finished
    return events, done


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12), st.booleans())
def test_block_decoder_matches_the_event_by_event_path(cuts, crlf):
    raw = STREAM.replace(b"\n", b"\r\n") if crlf else STREAM
    cuts = sorted({min(c, len(raw)) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    events, done = decode_events(pieces)
    expected = [orjson.loads(p) for p in decode_all([STREAM]) if p != b"[DONE]"]
    assert events == expected and done


def test_block_decoder_falls_back_for_comments_and_names_a_bad_chunk():
    raw = b": ping\n\n" + chunk(content="a") + b"event: x\ndata: {\"b\": 1}\n\n" + b"data: [DONE]\n\n"
    events, done = decode_events([raw])
    assert events[0]["choices"][0]["delta"]["content"] == "a" and events[1] == {"b": 1} and done
    with pytest.raises(MalformedResponseError, match="not JSON"):
        decode_events([chunk(content="a") + b'data: {"choices": [\n\n'])


def test_events_of_one_read_share_its_timestamp():
    acc = ResponseAccumulator(request_start_ns=0)
    events, _ = SSEDecoder().feed_events(chunk(content="a") + chunk(content="b") + chunk(reasoning="r"))
    acc.add_events(events, 7)
    events, _ = SSEDecoder().feed_events(chunk(content="c", finish="stop"))
    acc.add_events(events, 9)
    completion = acc.finish(10, split_think=True, think_end_tag="</think>")
    assert completion.timings.chunk_ns == [7, 7, 7, 9]
    assert completion.text == "abc" and completion.reasoning == "r" and completion.chunk_count == 4


def _complete_by(raw: bytes, cuts: list[int], fast: bool):
    """Feed ``raw`` in pieces through the block fast path or the event-by-event path."""
    acc = ResponseAccumulator(request_start_ns=0)
    decoder = SSEDecoder()
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    for stamp, piece in enumerate(pieces, start=1):
        if fast:
            events, done = decoder.feed_events(piece)
            acc.add_events(events, stamp)
            if done:
                break
        elif any(acc.add_event(p, stamp) for p in decoder.feed(piece)):
            break
    completion = acc.finish(10**6, split_think=True, think_end_tag="</think>")
    return completion.model_dump(exclude={"timings": {"done_ns"}})


event_text = st.one_of(st.none(), st.just(""), st.text(max_size=12))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(event_text, event_text, st.sampled_from([None, "stop", "length"])), min_size=1, max_size=20),
    st.booleans(), st.lists(st.integers(min_value=0, max_value=4000), max_size=6),
)
def test_block_fast_path_gives_the_same_completion_as_the_general_path(deltas, with_usage, cuts):
    raw = b"".join(chunk(content=c, reasoning=r, finish=f) for c, r, f in deltas)
    if with_usage:
        raw += chunk(choices=False, usage={"prompt_tokens": 3, "completion_tokens": len(deltas)})
    raw += b"data: [DONE]\n\n"
    cuts = sorted({min(c, len(raw)) for c in cuts})
    assert _complete_by(raw, cuts, fast=True) == _complete_by(raw, cuts, fast=False)


def test_block_fast_path_rejects_a_malformed_chunk():
    raw = chunk(content="a") + b'data: {"choices": [{"delta": {"content": "b"}}\n\n' + chunk(content="c")
    with pytest.raises(MalformedResponseError, match="not JSON"):
        SSEDecoder().feed_events(raw)
