"""needle_haystack: needles in a haystack, generated (nothing is downloaded). A long filler text hides one or
more sentences "The special magic number for <key> is <seven digits>." at chosen depths; the model is asked for
the value(s). A grid of context lengths (the subsets: ``4k``, ``8k``...) by needle depths (0 = the start of the
text, 1 = its end) shows where in its window a model stops finding what it was given.

Kamradt's "Needle In A Haystack" pressure test (2023) and its formalisation as RULER's NIAH tasks: Hsieh et
al., "RULER: What's the Real Context Size of Your Long-Context Language Models?", 2024 (arXiv:2404.06654). As
RULER's ``niah_single`` by default; ``num_needles`` > 1 asks for several keys at once (``niah_multiquery``) and
``distractor_needles`` adds needles of other keys that are not asked about (``niah_multikey``). The needles asked
for start at the cell's depth and are spread evenly over the rest of the text (Kamradt's multi-needle layout);
distractors fall at seeded depths. Scoring is RULER's: ``recall``, the fraction of the asked values present in
the answer (here a value must stand alone, not inside a longer number; "1,234,567" counts).

Where assay differs: the haystack is a short filler text written for assay (``haystack_text``; no digits, so it
cannot hold a number mistaken for a needle), reordered and repeated with the seed, where Kamradt and RULER repeat
Paul Graham's essays; the instruction is RULER's, worded for a chat model, with the text in ``<text>`` tags.
Lengths count the rendered user message (not the chat template) with ``tokenizer_path``'s tokenizer, else as
characters / ``chars_per_token``; as RULER, ``reserve_tokens`` of each length are left for the answer. Generation
is pure: the same seed gives the same prompts, and a length and sample index keep their filler and needles across
depths, so a row of the grid differs only in where the needle is. EvalScope's ``needle_haystack`` (the name kept)
downloads Paul Graham's essays (and a Chinese novel, its second subset), hides Kamradt's San Francisco sentence and
grades with a judge model; this one needs no download and no judge.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Callable, Sequence

from pydantic import Field, field_validator

from assay.data import DatasetLoader, HubDataset
from assay.errors import ConfigError
from assay.eval.benchmarks.base import BenchmarkParams, _limit_count, register_benchmark
from assay.eval.benchmarks.haystack_text import SENTENCES
from assay.eval.benchmarks.long_context import CONTEXT, LongContextBenchmark, forget_contexts
from assay.eval.config import DatasetArgs
from assay.types import Message, Sample, Score

MAX_LENGTH_TOKENS = 131072
MIN_LENGTH_TOKENS = 256

TEMPLATE = ("Some special magic numbers are hidden in the following text. Read it carefully and remember them: "
            "you will be asked about them afterwards.\n\n<text>\n{context}\n</text>\n\n{question}")
NEEDLE = "The special magic number for {key} is {value}."
QUESTION_ONE = "What is the special magic number for {keys} mentioned in the text above? Answer with the number only."
QUESTION_MANY = ("What are the special magic numbers for {keys} mentioned in the text above? Answer with the "
                 "numbers only, one per line.")

# Needle keys: an adjective and a noun (RULER draws random words); 24 x 24 distinct keys.
_ADJECTIVES = ("amber", "brisk", "calm", "dusty", "eager", "faded", "gentle", "hollow", "icy", "jolly", "keen",
               "lofty", "mellow", "nimble", "opal", "plain", "quiet", "rustic", "silver", "tidy", "upper", "vivid",
               "woolly", "young")
_NOUNS = ("anchor", "bridge", "candle", "dune", "ember", "falcon", "garden", "harbor", "island", "jetty", "kettle",
          "lantern", "meadow", "needle", "orchard", "pebble", "quarry", "ribbon", "saddle", "thimble", "umbrella",
          "valley", "willow", "yarn")
KEYS = tuple(f"{adjective}-{noun}" for adjective in _ADJECTIVES for noun in _NOUNS)

Length = Annotated[int, Field(ge=MIN_LENGTH_TOKENS, le=MAX_LENGTH_TOKENS)]
Depth = Annotated[float, Field(ge=0.0, le=1.0)]


def length_label(tokens: int) -> str:
    """A context length's subset name: ``4k`` for 4096 tokens, the number itself when not a multiple of 1024."""
    return f"{tokens // 1024}k" if tokens % 1024 == 0 else str(tokens)


