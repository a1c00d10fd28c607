"""hle: synthetic look-alike rows in the hub schema (HLE's canary forbids sharing its data), the authors' prompts,
the rule's answer-line and confidence reading, the calibration error against hand-computed values, gold 100% /
wrong 0% end to end (by rule and by a simulated judge), and the one-line error when the hub says it is gated."""

from __future__ import annotations

import math
from pathlib import Path

import orjson
import pytest

from assay.cli.main import main
from assay.data.loader import is_gated_error
from assay.errors import DatasetError
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.hle import calibration_error, calibration_metrics, grade, stated_confidence
from assay.eval.runner import arun_task
from assay.sim import SimConfig, SimServer

from .conftest import FIXTURES, check_golden, load_samples, sim_args, write_replay

pytestmark = pytest.mark.timeout(60)

ARGS = {"dataset_id": str(FIXTURES / "hle")}
GATED = ("hle is gated on Hugging Face: accept its terms at https://huggingface.co/datasets/cais/hle and set "
         "HF_TOKEN (or pass a local copy with dataset_args.hle.dataset_id)")


@pytest.mark.parametrize("variant", [None, "multiple_choice"])
def test_golden_prompt(variant):
    check_golden("hle", variant)


def test_rows_become_samples_with_categories_as_subsets():
    samples = load_samples("hle", **ARGS)
    # In the order of the subsets (the categories), not of the file.
    assert [(s.subset, s.target, s.metadata["answer_type"]) for s in samples] == [
        ("Humanities/Social Science", "Placebo", "exactMatch"), ("Math", "8", "exactMatch"),
        ("Physics", "C", "multipleChoice")]
    assert samples[1].id == "66f0a1b2c3d4e5f60718293a" and samples[1].metadata["raw_subject"] == "Mathematics"
    physics = load_samples("hle", **ARGS, subset_list=["Physics"])
    assert [s.target for s in physics] == ["C"]
    messages = physics[0].messages or []
    assert [m.role for m in messages] == ["system", "user"] and "Answer: {your chosen answer}" in messages[0].text()
    assert "Answer Choices:\nA. Its velocity vector" in messages[1].text()


def test_questions_with_an_image_are_left_out(tmp_path):
    rows = [orjson.loads(line) for line in (FIXTURES / "hle" / "test.jsonl").read_bytes().splitlines()]
    rows.append({**rows[0], "id": "with-image", "image": "data:image/png;base64,iVBORw0KGgo="})
    (tmp_path / "test.jsonl").write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    assert "with-image" not in {s.id for s in load_samples("hle", dataset_id=str(tmp_path))}
    assert len(load_samples("hle", dataset_id=str(tmp_path))) == 3


@pytest.mark.parametrize("response,acc,extracted", [
    ("Explanation: A_4 has eight 3-cycles.\nExact Answer: 8\nConfidence: 90%", 1.0, "8"),
    ("Explanation: ...\n**Exact Answer:** 8.\n**Confidence:** 90%", 1.0, "8."),
    ("Explanation: ...\nExact Answer: $8$\nConfidence: 90%", 1.0, "$8$"),
    ("Answer: 8", 1.0, "8"),                                          # "Answer:" for an exact-match question too
    ("Exact Answer: 4\nLet me reconsider.\nFinal Answer: 8", 1.0, "8"),  # the last answer line wins
    ("Exact Answer: 80\nConfidence: 90%", 0.0, "80"),
    ("Exact Answer: eight or nine", 0.0, "eight or nine"),
    ("The answer is 8.", 0.0, None),                                  # no answer line: wrong, by rule
])
def test_exact_match_rule(response, acc, extracted):
    score = grade(response, "8", "exactMatch")
    assert (score.values["acc"], score.extracted) == (acc, extracted)


def test_exact_match_ignores_case_space_and_quotes():
    assert grade("Exact Answer:   **\"placebo\"**", "Placebo", "exactMatch").values["acc"] == 1.0
    assert grade("Exact Answer: Placebo effect", "Placebo", "exactMatch").values["acc"] == 0.0


