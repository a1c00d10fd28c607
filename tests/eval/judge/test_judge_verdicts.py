"""The judge's pure parts: verdict parsing, the prompt, judge_model_args, strategies, verdicts into scores."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.errors import ConfigError
from assay.eval.config import TaskConfig
from assay.eval.scoring.judge import (
    JudgeModelConfig,
    JudgeVerdict,
    apply_verdict,
    parse_rating,
    parse_verdict,
    render_judge_prompt,
    resolve_mode,
)
from assay.types import Score

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(("reply", "expected"), [
    ("The candidate says 7, as does the reference.\nVERDICT: CORRECT", True),
    ("It says 8; the reference is 7.\nVERDICT: INCORRECT", False),
    ("verdict: correct", True),
    ("**Verdict:** INCORRECT", False),
    ("VERDICT: [CORRECT]", True),
    ("I must end with VERDICT: CORRECT or VERDICT: INCORRECT.\nThey differ.\nVERDICT: INCORRECT", False),
    ("CORRECT", True),
    ("  **INCORRECT**. ", False),
    ("<think>maybe VERDICT: INCORRECT</think>VERDICT: CORRECT", True),
    ("Verdict: yes", True),
    ("Verdict - wrong", False),
    ("", None),
    (None, None),
    ("I cannot tell.", None),
    ("The answer is partly correct and partly incorrect.", None),
    ("VERDICT: CORRECTLY FORMATTED", None),
    ("correct incorrect", None),
])
def test_parse_verdict(reply, expected) -> None:
    assert parse_verdict(reply) is expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="cCvV"), max_size=200))
def test_text_without_a_verdict_word_is_undecided(text: str) -> None:
    assert parse_verdict(text) is None  # never a silent "wrong"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=100), st.booleans())
def test_the_last_verdict_line_wins(prefix: str, correct: bool) -> None:
    reply = f"{prefix}\nVERDICT: {'CORRECT' if correct else 'INCORRECT'}"
    assert parse_verdict(reply) is correct


def test_prompt_keeps_braces_and_fills_user_templates() -> None:
    prompt = render_judge_prompt("Solve $x^{2}=4$", "\\{-2, 2\\}", "x = {2}")
    assert "[Question]\nSolve $x^{2}=4$" in prompt and "[Reference answer]\n\\{-2, 2\\}" in prompt
    assert "[Candidate answer]\nx = {2}" in prompt and prompt.rstrip().endswith('"VERDICT: INCORRECT".')
    custom = render_judge_prompt("q", "gold", "pred", "Q={question} R={gold} C={pred} {unknown}")
    assert custom == "Q=q R=gold C=pred {unknown}"


def test_judge_model_args() -> None:
    config = JudgeModelConfig.from_args({"model_id": "judge", "api_url": "http://127.0.0.1:1/v1",
                                         "api_key": "sk-secret", "generation_config": {"max_tokens": 64}})
    assert config.api_key is not None and "sk-secret" not in repr(config)
    assert config.generation_config.max_tokens == 64 and config.generation_config.temperature is None
    assert JudgeModelConfig.from_args({"model": "j", "api_url": "http://h/v1"}).generation_config.temperature == 0
    fingerprint = config.fingerprint()
    assert fingerprint["model_id"] == "judge" and "api_key" not in fingerprint and "api_url" not in fingerprint
    with pytest.raises(ConfigError, match="judge_model_args.temprature"):
        JudgeModelConfig.from_args({"model_id": "j", "api_url": "http://h/v1", "temprature": 0})
    with pytest.raises(ConfigError, match="judge_model_args.api_url"):
        JudgeModelConfig.from_args({"model_id": "j"})


def test_strategies_and_aliases() -> None:
    assert TaskConfig(eval_type="sim", judge_strategy="rule_then_llm").judge_strategy == "llm_recall"
    assert [resolve_mode(s) for s in ("auto", "rule", "llm", "llm_recall", "rule_then_llm")] == \
        ["rule", "rule", "llm", "llm_recall", "llm_recall"]
    public = TaskConfig(eval_type="sim", judge_model_args={"api_key": "sk-x", "model_id": "j"}).public_dict()
    assert public["judge_model_args"] == {"api_key": "***", "model_id": "j"}


def test_apply_verdict() -> None:
    rule = Score(values={"acc": 0.0}, extracted="8", metadata={"rule": "boxed"})
    right = apply_verdict(rule, JudgeVerdict(correct=True, model="j", prompt="p", reply="VERDICT: CORRECT"))
    assert right.values == {"acc": 1.0} and right.metadata["rule_acc"] == 0.0 and right.metadata["rule"] == "boxed"
    assert right.metadata["judge"]["reply"] == "VERDICT: CORRECT" and right.explanation == "judge: CORRECT"
    unread = apply_verdict(rule, JudgeVerdict(correct=None, model="j", prompt="p", reply="hmm"))
    assert unread.values == {"acc": None} and not unread.graded
    failed = apply_verdict(Score(values={"f1": 0.5}), JudgeVerdict(model="j", prompt="p", error="http_status: 500"))
    assert failed.values == {"f1": 0.5, "acc": None} and "judge failed" in (failed.explanation or "")
    assert rule.values == {"acc": 0.0}  # the rule's score is not changed in place


@pytest.mark.parametrize("reply, rating", [
    ("Mostly right but the unit is missing.\nRating: [[7]]", 7.0),
    ("Rating: [[3]] at first... no, on reflection Rating: [[8]]", 8.0),  # the last one counts
    ("<think>Rating: [[2]]?</think>Solid answer. Rating: 9/10", 9.0),  # the reasoning is not the reply
    ("I'd say [[ 10 ]].", 10.0),
    ("Rating: [[0]]", None),  # out of the 1-10 range
    ("Rating: [[11]]", None),
    ("A fine answer.", None),
    ("", None),
])
def test_numeric_ratings_are_read_from_the_last_rating(reply, rating):
    assert parse_rating(reply) == rating


def test_a_numeric_rating_becomes_a_score_out_of_one():
    rule = Score(values={"acc": 0.0, "f1": 0.4})
    verdict = JudgeVerdict(rating=7.0, model="judge", prompt="p", reply="Rating: [[7]]")
    score = apply_verdict(rule, verdict)
    assert score.values == {"acc": 0.7, "f1": 0.4} and score.explanation == "judge: rated 7/10"
    assert score.metadata["rule_acc"] == 0.0 and score.metadata["judge"]["rating"] == 7.0
    unreadable = apply_verdict(rule, JudgeVerdict(model="judge", prompt="p", reply="fine"))
    assert unreadable.values["acc"] is None and "not graded" in unreadable.explanation
