"""End to end: the simulator in replay mode answers known texts, so every score is known exactly."""

from __future__ import annotations

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark

from .conftest import FIXTURES, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(60)
sim = pytest.importorskip("assay.sim", reason="the simulator (assay.sim) is not available")
if not hasattr(sim, "SimServer"):
    pytest.skip("assay.sim has no SimServer yet", allow_module_level=True)

# benchmark → dataset_args pointing at the in-repo fixture (hub schema).
FIXTURE_ARGS = {
    "gsm8k": {"dataset_id": str(FIXTURES / "gsm8k")},
    "math_500": {"dataset_id": str(FIXTURES / "math_500"), "subset_list": ["Level 1", "Level 2"]},
    "mmlu": {"dataset_id": str(FIXTURES / "mmlu"), "subset_list": ["abstract_algebra", "anatomy"]},
    "iquiz": {"dataset_id": str(FIXTURES / "iquiz")},
    "arc": {"dataset_id": str(FIXTURES / "arc")},
    "general_mcq": {"dataset_id": str(FIXTURES / "general_mcq")},
    "general_qa": {"dataset_id": str(FIXTURES / "general_qa")},
    "truthful_qa": {"dataset_id": str(FIXTURES / "truthful_qa")},
    "hellaswag": {"dataset_id": str(FIXTURES / "hellaswag")},
    "winogrande": {"dataset_id": str(FIXTURES / "winogrande")},
    "mmmlu": {"dataset_id": str(FIXTURES / "mmmlu"), "subset_list": ["ZH_CN", "FR_FR"]},
    "super_gpqa": {"dataset_id": str(FIXTURES / "super_gpqa"), "subset_list": ["Physics", "Law"]},
    "musr": {"dataset_id": str(FIXTURES / "musr")},
    "bbh": {"dataset_id": str(FIXTURES / "bbh"), "subset_list": ["date_understanding", "boolean_expressions"]},
    "cmmlu": {"dataset_id": str(FIXTURES / "cmmlu"), "subset_list": ["agronomy", "anatomy"], "few_shot_num": 1},
}


def _run(tmp_path, replay, datasets, **extra):
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(replay), datasets=datasets,
                      dataset_args={d: FIXTURE_ARGS[d] for d in datasets}, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4, **extra)
    return run_task(task, show=False)


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_every_fixture_benchmark_scores_gold_100_and_wrong_0(tmp_path, make_replay, kind, expected):
    samples, responses = [], []
    for name, args in FIXTURE_ARGS.items():
        task_type = get_benchmark(name).task_type
        for sample in load_samples(name, **args):
            samples.append(sample)
            responses.append((gold_answer if kind == "gold" else wrong_answer)(sample, task_type))
    result = _run(tmp_path, make_replay(samples, responses), list(FIXTURE_ARGS))
    for name, report in result.reports.items():
        assert report.score == expected, name
        assert report.failed_samples == 0
        assert report.num == len(load_samples(name, **FIXTURE_ARGS[name]))


def test_a_mix_gives_the_exact_score_per_subset(tmp_path, make_replay):
    samples = load_samples("mmlu", **FIXTURE_ARGS["mmlu"])  # 2 abstract_algebra + 1 anatomy
    responses = [gold_answer(samples[0], "mcq"), wrong_answer(samples[1], "mcq"), gold_answer(samples[2], "mcq")]
    report = _run(tmp_path, make_replay(samples, responses), ["mmlu"]).reports["mmlu"]
    assert report.score == pytest.approx(2 / 3)
    by_subset = {s.name: s.metrics["acc"].score for s in report.subsets}
    assert by_subset == {"abstract_algebra": 0.5, "anatomy": 1.0}
    assert report.metrics["acc"].stderr == pytest.approx(1 / 3)  # sample sd sqrt(1/3), over sqrt(3)