@pytest.mark.parametrize("line,acc", [
    ("Answer: C", 1.0), ("Answer: (C)", 1.0), ("Answer: C. The magnitude of its acceleration", 1.0),
    ("Answer: **C**", 1.0), ("Answer: c", 1.0), ("Answer: B", 0.0), ("Answer: The magnitude", 0.0),
])
def test_multiple_choice_reads_the_letter(line, acc):
    assert grade(f"Explanation: centripetal.\n{line}\nConfidence: 70%", "C", "multipleChoice").values["acc"] == acc


@pytest.mark.parametrize("response,confidence", [
    ("Confidence: 85%", 0.85), ("**Confidence:** 40 %", 0.4), ("confidence: 12.5%", 0.125),
    ("Confidence: 150%", 1.0), ("Confidence: 10%\n...\nConfidence: 60%", 0.6),
    ("Exact Answer: 8", 1.0),                                         # none stated: 100%, as the authors' judge
])
def test_stated_confidence(response, confidence):
    assert stated_confidence(response) == pytest.approx(confidence)


def test_calibration_error_by_hand():
    # Fewer than 100 answers: one bin; mean confidence 0.5, accuracy 1/3.
    assert calibration_error([0.9, 0.4, 0.2], [1.0, 0.0, 0.0]) == pytest.approx(0.5 - 1 / 3)
    assert calibration_error([1.0, 1.0], [1.0, 1.0]) == 0.0
    # 250 answers: bins of the 100 least confident and the 150 most (the remainder joins the last bin).
    confidence = [0.2] * 100 + [0.9] * 150
    correct = [0.0] * 100 + [1.0] * 120 + [0.0] * 30
    low, high = 0.2 - 0.0, 0.9 - 120 / 150
    expected = math.sqrt(100 / 250 * low ** 2 + 150 / 250 * high ** 2)
    assert calibration_error(confidence, correct) == pytest.approx(expected)
    # Sorted by confidence first, whatever the order given.
    assert calibration_error(confidence[::-1], correct[::-1]) == pytest.approx(calibration_error(confidence, correct))


def test_calibration_leaves_out_answers_without_a_grade_or_confidence():
    out = calibration_metrics({"acc": [1.0, None, 0.0], "confidence": [1.0, 0.5, None]})
    assert out["calibration_error"].score == 0.0 and out["calibration_error"].num == 1
    assert calibration_metrics({"acc": [None], "confidence": [None]})["calibration_error"].score is None


def _response(sample, right: bool, confidence: int) -> str:
    answer = sample.target if right else ("A" if sample.metadata["answer_type"] == "multipleChoice" else "zzz")
    label = "Answer" if sample.metadata["answer_type"] == "multipleChoice" else "Exact Answer"
    return f"Explanation: worked it out.\n{label}: {answer}\nConfidence: {confidence}%"


@pytest.mark.parametrize("kind,acc,calibration", [("gold", 1.0, 0.0), ("wrong", 0.0, 0.8)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, acc, calibration):
    samples = load_samples("hle", **ARGS)
    replay = make_replay(samples, [_response(s, kind == "gold", 100 if kind == "gold" else 80) for s in samples])
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=["hle"],
                      dataset_args={"hle": ARGS}, work_dir=str(tmp_path / "out"))
    report = run_task(task, show=False).reports["hle"]
    assert report.main_metric == "acc" and report.score == acc and report.num == 3 and report.failed_samples == 0
    assert report.metrics["calibration_error"].score == pytest.approx(calibration)
    assert report.metrics["confidence"].score == pytest.approx(1.0 if kind == "gold" else 0.8)
    assert {s.name for s in report.subsets} == {"Math", "Physics", "Humanities/Social Science"}
    assert all(s.metrics["calibration_error"].score == pytest.approx(calibration) for s in report.subsets)


def _judge_replay(path: Path, verdicts: dict[str, str]) -> Path:
    path.write_bytes(b"".join(orjson.dumps({"prompt_contains": f"[Candidate answer]\n{candidate}\n",
                                            "response": reply}) + b"\n" for candidate, reply in verdicts.items()))
    return path


