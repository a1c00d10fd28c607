"""The LLM judge end to end: the model and the judge are both simulators in replay mode, on loopback.

general_qa graded by the judge (verdicts → exact scores, an unreadable reply → ungraded), gsm8k with
rule_then_llm (the judge asked only where the rule fails), failures recorded not fatal, resume never asking
the judge twice, bounded judge concurrency, and the judge's key in no output file.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from assay.data import DatasetLoader
from assay.errors import ConfigError
from assay.eval import TaskConfig
from assay.eval.benchmarks import get_benchmark
from assay.eval.config import DatasetArgs
from assay.eval.runner import arun_task
from assay.sim import SimConfig, SimServer
from assay.types import Sample

pytestmark = pytest.mark.timeout(30)

GSM8K = Path(__file__).parent.parent / "fixtures" / "gsm8k"
JUDGE_KEY = "sk-judge-Zq8xSECRET"
QA_ROWS = [("What is the capital of France?", "Paris", "It is Paris, the French capital."),
           ("Name the largest planet.", "Jupiter", "Saturn is the largest."),
           ("Who wrote Hamlet?", "William Shakespeare", "Shakespeare wrote it, I think.")]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def _samples(name: str, dataset_id: Path) -> list[Sample]:
    return get_benchmark(name)(DatasetArgs(dataset_id=str(dataset_id))).load(DatasetLoader(hub="local"))


def _sim(replay: Path, **extra: object) -> SimServer:
    return SimServer(SimConfig(port=0, replay_path=replay, latency_model="fixed", ttft_ms=0, itl_ms=0, seed=1,
                               **extra))


def _model_replay(path: Path, samples: list[Sample], answers: list[str]) -> Path:
    return _write_jsonl(path, [{"prompt": [m for m in s.messages or [] if m.role == "user"][-1].text(),
                                "response": answer} for s, answer in zip(samples, answers)])


def _judge_replay(path: Path, verdicts: dict[str, str]) -> Path:
    """Judge replies keyed by the candidate answer the judge prompt quotes."""
    return _write_jsonl(path, [{"prompt_contains": f"[Candidate answer]\n{candidate}\n", "response": reply}
                               for candidate, reply in verdicts.items()])


def _task(tmp_path: Path, model: SimServer, judge: SimServer, dataset: str, dataset_id: Path, *,
          judge_args: dict | None = None, **extra) -> TaskConfig:
    fields = dict(
        model="m", api_url=model.base_url, datasets=[dataset], dataset_args={dataset: {"dataset_id": str(dataset_id)}},
        work_dir=str(tmp_path / "out"), max_retries=0, judge_strategy="llm",
        judge_model_args={"model_id": "judge-m", "api_url": judge.base_url, "api_key": JUDGE_KEY, "max_retries": 0,
                          **(judge_args or {})})
    fields.update(extra)
    return TaskConfig(**fields)


def _predictions(run_dir: Path, benchmark: str) -> dict[str, dict]:
    lines = [orjson.loads(line) for line in (run_dir / "predictions" / f"{benchmark}.jsonl").read_bytes().splitlines()]
    return {line["sample"]["id"]: line for line in lines}  # a later line wins, as in the store


@pytest.fixture
def qa(tmp_path: Path) -> tuple[Path, Path]:
    data = _write_jsonl(tmp_path / "qa.jsonl", [{"query": q, "response": r} for q, r, _ in QA_ROWS])
    replay = _model_replay(tmp_path / "model.jsonl", _samples("general_qa", data), [a for _, _, a in QA_ROWS])
    return data, replay


async def _judged_qa(tmp_path: Path, qa: tuple[Path, Path], replies: list[str], **task_extra):
    """general_qa over QA_ROWS, the judge replying ``replies`` in order; the result and the judge's request count."""
    data, model_replay = qa
    judge_replay = _judge_replay(tmp_path / "judge.jsonl", {row[2]: reply for row, reply in zip(QA_ROWS, replies)})
    async with _sim(model_replay) as model, _sim(judge_replay, api_key=JUDGE_KEY) as judge:
        result = await arun_task(_task(tmp_path, model, judge, "general_qa", data, **task_extra), show=False)
        return result, judge.stats()["requests_total"]


