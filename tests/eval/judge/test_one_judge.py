"""One LLM judge for eval and ``assay think``: one class, one config, one translation into the client.

eval's ``judge_model_args`` and think's ``JudgeConfig`` give the same client settings; think's first-correct
judge and its step splitter share one cache file and one client (its retries); the judge's key appears in no
fingerprint, dump or log line; and no second LLM judge class has crept back in.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import orjson
import pytest

from assay.eval import TaskConfig
from assay.eval.benchmarks import get_benchmark
from assay.eval.runner import _llm_judge
from assay.eval.scoring.judge import LLMJudge, make_judge
from assay.sim import SimConfig, SimServer
from assay.think.analyse import judge_first_correct, step_splitter
from assay.think.config import JudgeConfig
from assay.think.firstcorrect import UNREADABLE
from assay.think.splitting import split_steps

pytestmark = pytest.mark.timeout(60)

SRC = Path(__file__).resolve().parents[3] / "src" / "assay"
KEY = "sk-one-judge-Xy7SECRET"
TEXT = "Let me start by computing 2 + 3 here.\n\nBut wait, that is 5 indeed."


def _sim(tmp_path: Path, **faults: object) -> SimServer:
    replay = tmp_path / "replay.jsonl"
    replay.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in (
        {"prompt_contains": "<reasoning>", "response": '["Let me start by computing", "But wait, that is"]'},
        {"prompt_contains": "Find the first paragraph", "response": "It is \\boxed{2}."},
    )))
    return SimServer(SimConfig(port=0, replay_path=replay, replay_strict=True, latency_model="fixed", ttft_ms=0,
                               itl_ms=0, seed=1, **faults))


def test_eval_and_think_configs_give_the_same_client_settings() -> None:
    url = "http://judge.example:8000/v1"
    task = TaskConfig(model="m", api_url="http://127.0.0.1:9/v1", datasets=["general_qa"], judge_strategy="llm",
                      judge_worker_num=4, judge_model_args={"model_id": "j", "api_url": url, "api_key": KEY,
                                                            "read_timeout": 120, "max_retries": 5})
    eval_judge = _llm_judge(task, [get_benchmark("general_qa")])
    think_judge = make_judge(JudgeConfig(api_url=url, model="j", api_key=KEY, max_concurrency=4,
                                         read_timeout_s=120, max_retries=5))
    assert type(eval_judge) is type(think_judge) is LLMJudge
    assert eval_judge.client_config() == think_judge.client_config()
    settings = think_judge.client_config()
    assert (settings.max_retries, settings.read_timeout_s, settings.max_connections) == (5, 120, 4)
    assert settings.api_key is not None and settings.api_key.get_secret_value() == KEY
    # what think's judge always asked with: no system prompt, temperature 0, its own max_tokens, no streaming
    assert think_judge.config.system_prompt is None and not think_judge.config.stream
    assert think_judge.config.generation_config.temperature == 0.0
    assert think_judge.config.generation_config.max_tokens == 512


async def test_the_judge_asks_through_the_model_seams_openai_backend(tmp_path: Path) -> None:
    """The judge is a model like the one under test: the registry's openai_api backend, with its settings."""
    from assay.models import get_backend

    async with _sim(tmp_path) as sim:
        judge = make_judge(JudgeConfig(api_url=sim.base_url, model="judge", api_key=KEY, max_retries=5,
                                       read_timeout_s=120))
        async with judge:
            assert await judge_first_correct(judge, "What is 2 + 3?", "5", [split for split in (
                await step_splitter(judge).steps(TEXT) or [])]) == 1
            model = judge._model
            assert type(model) is get_backend("openai_api").cls
            assert model.config == judge.client_config().model_copy(update={"base_url": model.config.base_url})
        assert judge._model is None and sim.stats()["requests_total"] == 2  # closed with the judge


async def test_the_splitter_and_the_judge_share_one_cache_file(tmp_path: Path) -> None:
    cache = tmp_path / "think" / "judge_cache.jsonl"
    async with _sim(tmp_path) as sim:
        judge = make_judge(JudgeConfig(api_url=sim.base_url, model="judge", api_key=KEY), cache_path=cache)
        async with judge:
            steps = await step_splitter(judge).steps(TEXT)
            assert steps is not None and [s.text.split()[0] for s in steps] == ["Let", "But"]
            assert await judge_first_correct(judge, "What is 2 + 3?", "5", steps) == 1
        assert sim.stats()["requests_total"] == 2
    entries = [orjson.loads(line) for line in cache.read_bytes().splitlines()]
    assert len(entries) == 2 and KEY not in cache.read_text()
    # Another judge on the same file (its server gone) answers both questions from it.
    again = make_judge(JudgeConfig(api_url="http://127.0.0.1:9/v1", model="judge", max_retries=0), cache_path=cache)
    async with again:
        steps = await step_splitter(again).steps(TEXT)
        assert steps is not None and await judge_first_correct(again, "What is 2 + 3?", "5", steps) == 1
    assert again.requests == 0