def test_outputs_layout_and_the_report_json(tmp_path, make_replay):
    import orjson
    import yaml

    samples = load_samples("gsm8k", **FIXTURE_ARGS["gsm8k"])
    result = _run(tmp_path, make_replay(samples, [gold_answer(s, "math") for s in samples]), ["gsm8k"],
                  api_key="sk-never-written-0123")
    run = result.run_dir
    report = orjson.loads((run / "reports" / "gsm8k.json").read_bytes())
    assert list(report)[:3] == ["benchmark", "main_metric", "score"]
    assert report["score"] == 1.0 and report["num"] == 4
    assert (run / "reports" / "report.md").read_text().startswith("| Model | Dataset | Metric | Subset | Num | Score |")
    lines = (run / "predictions" / "gsm8k.jsonl").read_bytes().splitlines()
    assert len(lines) == 4 and orjson.loads(lines[0])["benchmark_version"] == get_benchmark("gsm8k").version == "2"
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["datasets"] == ["gsm8k"]
    manifest = orjson.loads((run / "manifest.json").read_bytes())
    assert manifest["status"] == "finished" and manifest["benchmarks"]["gsm8k"]["version"] == "2"
    for path in run.rglob("*"):
        if path.is_file():
            assert b"sk-never-written-0123" not in path.read_bytes(), path
    assert (run / "logs" / "run.log").read_text()


def test_repeats_give_mean_and_pass_at_k(tmp_path, make_replay):
    samples = load_samples("gsm8k", **FIXTURE_ARGS["gsm8k"])
    result = _run(tmp_path, make_replay(samples, [gold_answer(s, "math") for s in samples]), ["gsm8k"],
                  generation_config={"n": 3, "temperature": 0.7})
    report = result.reports["gsm8k"]
    assert report.repeats == 3 and report.metrics["pass@3"].score == 1.0 and report.score == 1.0


def test_failing_requests_are_recorded_and_counted_apart(tmp_path, make_replay):
    samples = load_samples("gsm8k", **FIXTURE_ARGS["gsm8k"])
    replay = make_replay(samples, [gold_answer(s, "math") for s in samples])
    task = TaskConfig(eval_type="sim", model="m", model_args=sim_args(replay, error_rate=1.0), datasets=["gsm8k"],
                      dataset_args={"gsm8k": FIXTURE_ARGS["gsm8k"]}, work_dir=str(tmp_path), max_retries=0)
    report = run_task(task, show=False).reports["gsm8k"]
    assert report.failed_samples == 4 and report.score is None
    assert report.metrics["acc"].ungraded == 4 and report.num == 4


def test_reasoning_is_never_graded_as_the_answer(tmp_path, make_replay):
    samples = load_samples("gsm8k", **FIXTURE_ARGS["gsm8k"])[:2]
    # Inline thinking that never closes (cut off): the boxed number inside it must not count.
    responses = [f"<think>maybe \\boxed{{{samples[0].target}}}", f"<think>hmm</think>\\boxed{{{samples[1].target}}}"]
    args = {"gsm8k": {**FIXTURE_ARGS["gsm8k"]}}
    task = TaskConfig(eval_type="sim", model="m", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["gsm8k"], dataset_args=args, work_dir=str(tmp_path), limit=2)
    report = run_task(task, show=False).reports["gsm8k"]
    assert report.score == 0.5 and report.unfinished_reasoning == 1


def test_report_compare_pairs_samples(tmp_path, make_replay):
    from assay.eval.compare import compare_runs

    samples = load_samples("mmlu", **FIXTURE_ARGS["mmlu"])
    good = _run(tmp_path / "a", make_replay(samples, [gold_answer(s, "mcq") for s in samples], "a.jsonl"), ["mmlu"])
    bad = _run(tmp_path / "b", make_replay(samples, [wrong_answer(s, "mcq") for s in samples], "b.jsonl"), ["mmlu"])
    [comparison] = compare_runs(good.run_dir, bad.run_dir)
    assert (comparison.num, comparison.score_a, comparison.score_b, comparison.difference) == (3, 1.0, 0.0, -1.0)