@dataclass(frozen=True)
class Needle:
    """One needle: its key, its seven-digit value, where it goes (0-1) and whether the question asks for it."""

    key: str
    value: str
    depth: float
    asked: bool

    @property
    def sentence(self) -> str:
        return NEEDLE.format(key=self.key, value=self.value)


@dataclass(frozen=True)
class Haystack:
    """The context with its needles in, and each needle's character offset in it (in ``needles`` order)."""

    text: str
    offsets: tuple[int, ...]
    filler_sentences: int


def draw_needles(rng: random.Random, asked: int, distractors: int, depth: float) -> list[Needle]:
    """Distinct keys and values; the asked needles from ``depth`` evenly to the end, distractors anywhere."""
    keys = rng.sample(KEYS, asked + distractors)
    values = rng.sample(range(1_000_000, 10_000_000), asked + distractors)
    needles = [Needle(keys[i], str(values[i]), depth + i * (1.0 - depth) / asked, True) for i in range(asked)]
    needles += [Needle(keys[i], str(values[i]), rng.random(), False) for i in range(asked, asked + distractors)]
    return needles


def filler(seed_key: str, count: int) -> list[str]:
    """The first ``count`` filler sentences for ``seed_key``: the corpus in a seeded order, again and again
    (every prefix of a longer draw is the shorter draw, so a length search sees one text grow)."""
    rng, out = random.Random(seed_key), []
    while len(out) < count:
        order = list(SENTENCES)
        rng.shuffle(order)
        out.extend(order)
    return out[:count]


def place_needles(sentences: list[str], needles: list[Needle]) -> Haystack:
    """``sentences`` with each needle inserted at the sentence boundary nearest its depth."""
    count = len(sentences)
    at: dict[int, list[int]] = {}
    for index, needle in enumerate(needles):
        at.setdefault(round(needle.depth * count), []).append(index)
    pieces: list[str] = []
    piece_of = [0] * len(needles)
    for slot in range(count + 1):
        for index in at.get(slot, []):
            piece_of[index] = len(pieces)
            pieces.append(needles[index].sentence)
        if slot < count:
            pieces.append(sentences[slot])
    starts, position = [], 0
    for piece in pieces:  # the pieces are joined by one space
        starts.append(position)
        position += len(piece) + 1
    return Haystack(" ".join(pieces), tuple(starts[piece] for piece in piece_of), count)


def question_for(needles: list[Needle]) -> str:
    keys = [needle.key for needle in needles if needle.asked]
    if len(keys) == 1:
        return QUESTION_ONE.format(keys=keys[0])
    return QUESTION_MANY.format(keys=", ".join(keys[:-1]) + " and " + keys[-1])


def render_prompt(context: str, question: str) -> str:
    return TEMPLATE.format(context=context, question=question)


@lru_cache(maxsize=4)
def _tokenizer_counter(path: str) -> Callable[[str], int]:
    from assay.utils.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(path)
    return lambda text: len(tokenizer.encode(text))


def token_counter(tokenizer_path: str | None, chars_per_token: float) -> Callable[[str], int]:
    """Counts a text's tokens: with the tokenizer at ``tokenizer_path`` (loaded once per process), else
    characters / ``chars_per_token`` rounded up (English prose runs near four characters a token in the BPE
    vocabularies of current models)."""
    if tokenizer_path:
        return _tokenizer_counter(tokenizer_path)
    return lambda text: math.ceil(len(text) / chars_per_token)


