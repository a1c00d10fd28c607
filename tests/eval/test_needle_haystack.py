"""needle_haystack: generated prompts (pure and seeded), needles at their depths, lengths on target (approximate
count and a real tokenizer), the recall scorer, and gold 100% / wrong 0% end to end with the per-depth breakdown."""

from __future__ import annotations

import random
import re

import pytest

from assay.errors import ConfigError
from assay.eval import TaskConfig, run_task
from assay.eval.benchmarks import get_benchmark
from assay.eval.benchmarks.haystack_text import FILLER, SENTENCES
from assay.eval.benchmarks.needle_haystack import (NEEDLE, build_haystack, draw_needles, filler, numbers_in,
                                                   place_needles, recall_score, render_prompt, token_counter)
from assay.eval.config import DatasetArgs

from .conftest import check_golden, load_samples, sim_args

pytestmark = pytest.mark.timeout(120)

SMALL = {"context_lengths": [2048, 4096], "depths": [0.0, 0.25, 0.5, 0.75, 1.0]}


def _samples(seed: int = 42, **extra):
    return load_samples("needle_haystack", seed=seed, extra_params={**SMALL, **extra})


def _context(sample) -> str:
    text = sample.messages[-1].text()
    return text[text.index("<text>\n") + len("<text>\n"): text.index("\n</text>")]


def test_golden_prompt():
    check_golden("needle_haystack")


def test_ids_subsets_and_targets():
    samples = _samples()
    assert [s.id for s in samples[:5]] == [f"2k/depth{d}/0" for d in ("0", "0.25", "0.5", "0.75", "1")]
    assert [s.subset for s in samples] == ["2k"] * 5 + ["4k"] * 5
    for sample in samples:
        assert isinstance(sample.target, list) and len(sample.target) == 1
        assert re.fullmatch(r"[1-9]\d{6}", sample.target[0])
        assert "context" not in sample.metadata  # in the messages only, not stored twice


def test_the_default_grid_is_ruler_sized():
    bench = get_benchmark("needle_haystack")()
    assert bench.subset_list == ["4k", "8k", "16k", "32k"]
    assert bench.params.depths == [0.0, 0.25, 0.5, 0.75, 1.0] and bench.params.num_needles == 1


def test_same_seed_same_prompts_other_seed_other_prompts():
    first, again, other = _samples(), _samples(), _samples(seed=7)
    assert [s.messages for s in first] == [s.messages for s in again]
    assert [s.target for s in first] == [s.target for s in again]
    assert all(a.messages != b.messages for a, b in zip(first, other))


def test_a_length_keeps_its_filler_and_needle_across_depths():
    samples = [s for s in _samples() if s.subset == "4k"]
    assert len({tuple(s.target) for s in samples}) == 1
    needle = NEEDLE.format(key=samples[0].metadata["needle_keys"][0], value=samples[0].target[0])
    assert len({_context(s).replace(needle, "").replace("  ", " ").strip() for s in samples}) == 1


@pytest.mark.parametrize("length,tolerance", [(4096, 0.01), (16384, 0.003), (512, 0.08)])
def test_the_needle_sits_at_its_depth(length, tolerance):
    samples = load_samples("needle_haystack", extra_params={"context_lengths": [length]})
    assert len(samples) == 5
    for sample in samples:
        context = _context(sample)
        needle = NEEDLE.format(key=sample.metadata["needle_keys"][0], value=sample.target[0])
        offset = context.index(needle)
        assert offset == sample.metadata["needle_offsets"][0]
        depth = offset / (len(context) - len(needle))  # the share of the filler that comes before the needle
        assert abs(depth - sample.metadata["depth"]) <= tolerance, (sample.id, depth)


