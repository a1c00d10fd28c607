"""What the simulator says: reasoning modes, replay files, and the token arithmetic behind usage."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.errors import ConfigError
from assay.sim.answers import AnswerMaker, count_tokens, split_tokens
from assay.sim.config import SimConfig
from assay.sim.replay import ReplayBook

pytestmark = pytest.mark.timeout(30)


# --- token arithmetic -------------------------------------------------------------------------------
@given(st.text(max_size=200))
def test_split_tokens_joins_back_and_matches_the_count(text):
    pieces = split_tokens(text)
    assert "".join(pieces) == text
    if text.strip():
        assert len(pieces) == count_tokens(text)


def test_count_tokens_examples():
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("don't") == 3
    assert count_tokens("   ") == 0
    assert split_tokens("Paris is nice.\n") == ["Paris", " is", " nice", ".\n"]


def _maker(**config) -> AnswerMaker:
    return AnswerMaker(SimConfig(**config), random.Random(0))


def test_filler_reasoning_counts_against_max_tokens():
    maker = _maker(output_len="10", reasoning="field", reasoning_len="8")
    answer = maker.filler(max_tokens=12, min_tokens=0, ignore_eos=False, reasoning="field")
    assert answer.reasoning_count == 8 and answer.completion_tokens == 12
    assert answer.finish_reason == "length"
    # Reasoning that uses up max_tokens leaves no answer at all.
    answer = maker.filler(max_tokens=5, min_tokens=0, ignore_eos=False, reasoning="field")
    assert answer.reasoning_count == 5 and answer.content_text == ""


def test_inline_reasoning_is_wrapped_in_think_tags():
    maker = _maker(output_len="2", reasoning="inline", reasoning_len="3")
    answer = maker.filler(max_tokens=100, min_tokens=0, ignore_eos=False, reasoning="inline")
    assert answer.content_text == "<think>\nOkay let me\n</think>\n\nThe quick"
    assert answer.reasoning_text is None
    assert answer.reasoning_count == 5 and answer.completion_tokens == 7


# --- reasoning over HTTP ----------------------------------------------------------------------------
async def test_reasoning_field(start_sim, chat_body):
    _, sim = await start_sim(output_len="3", reasoning="field", reasoning_len="4")
    _, body, _ = await sim.post("/chat/completions", chat_body(max_tokens=100))
    message = body["choices"][0]["message"]
    assert message["reasoning_content"] == "Okay let me think"
    assert message["content"] == "The quick brown"
    assert body["usage"]["completion_tokens"] == 7
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4

    result = await sim.stream("/chat/completions", chat_body(max_tokens=100))
    assert result.text("reasoning_content") == "Okay let me think"
    assert result.text("content") == "The quick brown"
    deltas = [event["choices"][0]["delta"] for event in result.chunks[1:-1]]
    assert [next(iter(delta)) for delta in deltas] == ["reasoning_content"] * 4 + ["content"] * 3


async def test_reasoning_inline(start_sim, chat_body):
    _, sim = await start_sim(output_len="2", reasoning="inline", reasoning_len="2")
    _, body, _ = await sim.post("/chat/completions", chat_body(max_tokens=100))
    assert body["choices"][0]["message"]["content"] == "<think>\nOkay let\n</think>\n\nThe quick"
    assert "reasoning_content" not in body["choices"][0]["message"]
    result = await sim.stream("/chat/completions", chat_body(max_tokens=100))
    assert result.text() == "<think>\nOkay let\n</think>\n\nThe quick"


async def test_enable_thinking_false_turns_reasoning_off(start_sim, chat_body):
    _, sim = await start_sim(output_len="2", reasoning="field", reasoning_len="5")
    body = chat_body(max_tokens=100, chat_template_kwargs={"enable_thinking": False})
    _, payload, _ = await sim.post("/chat/completions", body)
    assert "reasoning_content" not in payload["choices"][0]["message"]
    assert payload["usage"]["completion_tokens"] == 2
    assert payload["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    result = await sim.stream("/chat/completions", body)
    assert result.text("reasoning_content") == ""


async def test_completions_put_reasoning_inline(start_sim):
    _, sim = await start_sim(output_len="1", reasoning="field", reasoning_len="1")
    _, body, _ = await sim.post("/completions", {"prompt": "x", "max_tokens": 10})
    assert body["choices"][0]["text"] == "<think>\nOkay\n</think>\n\nThe"


# --- replay -----------------------------------------------------------------------------------------
@pytest.fixture
def replay_file(tmp_path):
    path = tmp_path / "replay.jsonl"
    path.write_text(
        '{"prompt": "What is 2+2?", "response": "The answer is 4.", "reasoning": "Two plus two is four."}\n'
        "\n"
        '{"prompt_contains": "capital of France", "response": "Paris"}\n'
        '{"prompt_contains": "capital", "response": "Some city", "finish_reason": "length"}\n'
        '{"prompt": "Tell me about the capital of France", "response": "Exact wins"}\n',
        encoding="utf-8",
    )
    return path


async def test_replay_exact_and_contains(start_sim, chat_body, replay_file):
    _, sim = await start_sim(replay_path=replay_file, reasoning="field")
    _, body, _ = await sim.post("/chat/completions", chat_body("What is 2+2?"))
    message = body["choices"][0]["message"]
    assert message["content"] == "The answer is 4."
    assert message["reasoning_content"] == "Two plus two is four."
    assert body["usage"]["completion_tokens"] == count_tokens("The answer is 4.Two plus two is four.")

    result = await sim.stream("/chat/completions", chat_body("What is 2+2?"))
    assert result.text() == "The answer is 4."
    assert [e["choices"][0]["delta"].get("content") for e in result.chunks[-6:-1]] == \
        ["The", " answer", " is", " 4", "."]

    _, body, _ = await sim.post("/chat/completions", chat_body("Name the capital of France, please"))
    assert body["choices"][0]["message"]["content"] == "Paris"
    _, body, _ = await sim.post("/chat/completions", chat_body("What is the capital of Peru?"))
    assert body["choices"][0]["message"]["content"] == "Some city"
    assert body["choices"][0]["finish_reason"] == "length"
    _, body, _ = await sim.post("/chat/completions", chat_body("Tell me about the capital of France"))
    assert body["choices"][0]["message"]["content"] == "Exact wins"


async def test_replay_matches_last_user_message(start_sim, replay_file):
    _, sim = await start_sim(replay_path=replay_file)
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "What is 2+2?"},
    ]
    _, body, _ = await sim.post("/chat/completions", {"messages": messages})
    assert body["choices"][0]["message"]["content"] == "The answer is 4."
    assert "reasoning_content" not in body["choices"][0]["message"]  # reasoning mode is none


async def test_replay_completions_and_max_tokens(start_sim, replay_file):
    _, sim = await start_sim(replay_path=replay_file)
    _, body, _ = await sim.post("/completions", {"prompt": "What is 2+2?", "max_tokens": 3})
    choice = body["choices"][0]
    assert (choice["text"], choice["finish_reason"]) == ("The answer is", "length")


async def test_replay_miss_falls_back_to_filler_or_404_when_strict(start_sim, chat_body, replay_file):
    _, sim = await start_sim(replay_path=replay_file, output_len="2")
    _, body, _ = await sim.post("/chat/completions", chat_body("Unrelated"))
    assert body["choices"][0]["message"]["content"] == "The quick"
    _, strict = await start_sim(replay_path=replay_file, replay_strict=True)
    status, body, _ = await strict.post("/chat/completions", chat_body("Unrelated"))
    assert status == 404 and "replay" in body["error"]["message"]
    assert (await strict.post("/chat/completions", chat_body("What is 2+2?")))[0] == 200


def test_bad_replay_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read replay file"):
        ReplayBook.load(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "response": "b"}\n{"response": "no key"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:2: bad replay entry"):
        ReplayBook.load(bad)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r":1: "):
        ReplayBook.load(bad)


async def test_server_start_fails_on_bad_replay_file(tmp_path):
    from assay.sim import SimServer

    with pytest.raises(ConfigError):
        await SimServer(SimConfig(port=0, replay_path=tmp_path / "missing.jsonl")).start()