async def test_general_qa_graded_by_the_judge(tmp_path: Path, qa: tuple[Path, Path]) -> None:
    result, judge_requests = await _judged_qa(tmp_path, qa, [
        "The candidate names Paris.\nVERDICT: CORRECT", "Saturn is not Jupiter.\nVERDICT: INCORRECT",
        "Hard to say, it hedges."], judge_worker_num=2)
    assert judge_requests == 3
    report = result.reports["general_qa"]
    assert report.main_metric == "acc" and list(report.metrics) == ["acc", "exact_match", "f1"]
    assert report.metrics["acc"].score == 0.5 and report.metrics["acc"].num == 2
    assert report.metrics["acc"].ungraded == 1  # the unreadable verdict is counted apart, not as wrong
    assert report.metrics["exact_match"].score == 0.0  # the rule metrics are still there
    rows = _predictions(result.run_dir, "general_qa")
    scores = [rows[f"default/{i}"]["scores"][0] for i in range(3)]
    assert [s["values"]["acc"] for s in scores] == [1.0, 0.0, None]
    judged = scores[0]["metadata"]["judge"]
    assert judged["model"] == "judge-m" and judged["reply"].endswith("VERDICT: CORRECT") and judged["correct"]
    assert "[Question]\nWhat is the capital of France?" in judged["prompt"] and "[Reference answer]\nParis" in \
        judged["prompt"]
    assert scores[2]["explanation"] == "judge gave no readable verdict; not graded"
    assert "LLM judge judge-m" in (report.protocol or "")


async def test_general_qa_rated_by_a_numeric_judge(tmp_path: Path, qa: tuple[Path, Path]) -> None:
    result, _ = await _judged_qa(tmp_path, qa, [
        "Right and clear.\nRating: [[10]]", "Wrong planet.\nRating: [[1]]", "Right name, but unsure.\nRating: [[7]]"],
        judge_args={"score_type": "numeric"})
    report = result.reports["general_qa"]
    assert report.metrics["acc"].score == pytest.approx((1.0 + 0.1 + 0.7) / 3) and report.metrics["acc"].num == 3
    rows = _predictions(result.run_dir, "general_qa")
    judged = rows["default/2"]["scores"][0]
    assert judged["values"]["acc"] == pytest.approx(0.7) and judged["metadata"]["judge"]["rating"] == 7.0
    assert "Rating: [[N]]" in judged["metadata"]["judge"]["prompt"]  # the rating prompt, not the verdict one


async def test_rule_then_llm_asks_the_judge_only_where_the_rule_fails(tmp_path: Path) -> None:
    samples = _samples("gsm8k", GSM8K)
    answers = ["So the answer is \\boxed{7}.", "Twelve times five gives sixty pens.", "\\boxed{2000}",
               "\\boxed{60}"]
    model_replay = _model_replay(tmp_path / "model.jsonl", samples, answers)
    judge_replay = _judge_replay(tmp_path / "judge.jsonl", {answers[1]: "Sixty is 60.\nVERDICT: CORRECT",
                                                           answers[2]: "2000 is not 2400.\nVERDICT: INCORRECT"})
    async with _sim(model_replay) as model, _sim(judge_replay, api_key=JUDGE_KEY) as judge:
        task = _task(tmp_path, model, judge, "gsm8k", GSM8K, judge_strategy="rule_then_llm")
        result = await arun_task(task, show=False)
        assert judge.stats()["requests_total"] == 2  # not for the two answers the rule already found correct
    rows = _predictions(result.run_dir, "gsm8k")
    scores = [rows[s.id]["scores"][0] for s in samples]
    assert [s["values"]["acc"] for s in scores] == [1.0, 1.0, 0.0, 1.0]
    assert ["judge" in s["metadata"] for s in scores] == [False, True, True, False]
    assert scores[1]["metadata"]["rule_acc"] == 0.0  # the rule's own grade is kept next to the judge's
    assert result.reports["gsm8k"].score == 0.75