@pytest.mark.parametrize("verdict,acc", [("CORRECT", 1.0), ("INCORRECT", 0.0)])
async def test_the_llm_judge_grades_where_judge_strategy_asks(tmp_path, verdict, acc):
    samples = load_samples("hle", **ARGS)
    # Answers the rule cannot read (no answer line): only the judge can find them right.
    answers = [f"I am fairly sure it is {s.target}. Confidence: 70%" for s in samples]
    model_replay = write_replay(tmp_path / "model.jsonl", samples, answers)
    judge_replay = _judge_replay(tmp_path / "judge.jsonl", {a: f"Same answer.\nVERDICT: {verdict}" for a in answers})

    def sim(replay: Path) -> SimServer:
        return SimServer(SimConfig(port=0, replay_path=replay, latency_model="fixed", ttft_ms=0, itl_ms=0, seed=1))

    async with sim(model_replay) as model, sim(judge_replay) as judge:
        task = TaskConfig(model="m", api_url=model.base_url, datasets=["hle"], dataset_args={"hle": ARGS},
                          work_dir=str(tmp_path / "out"), max_retries=0, judge_strategy="llm",
                          judge_model_args={"model_id": "judge-m", "api_url": judge.base_url, "max_retries": 0})
        result = await arun_task(task, show=False)
        assert judge.stats()["requests_total"] == 3
    report = result.reports["hle"]
    assert report.score == acc and report.metrics["confidence"].score == pytest.approx(0.7)
    assert report.metrics["calibration_error"].score == pytest.approx(abs(0.7 - acc))
    assert "LLM judge judge-m" in (report.protocol or "")


def _gated_download(status: int, kind: str = "GatedRepoError"):
    import huggingface_hub.errors as errors

    real = __import__("huggingface_hub").snapshot_download
    http = __import__(errors.Response.__module__.split(".")[0])

    def snapshot_download(repo_id, *, local_files_only=False, **kwargs):
        if local_files_only:
            return real(repo_id, local_files_only=True, **kwargs)
        request = http.Request("GET", f"https://huggingface.co/api/datasets/{repo_id}")
        response = errors.Response(status, request=request)
        raise getattr(errors, kind)(f"{status} Client Error: access to {repo_id} is restricted", response=response)

    return snapshot_download


@pytest.mark.parametrize("status,kind", [(401, "GatedRepoError"), (403, "GatedRepoError"), (401, "HfHubHTTPError"),
                                         (403, "HfHubHTTPError")])
def test_a_gated_hub_is_one_line_naming_the_terms_page(tmp_path, monkeypatch, capsys, status, kind):
    hf = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(hf, "snapshot_download", _gated_download(status, kind))
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "ASSAY_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--eval-type", "sim", "--model", "m", "--datasets", "hle", "--dataset-dir", str(tmp_path / "d"),
              "--dataset-hub", "huggingface", "--work-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {GATED}"]


def test_a_gated_huggingface_beats_the_other_hubs_failures(tmp_path, monkeypatch):
    """Every hub tried (ModelScope too, which is not reachable here); the gated answer is the one line kept."""
    from assay.data import DatasetLoader

    hf = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(hf, "snapshot_download", _gated_download(401))
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "ASSAY_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    bench = get_benchmark("hle")()
    with pytest.raises(DatasetError) as error:
        bench.load(DatasetLoader(cache_dir=tmp_path))
    assert str(error.value) == GATED


def test_not_found_is_not_gated():
    errors = pytest.importorskip("huggingface_hub.errors", reason="huggingface_hub is not installed (the `hub` extra)")

    http = __import__(errors.Response.__module__.split(".")[0])
    response = errors.Response(401, request=http.Request("GET", "https://huggingface.co/api/datasets/no/such"))
    assert not is_gated_error(errors.RepositoryNotFoundError("401: not found", response=response))
    assert is_gated_error(errors.GatedRepoError("401: gated", response=response))
    assert not is_gated_error(ConnectionError("unreachable"))