@pytest.mark.parametrize("length", [512, 4096, 32768, 131072])
def test_the_prompt_fills_its_length_less_the_reserve(length):
    sample = load_samples("needle_haystack", limit=1, extra_params={"context_lengths": [length]})[0]
    target = length - 128
    tokens = -(-len(sample.messages[-1].text()) // 4)  # the default count: 4 characters a token, rounded up
    assert tokens == sample.metadata["prompt_tokens"]
    longest = max(len(s) for s in SENTENCES) // 4 + 2
    assert target - longest <= tokens <= target


@pytest.fixture(scope="module")
def tiny_tokenizer(tmp_path_factory):
    """A small byte-level BPE tokenizer trained on the filler, so its counts differ from 4 characters a token."""
    pytest.importorskip("tokenizers", reason="tokenizers is not installed (the `local` or `serving` extra)")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(SENTENCES, trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tokenizer.save(str(path))
    return Tokenizer.from_file(str(path)), str(path)


def test_a_tokenizer_counts_the_length(tiny_tokenizer):
    tokenizer, path = tiny_tokenizer
    samples = load_samples("needle_haystack", extra_params={"context_lengths": [4096], "depths": [0.0, 0.5],
                                                            "tokenizer_path": path})
    for sample in samples:
        tokens = len(tokenizer.encode(sample.messages[-1].text(), add_special_tokens=False).ids)
        assert tokens == sample.metadata["prompt_tokens"]
        assert 4096 - 128 - 80 <= tokens <= 4096 - 128
    approximate = load_samples("needle_haystack", limit=1, extra_params={"context_lengths": [4096]})[0]
    assert len(samples[0].messages[-1].text()) != len(approximate.messages[-1].text())


@pytest.mark.parametrize("target", [300, 1000, 5000])
def test_the_length_search_finds_the_longest_haystack_that_fits(target):
    count = token_counter(None, 4.0)
    needles = draw_needles(random.Random(1), 2, 1, 0.3)
    haystack = build_haystack("key", needles, "Q?", target, count)
    longer = place_needles(filler("key", haystack.filler_sentences + 1), needles)
    assert count(render_prompt(haystack.text, "Q?")) <= target < count(render_prompt(longer.text, "Q?"))


def test_a_length_too_short_for_the_instructions_is_a_config_error():
    with pytest.raises(ConfigError, match="cannot hold even the instructions"):
        load_samples("needle_haystack", extra_params={"context_lengths": [256], "reserve_tokens": 250})


def test_the_seed_is_part_of_the_fingerprint():
    bench = get_benchmark("needle_haystack")
    assert bench(DatasetArgs(), 1).fingerprint() != bench(DatasetArgs(), 2).fingerprint()


def test_the_haystack_holds_no_number_but_the_needles():
    assert not re.search(r"\d", FILLER)
    samples = _samples(num_needles=2, distractor_needles=2)
    for sample in samples:
        found = set(numbers_in(sample.messages[-1].text()))
        assert found == set(sample.target) | set(sample.metadata["distractor_values"])


def test_several_needles_and_distractors():
    samples = _samples(num_needles=3, distractor_needles=2)
    for sample in samples:
        keys, values = sample.metadata["needle_keys"], sample.target
        assert len(set(keys)) == 3 and len(set(values)) == 3
        assert len(set(values) | set(sample.metadata["distractor_values"])) == 5
        question = sample.messages[-1].text().rsplit("</text>", 1)[1]
        assert all(key in question for key in keys) and "numbers" in question
        depths = sample.metadata["needle_depths"]
        assert depths[0] == sample.metadata["depth"] and depths == sorted(depths)
        context = _context(sample)
        offsets = [context.index(NEEDLE.format(key=k, value=v)) for k, v in zip(keys, values)]
        assert offsets == sample.metadata["needle_offsets"]


def test_subset_list_and_limit_choose_lengths_and_depth_sweeps():
    only = load_samples("needle_haystack", subset_list=["4k"], extra_params={**SMALL, "samples_per_cell": 3})
    assert {s.subset for s in only} == {"4k"} and len(only) == 15
    assert len({tuple(s.target) for s in only}) == 3
    limited = load_samples("needle_haystack", limit=5, extra_params={**SMALL, "samples_per_cell": 3})
    assert [s.metadata["depth"] for s in limited[:5]] == SMALL["depths"]
    assert load_samples("needle_haystack", extra_params={"context_lengths": [3000]})[0].subset == "3000"


@pytest.mark.parametrize("args", [
    {"subset_list": ["64k"]},
    {"extra_params": {"context_lengths": [262144]}},
    {"extra_params": {"depths": [1.5]}},
    {"extra_params": {"num_needles": 0}},
])
def test_bad_settings_are_config_errors(args):
    with pytest.raises(ConfigError):
        get_benchmark("needle_haystack")(DatasetArgs(**args))


@pytest.mark.parametrize("answer,recall", [
    ("4850294", 1.0),
    ("The special magic number for opal-dune is 4,850,294.", 1.0),
    ("**4850294**", 1.0),
    ("48502941", 0.0),        # inside a longer number
    ("485029", 0.0),
    ("I could not find it.", 0.0),
    ("", 0.0),
])
def test_recall_of_one_value(answer, recall):
    assert recall_score(answer, ["4850294"]).values["recall"] == recall


def test_recall_of_several_values_and_distractors():
    score = recall_score("1111111\n2222222\n9999999", ["1111111", "2222222", "3333333"], ["9999999"])
    assert score.values["recall"] == pytest.approx(2 / 3)
    assert score.metadata["distractors_named"] == 1 and "missing 1 of 3" in score.explanation


@pytest.mark.parametrize("kind,expected", [("gold", 1.0), ("wrong", 0.0)])
def test_gold_scores_100_and_wrong_0_end_to_end(tmp_path, make_replay, kind, expected):
    args = {"needle_haystack": {"extra_params": {**SMALL, "num_needles": 2}}}
    samples = load_samples("needle_haystack", **args["needle_haystack"])
    responses = ["\n".join(s.target) if kind == "gold" else "I found no magic number." for s in samples]
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["needle_haystack"], dataset_args=args, work_dir=str(tmp_path / "out"),
                      eval_batch_size=4)
    report = run_task(task, show=False).reports["needle_haystack"]
    assert report.score == expected and report.failed_samples == 0 and report.num == len(samples)
    assert [s.name for s in report.subsets] == ["2k", "4k"]
    for depth in ("0", "0.25", "0.5", "0.75", "1"):
        assert report.metrics[f"recall[depth={depth}]"].score == expected
        assert report.metrics[f"recall[depth={depth}]"].num == 2


def test_the_depth_breakdown_separates_depths(tmp_path, make_replay):
    args = {"needle_haystack": {"extra_params": SMALL}}
    samples = load_samples("needle_haystack", **args["needle_haystack"])
    responses = [s.target[0] if s.metadata["depth"] < 0.5 else "no idea" for s in samples]
    task = TaskConfig(eval_type="sim", model="replay-model", model_args=sim_args(make_replay(samples, responses)),
                      datasets=["needle_haystack"], dataset_args=args, work_dir=str(tmp_path / "out"))
    report = run_task(task, show=False).reports["needle_haystack"]
    assert report.score == pytest.approx(0.4)
    got = {name: m.score for name, m in report.metrics.items() if name.startswith("recall[")}
    assert got == {"recall[depth=0]": 1.0, "recall[depth=0.25]": 1.0, "recall[depth=0.5]": 0.0,
                   "recall[depth=0.75]": 0.0, "recall[depth=1]": 0.0}
    markdown = (tmp_path / "out").glob("*/reports/report.md")
    assert "recall[depth=0.25]" in next(markdown).read_text()
