"""End to end: two simulated reasoning models answer a small MATH-500 in replay mode, `assay eval` runs
them, and `assay think` gives exactly the table their known traces imply, and the figure."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from assay import TaskConfig, run_task
from assay.data import DatasetLoader
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.think import ThinkConfig, arun_think, run_think
from assay.think.config import DEFAULT_MARKERS
from assay.think.firstcorrect import judge_prompt
from assay.think.report import table_rows
from assay.think.splitting import split_steps

from .conftest import build_word_tokenizer

pytestmark = pytest.mark.timeout(90)

FIXTURE = Path(__file__).parent / "fixtures" / "math_500"
QUESTIONS = {"5": "2 + 3", "8": "4 + 4", "42": "6 * 7", "144": "12 * 12"}


def fast_trace(q: str, a: str) -> list[str]:
    """Reaches the answer in the first paragraph and stops after one more."""
    return [f"{q} = {a}.", f"So the answer is {a}."]


def slow_trace(q: str, a: str) -> list[str]:
    """A wrong value first, the answer in the third paragraph, then two re-checks."""
    wrong = str(int(a) + 1)
    return [f"Let me think about {q}.", f"Hmm, {q} = {wrong}.", f"But wait, {q} = {a}.",
            f"Alternatively, check again: {q} = {a}. The answer is {a}.",
            f"Let me reconsider once more. The answer is {a}."]


def lost_trace(q: str, a: str) -> list[str]:
    """Never reaches the answer."""
    wrong = str(int(a) + 1)
    return ["Let me think.", f"{q} = {wrong}.", f"But wait, maybe not. The answer is {wrong}."]


def samples():
    benchmark = get_benchmark("math_500")(DatasetArgs(dataset_id=str(FIXTURE)), 42)
    return benchmark, benchmark.load(DatasetLoader(hub="local"), None)


def write_replay(path: Path, model: str) -> Path:
    benchmark, items = samples()
    with path.open("wb") as handle:
        for sample in items:
            a = str(sample.target)
            q = QUESTIONS[a]
            lost = model == "slow" and sample.subset == "Level 3"
            paragraphs = (fast_trace if model == "fast" else lost_trace if lost else slow_trace)(q, a)
            final = str(int(a) + 1) if lost else a
            prompt = benchmark.prompt(sample, [])[-1].text()
            handle.write(orjson.dumps({"prompt": prompt, "reasoning": "\n\n".join(paragraphs),
                                       "response": f"The final answer is $\\boxed{{{final}}}$."}) + b"\n")
    return path


def eval_run(tmp_path: Path, model: str) -> Path:
    replay = write_replay(tmp_path / f"{model}.jsonl", model)
    task = TaskConfig(
        eval_type="sim", model=f"{model}-thinker", datasets=["math_500"],
        dataset_args={"math_500": {"dataset_id": str(FIXTURE)}}, work_dir=str(tmp_path / "runs"),
        model_args={"replay_path": str(replay), "reasoning": "field", "latency_model": "fixed", "ttft_ms": 0,
                    "itl_ms": 0, "seed": 1},
    )
    return run_task(task, show=False).run_dir


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("think-e2e")
    return eval_run(tmp, "fast"), eval_run(tmp, "slow"), build_word_tokenizer(tmp / "tokenizer.json")


# Token counts of the traces (words and punctuation marks, as the tokenizer and the simulator count):
#   fast, every problem: [6, 6] → T 12, T̂ 6 (first paragraph), 1 thought, one solution → D 12
#   slow, Levels 1-2: [8, 8, 9, 16, 11] → T 52, T̂ 25 (third paragraph: 8 + 8 + 9), 4 thoughts (the first,
#         "but wait", "alternatively", "let me reconsider"); solutions: ¶1-4 answering the target (41
#         tokens, distinct) and ¶5 answering it again (not distinct) → D 41
#   slow, Level 3: [4, 6, 11] → T 21, never reaches 144, 2 thoughts; one solution (answering 145) → D 21
# slow "all": T (3·52 + 21)/4 = 44.25; ξ_O = 3·(25/52)/4 = 0.361; ξ_P = (3·41/52 + 1)/4 = 0.841
EXPECTED = [
    # model, group, traces, acc, T, T̂, T−T̂, T̂/T, thoughts, reached, never, ξ_O, ξ_P
    ["fast-thinker", "Level 1", "2", "1.000", "12.0", "6.0", "6.0", "0.500", "1.00", "2", "0", "0.500", "1.000"],
    ["fast-thinker", "Level 2", "1", "1.000", "12.0", "6.0", "6.0", "0.500", "1.00", "1", "0", "0.500", "1.000"],
    ["fast-thinker", "Level 3", "1", "1.000", "12.0", "6.0", "6.0", "0.500", "1.00", "1", "0", "0.500", "1.000"],
    ["fast-thinker", "all", "4", "1.000", "12.0", "6.0", "6.0", "0.500", "1.00", "4", "0", "0.500", "1.000"],
    ["slow-thinker", "Level 1", "2", "1.000", "52.0", "25.0", "27.0", "0.481", "4.00", "2", "0", "0.481", "0.788"],
    ["slow-thinker", "Level 2", "1", "1.000", "52.0", "25.0", "27.0", "0.481", "4.00", "1", "0", "0.481", "0.788"],
    ["slow-thinker", "Level 3", "1", "0.000", "21.0", "-", "-", "-", "2.00", "0", "1", "0.000", "1.000"],
    ["slow-thinker", "all", "4", "0.750", "44.2", "25.0", "27.0", "0.481", "3.50", "3", "1", "0.361", "0.841"],
]


def test_two_simulated_models_give_exactly_the_expected_table(two_runs, tmp_path):
    fast, slow, tokenizer = two_runs
    out = tmp_path / "think"
    result = run_think(ThinkConfig(runs=[str(fast), str(slow)], dataset="math_500", tokenizer_path=str(tokenizer),
                                   output_dir=str(out)), show=False)
    assert table_rows(result.report) == EXPECTED
    assert result.report.group_by == "level" and result.report.token_source == "local tokenizer"
    saved = orjson.loads((out / "think.json").read_bytes())
    assert [[r["model"], r["group"]] for r in saved["rows"]] == [row[:2] for row in EXPECTED]
    assert len((out / "traces.jsonl").read_bytes().splitlines()) == 8
    png = out / "think.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_server_counts_give_the_same_reasoning_tokens(two_runs, tmp_path):
    fast, slow, _ = two_runs
    result = run_think({"runs": [str(fast), str(slow)], "dataset": "math_500", "output_dir": str(tmp_path)},
                       show=False)
    assert [r.reasoning_tokens for r in result.report.rows] == [12, 12, 12, 12, 52, 52, 21, 44.25]
    assert result.report.token_source.startswith("server reasoning_tokens")


async def _think_with_replayed_judge(tmp_path: Path, entries: list[dict], fast: Path, slow: Path, tokenizer: Path,
                                     **options: object):
    """``arun_think`` on both runs with the simulator as judge, answering from ``entries`` (strict replay)."""
    from assay.sim import SimConfig, SimServer

    replay = tmp_path / "judge.jsonl"
    replay.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    config = SimConfig(port=0, replay_path=replay, replay_strict=True, latency_model="fixed", ttft_ms=0, itl_ms=0)
    async with SimServer(config) as sim:
        return await arun_think(ThinkConfig(
            runs=[str(fast), str(slow)], dataset="math_500", tokenizer_path=str(tokenizer), output_dir=str(tmp_path),
            judge={"api_url": sim.base_url, "model": "judge"}, **options), show=False)


async def test_an_llm_judge_through_the_simulator_and_its_agreement_with_the_rule(two_runs, tmp_path):
    fast, slow, tokenizer = two_runs
    _, items = samples()
    entries = []
    for sample in items:
        a = str(sample.target)
        q = QUESTIONS[a]
        lost = sample.subset == "Level 3"
        for paragraphs, verdict in ((fast_trace(q, a), 1), (lost_trace(q, a) if lost else slow_trace(q, a), 0 if lost else 4)):
            steps = split_steps("\n\n".join(paragraphs), "paragraphs", DEFAULT_MARKERS)
            # The judge agrees with the rule except on the slow model's re-checks (it names ¶4, the rule ¶3).
            entries.append({"prompt": judge_prompt(sample.metadata["question"], a, steps),
                            "response": f"The first correct paragraph is \\boxed{{{verdict}}}."})
    result = await _think_with_replayed_judge(tmp_path, entries, fast, slow, tokenizer)
    assert result.report.agreement == {"compared": 8, "agreed": 5, "judge_unreadable": 0, "rate": 5 / 8}
    assert result.report.first_correct_by == "LLM judge judge"
    slow_level1 = result.report.row("slow-thinker", "Level 1")
    assert slow_level1.first_correct_tokens == 41.0  # by the judge: through ¶4 (8 + 8 + 9 + 16)
    assert {t.method for t in result.traces} == {"judge"}


async def test_llm_split_through_the_simulator_and_its_fallback(two_runs, tmp_path):
    """The slow model's traces are cut where the replayed split says (T̂ moves from 25 to 36); the fast
    model's replies name words not in the trace and the lost trace's reply is prose: both fall back."""
    from assay.think.analyse import LLM_SPLIT_FALLBACK
    from assay.think.splitting import steps_at

    fast, slow, tokenizer = two_runs
    _, items = samples()
    entries = []
    for sample in items:
        a = str(sample.target)
        q = QUESTIONS[a]
        lost = sample.subset == "Level 3"
        slow_text = "\n\n".join(lost_trace(q, a) if lost else slow_trace(q, a))
        fast_text = "\n\n".join(fast_trace(q, a))
        if lost:
            slow_reply, slow_steps, verdict = "I cannot split this.", split_steps(slow_text, "paragraphs", []), 0
        else:
            # three steps: ¶1-2 (16 tokens), ¶3 + the first sentence of ¶4 (9 + 11), the rest
            openings = [f"Let me think about {q}", f"But wait, {q} = {a}", f"The answer is {a}. Let me reconsider"]
            starts = [0, slow_text.index(f"But wait, {q}"), slow_text.index(f"The answer is {a}.\n\nLet")]
            slow_reply, slow_steps, verdict = orjson.dumps(openings).decode(), steps_at(slow_text, starts), 2
        entries += [
            {"prompt_contains": f"<reasoning>\n{slow_text}\n</reasoning>", "response": slow_reply},
            {"prompt_contains": f"<reasoning>\n{fast_text}\n</reasoning>", "response": '["Nothing like this"]'},
            {"prompt": judge_prompt(sample.metadata["question"], a, slow_steps), "response": f"\\boxed{{{verdict}}}"},
            {"prompt": judge_prompt(sample.metadata["question"], a, split_steps(fast_text, "paragraphs", [])),
             "response": "\\boxed{1}"},
        ]
    result = await _think_with_replayed_judge(tmp_path, entries, fast, slow, tokenizer, split="llm")
    report = result.report
    assert report.split == "llm" and report.split_fallbacks == 5  # 4 fast traces + the lost one
    assert report.agreement == {"compared": 8, "agreed": 8, "judge_unreadable": 0, "rate": 1.0}
    by_split = {(t.model, t.group, t.split) for t in result.traces}
    assert ("slow-thinker", "Level 1", "llm") in by_split and ("slow-thinker", "Level 3", LLM_SPLIT_FALLBACK) in by_split
    assert {t.split for t in result.traces if t.model == "fast-thinker"} == {LLM_SPLIT_FALLBACK}
    assert {t.step_count for t in result.traces if t.split == "llm"} == {3}
    slow_level1 = report.row("slow-thinker", "Level 1")
    assert (slow_level1.first_correct_tokens, slow_level1.reflection_tokens) == (36.0, 16.0)  # 16 + 9 + 11 of 52
    assert slow_level1.process_efficiency == 1.0  # one explicit answer per step now: a single solution
    assert report.row("fast-thinker", "all").first_correct_tokens == 6.0  # paragraphs, as without --split llm
    assert orjson.loads((tmp_path / "think.json").read_bytes())["split_fallbacks"] == 5
    # The splitter's and the judge's replies share the judge's cache file: a re-run with the server gone asks nothing.
    again = await arun_think(ThinkConfig(
        runs=[str(fast), str(slow)], dataset="math_500", tokenizer_path=str(tokenizer), output_dir=str(tmp_path),
        judge={"api_url": "http://127.0.0.1:9/v1", "model": "judge", "max_retries": 0}, split="llm"), show=False)
    assert again.report.rows == report.rows and again.report.agreement == report.agreement