def build_haystack(seed_key: str, needles: list[Needle], question: str, target_tokens: int,
                   count: Callable[[str], int]) -> Haystack:
    """The longest haystack whose prompt counts at most ``target_tokens``. A tokenizer's count of a long prompt is
    the slow step, so the sentence count is found by secant steps (tokens per sentence as measured so far) kept
    inside the bracket of counts known to fit and not to fit, with bisection after a few: three or four counts."""

    def tokens(sentences: int) -> int:
        return count(render_prompt(place_needles(filler(seed_key, sentences), needles).text, question))

    bare = tokens(0)
    if bare > target_tokens:
        raise ConfigError(f"needle_haystack: a context length of {target_tokens} tokens (after reserve_tokens) "
                          "cannot hold even the instructions and the needles")
    per_sentence = max(count(" ".join(SENTENCES)) / len(SENTENCES), 1.0)
    fits, too_long = 0, None  # tokens(fits) <= target_tokens < tokens(too_long)
    sentences = max(1, int((target_tokens - bare) / per_sentence))
    for step in range(64):
        used = tokens(sentences)
        if used <= target_tokens:
            fits = sentences
        else:
            too_long = sentences
        if too_long is not None and too_long - fits <= 1:
            break
        per_sentence = max((used - bare) / sentences, 0.5)
        secant = sentences + math.floor((target_tokens - used) / per_sentence)
        if too_long is None:  # none too long yet: forward, doubling after a few steps
            sentences = max(secant, sentences + 1, 2 * fits if step > 6 else 0)
        elif step > 6:
            sentences = (fits + too_long) // 2
        else:
            sentences = min(max(secant, fits + 1), too_long - 1)
    return place_needles(filler(seed_key, fits), needles)


_GROUPED_DIGITS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUMBER = re.compile(r"(?<!\d)\d+(?!\d)")


def numbers_in(answer: str) -> list[str]:
    """Every whole number the answer writes, thousands separators removed ("1,234,567" is 1234567)."""
    return _NUMBER.findall(_GROUPED_DIGITS.sub("", answer))


def recall_score(answer: str, values: Sequence[str], distractors: Sequence[str] = ()) -> Score:
    """``recall``: the share of ``values`` that stand in the answer as whole numbers (RULER's string match, which
    a value inside a longer number does not pass here); distractor values named are noted, not penalised."""
    found = numbers_in(answer)
    hits = [value for value in values if value in found]
    named = [value for value in distractors if value in found]
    return Score(values={"recall": len(hits) / len(values) if values else None}, extracted=found or None,
                 explanation=None if len(hits) == len(values) else f"missing {len(values) - len(hits)} of "
                 f"{len(values)} values", metadata={"distractors_named": len(named)} if named else {})


