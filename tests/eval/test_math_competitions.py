"""Competition math benchmarks (hmmt25, aime26, amc...): hub-schema fixtures, prompts, targets, the math
checker's equivalences, and gold 100% / wrong 0% end to end against the simulator."""

from __future__ import annotations

import pytest

from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark

from .conftest import FIXTURES, check_golden, gold_answer, load_samples, sim_args, wrong_answer

pytestmark = pytest.mark.timeout(120)

ARGS = {
    "hmmt25": {"dataset_id": str(FIXTURES / "hmmt25")},
    "aime26": {"dataset_id": str(FIXTURES / "aime26")},
    "amc": {"dataset_id": str(FIXTURES / "amc")},
}


@pytest.mark.parametrize("name", list(ARGS))
def test_golden_prompt(name):
    check_golden(name)


def test_hmmt25_reads_the_matharena_schema():
    samples = load_samples("hmmt25", **ARGS["hmmt25"])
    assert [s.id for s in samples] == ["1", "2", "3"]
    assert [s.target for s in samples] == ["103", "\\frac{3}{4}", "\\frac{\\sqrt{6}+\\sqrt{2}}{2}"]
    assert samples[1].metadata["problem_type"] == ["Geometry"]
    assert "9!" in (samples[0].messages or [])[-1].text()


def test_aime26_targets_are_plain_integers():
    assert [s.target for s in load_samples("aime26", **ARGS["aime26"])] == ["40", "864"]


@pytest.mark.parametrize("answer,acc", [
    ("so $\\boxed{0.75}$", 1.0),           # a decimal equals the fraction target
    ("$\\boxed{3/4}$", 1.0),
    ("$\\boxed{\\dfrac{3}{4}}$", 1.0),
    ("$\\boxed{\\frac{4}{3}}$", 0.0),
    ("$\\boxed{0.7}$", 0.0),
    ("no boxed answer and no number", 0.0),
])
def test_hmmt25_fraction_forms(answer, acc):
    bench = get_benchmark("hmmt25")()
    sample = load_samples("hmmt25", **ARGS["hmmt25"])[1]
    assert bench.score(sample, answer).values["acc"] == acc


def test_hmmt25_radical_forms():
    bench = get_benchmark("hmmt25")()
    sample = load_samples("hmmt25", **ARGS["hmmt25"])[2]
    assert bench.score(sample, "$\\boxed{\\frac{\\sqrt{2}+\\sqrt{6}}{2}}$").values["acc"] == 1.0
    assert bench.score(sample, "$\\boxed{\\sqrt{2+\\sqrt{3}}}$").values["acc"] == 1.0
    assert bench.score(sample, "$\\boxed{\\sqrt{3}}$").values["acc"] == 0.0


def test_aime26_leading_zeros_and_floats():
    bench = get_benchmark("aime26")()
    sample = load_samples("aime26", **ARGS["aime26"])[0]
    assert bench.score(sample, "\\boxed{040}").values["acc"] == 1.0
    assert bench.score(sample, "\\boxed{41}").values["acc"] == 0.0


def test_amc_subsets_are_the_years_and_answers_numbers():
    samples = load_samples("amc", **ARGS["amc"])
    assert [(s.subset, s.target) for s in samples] == [("amc22", "210"), ("amc23", "8"), ("amc23", "0.2"),
                                                       ("amc24", "2")]
    only_2023 = load_samples("amc", **ARGS["amc"], subset_list=["amc23"])
    assert [s.target for s in only_2023] == ["8", "0.2"]


def test_amc_one_file_with_years_still_splits_by_year(tmp_path):
    rows = b"".join((FIXTURES / "amc" / f"{name}.jsonl").read_bytes() for name in ("amc22", "amc23", "amc24"))
    (tmp_path / "test.jsonl").write_bytes(rows)
    samples = load_samples("amc", dataset_id=str(tmp_path), subset_list=["amc24"])
    assert [s.target for s in samples] == ["2"]


@pytest.mark.parametrize("answer,acc", [
    ("$\\boxed{\\frac{1}{5}}$", 1.0),   # the fraction equals the decimal target
    ("$\\boxed{0.2}$", 1.0),
    ("$\\boxed{\\frac{1}{2}}$", 0.0),
])
def test_amc_decimal_target(answer, acc):
    bench = get_benchmark("amc")()
    sample = load_samples("amc", **ARGS["amc"], subset_list=["amc23"])[1]
    assert bench.score(sample, answer).values["acc"] == acc


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    samples, responses = [], []
    for name, args in ARGS.items():
        for sample in load_samples(name, **args):
            samples.append(sample)
            responses.append((gold_answer if kind == "gold" else wrong_answer)(sample, "math"))
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=list(ARGS), dataset_args=ARGS, work_dir=str(tmp_path / "out"), eval_batch_size=4)
    result = run_task(task, show=False)
    assert set(result.reports) == set(ARGS)
    for name, report in result.reports.items():
        assert report.score == expected, name
        assert report.failed_samples == 0
        assert report.num == len(load_samples(name, **ARGS[name]))
