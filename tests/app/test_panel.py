"""The sample panel's values without a browser: every repeat one after another, or the one picked."""

from __future__ import annotations

import pytest

pytest.importorskip("gradio", reason="gradio is not installed (the `app` extra)")

from assay.app.samples import AnswerView, SampleView  # noqa: E402
from assay.app.ui import ALL, repeat_choices, sample_outputs  # noqa: E402


def _answer(text: str, reasoning: str, score: float) -> AnswerView:
    return AnswerView(answer=text, reasoning=reasoning, extracted=text[-1], scores={"acc": score}, judge=None,
                      error=None, finish_reason="stop", prompt_tokens=5, completion_tokens=3, reasoning_tokens=None,
                      latency_s=0.1, time_to_first_token_s=0.01)


VIEW = SampleView(row=0, sample_id="s1", subset="default", status="wrong", value=0.5, prompt="What is 1+1?",
                  target="2", choices=None, answers=[_answer("it is 2", "one plus one", 1.0),
                                                     _answer("it is 3", "guessing", 0.0)])


def test_every_repeat_is_shown_labelled_until_one_is_picked():
    header, prompt, reasoning, answer, extracted, target, details = sample_outputs(VIEW)
    assert answer == "--- repeat 1 ---\nit is 2\n\n--- repeat 2 ---\nit is 3"
    assert reasoning.startswith("--- repeat 1 ---\none plus one") and [r["repeat"] for r in details["repeats"]] == [1, 2]
    assert repeat_choices(VIEW) == [ALL, 1, 2]


@pytest.mark.parametrize("picked, text, reasoning, score", [(1, "it is 2", "one plus one", 1.0),
                                                            ("2", "it is 3", "guessing", 0.0)])
def test_a_picked_repeat_is_shown_alone(picked, text, reasoning, score):
    _, _, shown_reasoning, answer, extracted, _, details = sample_outputs(VIEW, picked)
    assert (answer, shown_reasoning, extracted) == (text, reasoning, text[-1])
    assert [(r["repeat"], r["scores"]["acc"]) for r in details["repeats"]] == [(int(picked), score)]


def test_one_repeat_needs_no_picker():
    single = SampleView(**{**VIEW.__dict__, "answers": VIEW.answers[:1]})
    assert repeat_choices(single) == [ALL] and sample_outputs(single)[3] == "it is 2"
    assert repeat_choices(None) == [ALL]