def test_competition_math_by_level_from_the_hub_layout(tmp_path, make_replay):
    """MATH (competition_math): the hub copy has a folder per subject; reported per level; a mix scores exactly."""
    args = {"dataset_id": str(FIXTURES / "competition_math"), "subset_list": ["Level 1", "Level 2", "Level 3"]}
    samples = load_samples("competition_math", **args)
    assert [(s.subset, s.target) for s in samples] == [
        ("Level 1", "5"), ("Level 1", "9"), ("Level 2", "\\frac{1}{2}"), ("Level 3", "2\\sqrt{2}"),
        ("Level 3", "(-1,1)")]
    # Equivalent forms a model writes are right; one wrong answer on Level 3.
    responses = ["The answer is \\boxed{5}.", "So the area is $\\boxed{9 \\text{ square units}}$.",
                 "Thus $x = \\boxed{0.5}$.", "We get \\boxed{\\sqrt{8}}", "\\boxed{[-1, 1]}"]
    task = TaskConfig(eval_type="sim", model="m", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["competition_math"], dataset_args={"competition_math": args},
                      work_dir=str(tmp_path))
    report = run_task(task, show=False).reports["competition_math"]
    assert report.num == 5 and report.score == pytest.approx(4 / 5) and report.failed_samples == 0
    assert {s.name: s.metrics["acc"].score for s in report.subsets} == {"Level 1": 1.0, "Level 2": 1.0,
                                                                        "Level 3": 0.5}
    assert "math-verify" in report.protocol


def test_every_score_has_its_stderr_and_protocol_in_the_report_json(tmp_path, make_replay):
    import orjson

    samples = load_samples("mmlu", **FIXTURE_ARGS["mmlu"])
    responses = [gold_answer(samples[0], "mcq"), wrong_answer(samples[1], "mcq"), gold_answer(samples[2], "mcq")]
    run = _run(tmp_path, make_replay(samples, responses), ["mmlu"]).run_dir
    report = orjson.loads((run / "reports" / "mmlu.json").read_bytes())
    assert report["protocol"].startswith("0-shot; simple-evals CoT prompt")
    for metric in report["metrics"].values():
        assert metric["stderr"] is not None and metric["ci95"] is not None
    assert "mmlu protocol: 0-shot" in (run / "reports" / "report.md").read_text()


def test_report_compare_says_whether_the_difference_exceeds_the_noise(tmp_path, make_replay):
    from assay.eval.compare import compare_runs

    samples = load_samples("mmlu", **FIXTURE_ARGS["mmlu"])
    first = [gold_answer(s, "mcq") for s in samples]
    second = [gold_answer(samples[0], "mcq"), wrong_answer(samples[1], "mcq"), gold_answer(samples[2], "mcq")]
    a = _run(tmp_path / "a", make_replay(samples, first, "a.jsonl"), ["mmlu"]).run_dir
    b = _run(tmp_path / "b", make_replay(samples, second, "b.jsonl"), ["mmlu"]).run_dir
    [close] = compare_runs(a, b)
    assert close.difference == pytest.approx(-1 / 3) and not close.significant
    assert close.verdict == "within the noise"
    c = _run(tmp_path / "c", make_replay(samples, [wrong_answer(s, "mcq") for s in samples], "c.jsonl"),
             ["mmlu"]).run_dir
    [far] = compare_runs(a, c)
    assert far.difference == -1.0 and far.significant and far.verdict.startswith("A is better")


def test_report_compare_on_the_command_line(tmp_path, make_replay):
    import os
    import subprocess
    import sys

    samples = load_samples("mmlu", **FIXTURE_ARGS["mmlu"])
    a = _run(tmp_path / "a", make_replay(samples, [gold_answer(s, "mcq") for s in samples], "a.jsonl"), ["mmlu"])
    result = subprocess.run([sys.executable, "-m", "assay", "report", "compare", str(a.run_dir), str(a.run_dir)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "within the noise" in result.stdout and "paired bootstrap" in result.stdout
