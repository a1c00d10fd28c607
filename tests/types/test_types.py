"""Core types: derived timings, generation payloads, validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from assay.types import Completion, GenerationConfig, Message, Sample, SampleResult, Score, Timings

MS = 1_000_000


def test_timings_derive_ttft_latency_and_gaps():
    t = Timings(request_start_ns=0, first_token_ns=50 * MS, first_content_ns=80 * MS, done_ns=200 * MS,
                chunk_ns=[50 * MS, 60 * MS, 80 * MS, 110 * MS])
    assert t.time_to_first_token_s == pytest.approx(0.050)
    assert t.time_to_first_content_s == pytest.approx(0.080)
    assert t.latency_s == pytest.approx(0.200)
    # TTFT is not folded into the gaps: one gap per pair of chunks.
    assert t.inter_chunk_gaps_s() == pytest.approx([0.010, 0.020, 0.030])


def test_timings_missing_stamps_give_none():
    t = Timings(request_start_ns=5)
    assert t.time_to_first_token_s is None and t.latency_s is None and t.inter_chunk_gaps_s() == []


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=50))
def test_gaps_sum_to_the_span_of_chunks(stamps):
    stamps = sorted(stamps)
    t = Timings(request_start_ns=0, chunk_ns=stamps)
    assert len(t.inter_chunk_gaps_s()) == len(stamps) - 1
    assert sum(t.inter_chunk_gaps_s()) == pytest.approx((stamps[-1] - stamps[0]) / 1e9, abs=1e-6)


def test_generation_config_payload_omits_unset_and_merges_extra_body():
    gen = GenerationConfig(max_tokens=10, stop="###", extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    assert gen.to_payload() == {"max_tokens": 10, "stop": ["###"], "chat_template_kwargs": {"enable_thinking": True}}
    assert GenerationConfig().to_payload() == {}


@pytest.mark.parametrize("bad", [{"max_tokens": 0}, {"temperature": -0.1}, {"top_p": 1.5}, {"n": 0}, {"bogus": 1}])
def test_generation_config_rejects_bad_values(bad):
    with pytest.raises(ValidationError):
        GenerationConfig(**bad)


def test_message_text_joins_text_parts():
    message = Message.user([{"type": "text", "text": "What is "},
                            {"type": "image_url", "image_url": {"url": "data:,"}}, {"type": "text", "text": "this?"}])
    assert message.text() == "What is this?"
    with pytest.raises(ValidationError):
        Message(role="robot", content="x")


def test_sample_result_round_trips_through_json():
    result = SampleResult(
        sample=Sample(id="gsm8k/1", messages=[Message.user("1+1?")], target="2", metadata={"level": 1}),
        completions=[Completion(text="2", finish_reason="stop")],
        scores=[Score(values={"acc": 1.0, "judge": None}, extracted="2")],
        benchmark="gsm8k", benchmark_version="1",
    )
    again = SampleResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert again.scores[0].graded and not Score(values={"acc": None}).graded
    assert not Completion(finish_reason="length").ok or Completion(finish_reason="length").truncated
