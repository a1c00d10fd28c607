"""LongBench v2: 503 four-option questions over long real documents (8k to 2M words: papers, novels, financial
and legal filings, code repositories, dialogue and agent histories, tables and knowledge graphs), written and
checked by experts so that answering needs the whole context rather than a lookup.

Bai et al., "LongBench v2: Towards Deeper Understanding and Reasoning on Realistic Long-context Multitasks", 2024
(arXiv:2412.15204). HF ``THUDM/LongBench-v2`` (one ``data.json``, split ``train``), ModelScope
``ZhipuAI/LongBench-v2``; fields ``_id``, ``domain``, ``sub_domain``, ``difficulty`` (easy/hard), ``length``
(short/medium/long), ``question``, ``choice_A``..``choice_D``, ``answer`` (a letter), ``context``. Asked as the
authors' ``prompts/0shot.txt`` (the text in ``<text>`` tags, the question, the four choices, and "Format your
response as follows: "The correct answer is (insert answer here)""), 0-shot; their scorer reads the letter of
"The correct answer is (X)". Here ``acc`` takes the letter of the last answer statement, that phrase included,
then the usual fallbacks, and ``acc_strict`` an explicit statement only. Subsets are the six domains; the report
adds ``acc`` per difficulty and per length, the paper's other two columns.

Where assay differs: the authors cut the middle of the whole prompt's tokens to the model's window; here
``max_context_chars`` (default: no cut) cuts the middle of the context alone, keeping its head and tail halves and
the question intact. EvalScope's ``longbench_v2`` (the name kept) uses a step-by-step 'ANSWER: X' prompt, subsets
by length and a 380k-character cut by default.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from assay.data import HubDataset
from assay.eval.benchmarks.base import BenchmarkParams, register_benchmark
from assay.eval.benchmarks.common import LETTERS, MultipleChoice
from assay.eval.benchmarks.long_context import CONTEXT, LongContextBenchmark
from assay.types import Message, Sample

DOMAINS = ("Single-Document QA", "Multi-Document QA", "Long In-context Learning",
           "Long-dialogue History Understanding", "Code Repository Understanding",
           "Long Structured Data Understanding")

# THUDM/LongBench prompts/0shot.txt; its placeholders are replaced, as the authors' pred.py does (not formatted:
# braces in a document stay as they are).
ZERO_SHOT = (
    "Please read the following text and answer the question below.\n\n<text>\n$DOC$\n</text>\n\n"
    "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
    'Format your response as follows: "The correct answer is (insert answer here)".'
)


def cut_middle(text: str, max_chars: int | None) -> str:
    """``text`` with its middle left out so that ``max_chars`` remain: the first and the last half (LongBench
    keeps the two ends of an over-long prompt, where instructions and questions sit)."""
    if max_chars is None or len(text) <= max_chars:
        return text
    head = max_chars // 2
    return text[:head] + text[len(text) - (max_chars - head):]


def render_zero_shot(context: str, question: str, choices: list[str]) -> str:
    """The authors' prompt, its placeholders filled in one pass (a document holding "$Q$" is left as it is)."""
    values = {"DOC": context.strip(), "Q": question.strip(),
              **{f"C_{letter}": choice.strip() for letter, choice in zip("ABCD", choices)}}
    return re.sub(r"\$(DOC|Q|C_[ABCD])\$", lambda match: values[match.group(1)], ZERO_SHOT)


@register_benchmark("longbench_v2", task_type="mcq", tags=("en", "long_context", "reasoning"))
class LongBenchV2(LongContextBenchmark, MultipleChoice):
    """LongBench v2 (Bai et al., 2024): long-document multiple choice, a subset per domain."""

    version = "1"
    source = HubDataset(hubs=(("huggingface", "THUDM/LongBench-v2"), ("modelscope", "ZhipuAI/LongBench-v2")),
                        split="train", subset_column="domain")
    licence = "Apache-2.0"
    subsets = DOMAINS
    breakdowns = (("difficulty", ("easy", "hard")), ("length", ("short", "medium", "long")))
    protocol_note = ("LongBench v2 0-shot prompt ('The correct answer is (X)'); acc: letter from the last answer "
                     "statement, then fallbacks; acc_strict: an explicit answer statement only")

    class Params(BenchmarkParams):
        max_context_chars: int | None = Field(
            default=None, ge=100, description="cut the middle of longer contexts, keeping head and tail; none: "
                                              "send every context whole")

    params: Params

    def subset_of(self, row: dict[str, Any]) -> str | None:
        return row.get("domain")

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        context = str(row["context"])
        shown = cut_middle(context, self.params.max_context_chars)
        choices = [str(row[f"choice_{letter}"]) for letter in "ABCD"]
        return self.make_sample(
            str(row.get("_id") or f"{subset}/{index}"), str(row["question"]), choices,
            [LETTERS.index(str(row["answer"]).strip().upper())], subset,
            **{CONTEXT: shown}, domain=row.get("domain"), sub_domain=row.get("sub_domain"),
            difficulty=row.get("difficulty"), length=row.get("length"), context_chars=len(context),
            context_truncated=len(shown) < len(context))

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        return [Message.user(render_zero_shot(sample.metadata[CONTEXT], sample.metadata["question"],
                                              sample.choices or []))]