async def test_the_splitter_and_the_judge_share_the_retries(tmp_path: Path, caplog) -> None:
    cache = tmp_path / "judge_cache.jsonl"
    caplog.set_level(logging.DEBUG)
    async with _sim(tmp_path, error_rate=1.0) as sim:
        judge = make_judge(JudgeConfig(api_url=sim.base_url, model="judge", api_key=KEY, max_retries=2),
                           cache_path=cache)
        async with judge:
            assert await step_splitter(judge).steps(TEXT) is None  # failed: the caller falls back to paragraphs
            steps = split_steps(TEXT, "paragraphs", [])
            assert await judge_first_correct(judge, "What is 2 + 3?", "5", steps) is UNREADABLE
        assert sim.stats()["requests_total"] == 2 * 3  # each: the first try and its two retries
    assert not cache.exists() or not cache.read_bytes()  # failures are never cached
    assert "judge request failed" in caplog.text and KEY not in caplog.text


def test_the_key_is_in_no_fingerprint_dump_or_repr() -> None:
    args = {"model_id": "j", "api_url": "http://user:pw@judge.example/v1", "api_key": KEY}
    task = TaskConfig(model="m", api_url="http://127.0.0.1:9/v1", datasets=["general_qa"], judge_strategy="llm",
                      judge_model_args=args)
    judges = [_llm_judge(task, [get_benchmark("general_qa")]),
              make_judge(JudgeConfig(api_url=args["api_url"], model="j", api_key=KEY)),
              make_judge({"system_prompt": None, **args}, where="arena_hard.baseline_model_args")]
    bench = get_benchmark("general_qa")(judge_strategy="llm", llm_judge=judges[0])
    shown = [orjson.dumps(task.public_dict()).decode(), orjson.dumps(bench.scoring_fingerprint()).decode()]
    secret_only: list[str] = []
    for judge in judges:
        fingerprint = orjson.dumps(judge.config.fingerprint()).decode()
        assert "judge.example" not in fingerprint  # the URL (and any credential in it) is no part of a verdict
        shown += [fingerprint, repr(judge.config)]
        secret_only += [judge.config.model_dump_json(), repr(judge.client_config()),
                        judge.client_config().model_dump_json()]
    for text in shown:
        assert KEY not in text and "user:pw@" not in text
    for text in secret_only:
        assert KEY not in text  # a SecretStr dumps as stars


def test_one_llm_judge_class() -> None:
    """The LLM judge is ``assay.eval.scoring.judge.LLMJudge``: think has no judge class of its own, and no module
    but the judge's builds a client for a judge (eval, pairwise's baseline and think all go through it)."""
    classes: dict[str, list[str]] = {}
    clients = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(SRC))
        for name in re.findall(r"^\s*class (\w*Judge)\b", text, re.MULTILINE):
            classes.setdefault(name, []).append(where)
        if re.search(r"\b(OpenAIClient|ClientConfig)\(", text) and not where.startswith(("client/", "models/",
                                                                                          "perf/")):
            clients.append(where)
    assert classes.pop("LLMJudge") == ["eval/scoring/judge.py"]
    # the arena protocol (two orders, tie rules) on top of an LLMJudge: it holds one, it asks no server itself
    assert classes == {"PairwiseJudge": ["eval/scoring/pairwise.py"]}
    assert clients == ["eval/scoring/judge.py"]
    assert not [p for p in (SRC / "think").rglob("*.py") if re.search(r"^class \w*Judge\b", p.read_text(), re.M)]


def test_the_math_checker_is_no_judge() -> None:
    import assay.eval.scoring as scoring
    from assay.eval.scoring import symbolic

    with pytest.warns(DeprecationWarning, match="MathChecker"):
        assert symbolic.MathJudge is symbolic.MathChecker
    with pytest.warns(DeprecationWarning):
        assert scoring.MathJudge is symbolic.MathChecker
    for path in (SRC / "eval" / "benchmarks").glob("*.py"):
        assert not re.search(r"def ascore\w*\([^)]*\bjudge\b", path.read_text()), path.name  # its name: checker
