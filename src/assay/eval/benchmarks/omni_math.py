"""Omni-MATH: 4,428 olympiad-level competition problems over 33+ sub-domains and 10 difficulty levels.

Gao, Song, Yang, Cai, Miao, Dong, Li, Ma, Chen, Xu, Tang, Wang et al., "Omni-MATH: A Universal Olympiad Level
Mathematic Benchmark For Large Language Models", 2024 (arXiv:2410.07985). HF ``KbsdJames/Omni-MATH`` (split
``test``, one file; fields ``domain`` (a list of "Mathematics -> ..." paths), ``difficulty`` (float, 1-10),
``problem``, ``solution``, ``answer``, ``source``); Apache-2.0. No ModelScope copy is known to assay.

The paper grades with a judge model (GPT-4o, and its open Omni-Judge) because many answers are expressions, sets
or sentences a rule cannot compare; it also names Omni-MATH-Rule, the subset whose answers a rule can check.
assay grades by rule by default, as the other math benchmarks: the last boxed answer against ``answer`` by the
math checker (MATH-style prompt, 0-shot), which under-counts on answers a rule cannot read; ``judge_strategy``
(``llm``, or ``llm_recall`` to ask only where the rule found it wrong) brings in the LLM judge, as the paper does.
Reported: ``acc``, with the domain and difficulty kept in each sample's metadata.
"""

from __future__ import annotations

from typing import Any

from assay.data import HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MathBenchmark
from assay.types import Sample


@register_benchmark("omni_math", task_type="math", tags=("en", "math", "reasoning"))
class OmniMath(MathBenchmark):
    """Omni-MATH (Gao et al., 2024): olympiad problems, the boxed answer by the math checker (or the judge)."""

    version = "1"
    licence = "Apache-2.0"
    source = HubDataset(hubs=(("huggingface", "KbsdJames/Omni-MATH"),), split="test", aliases=("omni-math",))

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        domain = row.get("domain") or []
        return Sample(id=str(row.get("id", index)), target=str(row["answer"]).strip(), subset=subset,
                      metadata={"question": row["problem"], "domain": list(domain) if isinstance(domain, (list, tuple))
                                else [domain], "difficulty": row.get("difficulty"), "source": row.get("source")})