@register_benchmark("needle_haystack", task_type="qa", tags=("en", "long_context", "retrieval"))
class NeedleHaystack(LongContextBenchmark):
    """Needle in a haystack (Kamradt 2023; RULER's NIAH, Hsieh et al. 2024): generated, a subset per length."""

    version = "1"
    source = HubDataset()
    generated = True
    licence = "Apache-2.0"  # the filler text is assay's own
    subsets = tuple(length_label(n) for n in (4096, 8192, 16384, 32768))
    metrics = ("recall",)
    main_metric = "recall"
    protocol_note = ("generated NIAH (RULER-style): seven-digit values hidden at set depths of a filler text; "
                     "recall: share of the asked values present in the answer")

    class Params(BenchmarkParams):
        context_lengths: list[Length] = Field(
            default=[4096, 8192, 16384, 32768], min_length=1,
            description=f"context lengths in tokens ({MIN_LENGTH_TOKENS}-{MAX_LENGTH_TOKENS}), a subset each")
        depths: list[Depth] = Field(default=[0.0, 0.25, 0.5, 0.75, 1.0], min_length=1,
                                    description="where the (first) needle goes: 0 the start, 1 the end")
        num_needles: int = Field(default=1, ge=1, le=16, description="needles asked for (RULER niah_multiquery)")
        distractor_needles: int = Field(default=0, ge=0, le=16,
                                        description="needles of other keys, not asked for (RULER niah_multikey)")
        samples_per_cell: int = Field(default=1, ge=1, le=1000,
                                      description="samples per (length, depth), each with its own filler and needles")
        tokenizer_path: str | None = Field(default=None, description="a local tokenizer.json or model folder to "
                                           "count lengths with; none: characters / chars_per_token")
        chars_per_token: float = Field(default=4.0, gt=0.5, le=16.0,
                                       description="the approximate count's characters per token")
        reserve_tokens: int = Field(default=128, ge=0, description="tokens of each length left for the answer")

        @field_validator("context_lengths", "depths")
        @classmethod
        def _distinct(cls, values: list[Any]) -> list[Any]:
            return list(dict.fromkeys(values))

    params: Params

    def __init__(self, args: DatasetArgs | None = None, seed: int = 42) -> None:
        super().__init__(args, seed)
        lengths = {length_label(n): n for n in self.params.context_lengths}
        unknown = [name for name in self.args.subset_list or [] if name not in lengths]
        if unknown:
            raise ConfigError(f"dataset_args.needle_haystack.subset_list: unknown length {unknown[0]!r} (this run's "
                              f"context_lengths give: {', '.join(lengths)})")
        self.subset_list = list(self.args.subset_list or lengths)
        self.lengths = lengths

    def fingerprint(self) -> dict[str, Any]:
        # The seed draws the filler and the needles: answers from another seed's prompts cannot be resumed.
        return {**super().fingerprint(), "seed": self.seed}

    def breakdown_values(self) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        return (("depth", tuple(self.params.depths)),)

    def cells(self, subset: str) -> list[dict[str, Any]]:
        """The rows of a length: each sample index over every depth (a ``limit`` takes whole depth sweeps)."""
        return [{"context_length": self.lengths[subset], "depth": depth, "index": index}
                for index in range(self.params.samples_per_cell) for depth in self.params.depths]

    def load(self, loader: DatasetLoader, limit: float | None = None) -> list[Sample]:
        # Generated: no data to locate; the rows are the grid's cells.
        samples = []
        for subset in self.subset_list:
            rows = self.cells(subset)
            for position, row in enumerate(rows[: _limit_count(limit, len(rows))]):
                sample = self.sample(row, subset, position)
                sample.messages = self.render(sample, [])
                samples.append(sample)
        return forget_contexts(samples)

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        params = self.params
        length, depth, number = int(row["context_length"]), float(row["depth"]), int(row["index"])
        seed_key = f"needle_haystack:{self.seed}:{length}:{number}"
        needles = draw_needles(random.Random(seed_key + ":needles"), params.num_needles, params.distractor_needles,
                               depth)
        question = question_for(needles)
        count = token_counter(params.tokenizer_path, params.chars_per_token)
        haystack = build_haystack(seed_key + ":filler", needles, question, length - params.reserve_tokens, count)
        asked = [needle for needle in needles if needle.asked]
        return Sample(
            id=f"{subset}/depth{depth:g}/{number}", target=[needle.value for needle in asked], subset=subset,
            metadata={
                CONTEXT: haystack.text, "question": question, "context_length": length, "depth": depth,
                "prompt_tokens": count(render_prompt(haystack.text, question)),
                "needle_keys": [needle.key for needle in asked],
                "needle_depths": [needle.depth for needle in asked],
                "needle_offsets": [haystack.offsets[i] for i, needle in enumerate(needles) if needle.asked],
                "distractor_values": [needle.value for needle in needles if not needle.asked],
                "context_chars": len(haystack.text),
            })

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(render_prompt(sample.metadata[CONTEXT], sample.metadata["question"]))]

    def score(self, sample: Sample, answer: str) -> Score:
        targets = sample.target if isinstance(sample.target, list) else [str(sample.target)]
        return recall_score(answer, [str(t) for t in targets], sample.metadata.get("distractor_values", []))