async def test_judge_failures_are_recorded_then_resume_asks_only_the_judge(tmp_path: Path, qa) -> None:
    data, model_replay = qa
    judge_replay = _judge_replay(tmp_path / "judge.jsonl", {a: "VERDICT: CORRECT" for _, _, a in QA_ROWS})
    async with _sim(model_replay) as model, _sim(judge_replay, api_key=JUDGE_KEY) as judge:
        # A wrong judge key: every judge call fails (401), the run still finishes, nothing is scored 0.
        bad = _task(tmp_path, model, judge, "general_qa", data)
        bad.judge_model_args["api_key"] = "sk-wrong"
        first = await arun_task(bad, show=False)
        assert first.reports["general_qa"].metrics["acc"].ungraded == 3
        assert all(row["scores"][0]["metadata"]["judge"]["error"].startswith("http_status")
                   for row in _predictions(first.run_dir, "general_qa").values())
        model_requests = model.stats()["requests_total"]
        assert model_requests == 3

        # Resumed with the right key: the judge is asked again, the model is not.
        resumed = await arun_task(_task(tmp_path, model, judge, "general_qa", data, use_cache=str(first.run_dir)),
                                  show=False)
        assert model.stats()["requests_total"] == model_requests
        judge_requests = judge.stats()["requests_total"]
        assert judge_requests == 6  # 3 refused + 3 answered
        assert resumed.reports["general_qa"].metrics["acc"].score == 1.0

        # Resumed again: everything is judged, nothing is asked.
        again = await arun_task(_task(tmp_path, model, judge, "general_qa", data, use_cache=str(first.run_dir)),
                                show=False)
        assert judge.stats()["requests_total"] == judge_requests
        assert model.stats()["requests_total"] == model_requests
        assert again.reports["general_qa"] == resumed.reports["general_qa"]

        # A scoring change (a filter) re-grades stored answers: the judge's replies come from the run's cache.
        regraded = await arun_task(_task(tmp_path, model, judge, "general_qa", data, use_cache=str(first.run_dir),
                                         dataset_args={"general_qa": {"dataset_id": str(data),
                                                                      "filters": {"remove_until": "@@"}}}), show=False)
        assert judge.stats()["requests_total"] == judge_requests
        assert regraded.reports["general_qa"].metrics["acc"].score == 1.0

    for path in first.run_dir.rglob("*"):
        if path.is_file():
            assert JUDGE_KEY.encode() not in path.read_bytes(), path
    config = (first.run_dir / "config.yaml").read_text()
    assert "judge-m" in config and "***" in config


async def test_judge_concurrency_is_bounded(tmp_path: Path) -> None:
    rows = [{"query": f"question {i}?", "response": f"answer {i}"} for i in range(8)]
    data = _write_jsonl(tmp_path / "qa.jsonl", rows)
    model_replay = _model_replay(tmp_path / "model.jsonl", _samples("general_qa", data),
                                 [f"my answer {i}" for i in range(8)])
    judge_replay = _judge_replay(tmp_path / "judge.jsonl", {f"my answer {i}": "VERDICT: CORRECT" for i in range(8)})
    async with _sim(model_replay) as model, \
            SimServer(SimConfig(port=0, replay_path=judge_replay, latency_model="fixed", ttft_ms=100, itl_ms=0)) as judge:
        task = _task(tmp_path, model, judge, "general_qa", data, eval_batch_size=8, judge_worker_num=2)
        result = await arun_task(task, show=False)
        stats = judge.stats()
    assert stats["requests_total"] == 8 and stats["peak_active_streams"] <= 2
    assert result.reports["general_qa"].score == 1.0


async def test_judge_configuration_errors(tmp_path: Path, qa) -> None:
    data, _ = qa
    base = dict(model="m", api_url="http://127.0.0.1:9/v1", datasets=["general_qa"], work_dir=str(tmp_path / "o"),
                dataset_args={"general_qa": {"dataset_id": str(data)}})
    with pytest.raises(ConfigError, match="needs judge_model_args"):
        await arun_task(TaskConfig(**base, judge_strategy="llm"), show=False)
    with pytest.raises(ConfigError, match="judge_model_args.url"):
        unknown_key = {"model_id": "j", "api_url": "http://h/v1", "url": "x"}
        await arun_task(TaskConfig(**base, judge_strategy="llm", judge_model_args=unknown_key), show=False)
    assert not (tmp_path / "o").exists()  # refused before any run folder was made
