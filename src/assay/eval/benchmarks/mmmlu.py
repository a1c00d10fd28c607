"""MMMLU: MMLU's 14,042 test questions professionally translated by OpenAI into 14 languages.

Published by OpenAI as openai/MMMLU (2024) with simple-evals, from Hendrycks et al., "Measuring Massive Multitask
Language Understanding", ICLR 2021 (arXiv:2009.03300). A subset per language (``ZH_CN``, ``SW_KE``...), as in
EvalScope's ``mmmlu``; 0-shot. Asked as simple-evals asks it: the English multiple-choice prompt around the
translated question and options (EvalScope translates the instruction too), the letter read after the last
answer marker, then the fallbacks. Reads the hub's layout (``test/mmlu_ZH-CN.csv``) and a folder or file per
language code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.data import DatasetLoader, HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import MultipleChoice, rows_of_file_named
from assay.types import Sample

LANGUAGES = {
    "AR_XY": "Arabic", "BN_BD": "Bengali", "DE_DE": "German", "ES_LA": "Spanish", "FR_FR": "French",
    "HI_IN": "Hindi", "ID_ID": "Indonesian", "IT_IT": "Italian", "JA_JP": "Japanese", "KO_KR": "Korean",
    "PT_BR": "Portuguese", "SW_KE": "Swahili", "YO_NG": "Yoruba", "ZH_CN": "Chinese",
}


@register_benchmark("mmmlu", task_type="mcq", tags=("multilingual", "knowledge"))
class MMMLU(MultipleChoice):
    """MMMLU (OpenAI, 2024): MMLU in 14 languages, a subset per language."""

    version = "1"
    licence = "MIT"
    source = HubDataset(hubs=(("huggingface", "openai/MMMLU"), ("modelscope", "openai-mirror/MMMLU")),
                        split="test", subset_is_config=True)
    subsets = tuple(LANGUAGES)
    protocol_note = ("simple-evals MMMLU: the English CoT prompt ('Answer: $LETTER') around the translated "
                     "question; acc: letter from the last answer marker, then fallbacks")

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        # The hub keeps each language as test/mmlu_<AR-XY>.csv, named after neither the config nor the split.
        rows = rows_of_file_named(loader, root, split, [f"mmlu_{subset.replace('_', '-')}"])
        return rows or super().subset_rows(loader, root, subset, split)

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        choices = [row["A"], row["B"], row["C"], row["D"]]
        return self.make_sample(f"{subset}/{index}", str(row["Question"]), [str(c) for c in choices],
                                ["ABCD".index(str(row["Answer"]).strip().upper())], subset,
                                subject=row.get("Subject"), language=LANGUAGES[subset] if subset in LANGUAGES
                                else subset)
