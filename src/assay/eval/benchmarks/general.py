"""Your own data: ``general_mcq`` (multiple choice) and ``general_qa`` (free-form answers), from local files.

As in EvalScope: point ``dataset_args.<name>.dataset_id`` (or ``local_path``) at a folder of ``<subset>_val.csv``
/ ``<subset>.jsonl`` files or at one file. general_mcq rows have ``question``, option columns ``A``, ``B``, ...
(or a ``choices`` list) and ``answer`` (a letter); general_qa rows have ``query``/``question`` and
``response``/``answer`` and are scored by exact match and token F1 (SQuAD-style) after normalisation; with
``judge_strategy`` llm (or llm_recall) an LLM judge also grades each answer against the reference as ``acc``.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path
from typing import Any

from assay.data import DatasetLoader, HubDataset
from assay.errors import ConfigError, DatasetError
from assay.eval.benchmarks.base import Benchmark, register_benchmark
from assay.eval.benchmarks.common import LETTERS, JudgedBenchmark, MultipleChoice
from assay.types import Message, Sample, Score


class _UserData(Benchmark):
    def load(self, loader: DatasetLoader, limit: float | None = None) -> list[Sample]:
        if not self.args.source_override:
            raise ConfigError(f"{self.name} reads your files: set dataset_args.{self.name}.dataset_id to a file "
                              "or folder")
        return super().load(loader, limit)

    def subsets_in(self, loader: DatasetLoader, root: Path) -> list[str]:
        return self._subsets_in(root) if self.args.subset_list is None else list(self.subset_list)

    def _subsets_in(self, root: Path) -> list[str]:
        """Without a subset_list, every file of the folder is a subset ("example_val.csv" → "example")."""
        if root.is_file():
            return ["default"]
        from assay.data.readers import is_data_file

        names = []
        for path in sorted(p for p in root.iterdir() if is_data_file(p)):
            stem = path.name.split(".")[0]
            for split in (self.source.split, self.few_shot_split):
                if split and stem.endswith(f"_{split}"):
                    stem = stem[: -len(split) - 1] if split == self.source.split else ""
            if stem and stem not in names:
                names.append(stem)
        return names or ["default"]

    def accepts_any_subset(self) -> bool:
        return True

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        if root.is_file():
            return loader.rows(root, split)[0]
        rows, per_subset = loader.rows(root, split, subset)
        if not rows and split != "default":
            rows, per_subset = loader.rows(root, subset, subset)  # "<subset>.jsonl", no split in the name
        return rows


@register_benchmark("general_mcq", task_type="mcq", tags=("custom",))
class GeneralMCQ(_UserData, MultipleChoice):
    """Your multiple-choice files: question, A, B, ... and a letter answer."""

    version = "1"
    licence = "your data"
    source = HubDataset(split="val")
    few_shot_split = "dev"

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        if "choices" in row:
            choices = list(row["choices"])
        else:
            choices = [row[letter] for letter in LETTERS if row.get(letter) not in (None, "")]
        answer = str(row.get("answer", "")).strip().upper()
        if not choices or answer not in LETTERS[: len(choices)]:
            raise DatasetError(f"general_mcq row {index} of subset {subset!r} needs question, options A, B, ... "
                               f"and answer (a letter); got keys {sorted(row)}")
        return self.make_sample(f"{subset}/{row.get('id', index)}", row["question"], choices,
                                [LETTERS.index(answer)], subset)


@register_benchmark("general_qa", task_type="qa", tags=("custom",))
class GeneralQA(_UserData, JudgedBenchmark):
    """Your question/answer files, scored by exact match and token F1 (and ``acc`` by an LLM judge, if asked)."""

    version = "1"
    rule_metric = "exact_match"
    licence = "your data"
    source = HubDataset(split="test")
    metrics = ("exact_match", "f1")
    main_metric = "f1"

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        question = row.get("query", row.get("question"))
        target = row.get("response", row.get("answer"))
        if question is None or target is None:
            raise DatasetError(f"general_qa row {index} of subset {subset!r} needs query (or question) and "
                               f"response (or answer); got keys {sorted(row)}")
        return Sample(id=f"{subset}/{row.get('id', index)}", target=str(target), subset=subset,
                      metadata={"question": str(question), "system": row.get("system")})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        system = sample.metadata.get("system")
        return [*([Message.system(system)] if system else []), Message.user(sample.metadata["question"])]

    def score(self, sample: Sample, answer: str) -> Score:
        predicted, target = normalise_answer(answer), normalise_answer(str(sample.target))
        return Score(values={"exact_match": float(predicted == target), "f1": token_f1(predicted, target)},
                     extracted=answer.strip())


def normalise_answer(text: str) -> str:
    """Lowercase, punctuation and articles removed, whitespace collapsed (SQuAD's answer normalisation)."""
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(predicted: str, target: str) -> float:
    """SQuAD token F1 of two normalised strings (characters for text without spaces, e.g. Chinese)."""
    pred = predicted.split() if " " in predicted or " " in target else list(predicted)
    gold = target.split() if " " in predicted or " " in target else list(target)
    common = sum((Counter(pred) & Counter(gold)).values())
    if not pred or not gold:
        return float(pred == gold)
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)
