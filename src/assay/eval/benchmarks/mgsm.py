"""MGSM: the 250 GSM8K test problems translated by people into ten languages (with English, eleven subsets).

Shi, Suzgun, Freitag, Wang, Srivats, Vosoughi, Chung, Tay, Ruder, Zhou, Das, Wei, "Language Models are
Multilingual Chain-of-Thought Reasoners", 2022 (arXiv:2210.03057). HF ``juletxara/mgsm`` (one config per
language: bn de en es fr ja ru sw te th zh; split ``test``, 250 rows each, fields ``question``, ``answer``
(empty in test), ``answer_number`` (int), ``equation_solution``; ``train`` holds 8 worked exemplars), ModelScope
``evalscope/mgsm``; CC-BY-SA-4.0. A subset per language, reported apart, as EvalScope's ``mgsm`` does.

The hub repository keeps the data as headerless ``mgsm_<lang>.tsv`` files (question, answer number) beside a
loading script; a clone of it is read as it is, and so are the per-config parquet/jsonl exports
(``<lang>/test.jsonl``). Note that a hub download keeps only the files the loader reads, which leaves the TSVs
out: use ModelScope, a clone or an export.

Protocol: simple-evals' 0-shot chain of thought: an instruction in the problem's own language (written here,
not simple-evals' wording) to reason step by step and end with a line "<Answer>: N" in that language (Antwort,
Respuesta, Réponse, Ответ, 答案, 答え, คำตอบ, Jibu, উত্তর, సమాధానం). Grading: the last number after the last
answer prefix (that language's or English "Answer"), or in the last ``\\boxed{}`` where that comes later, equals
the target as a number. Numbers are read across locales: digits of any script (০-৯, ౦-౯, ๐-๙, fullwidth),
thousands separators (``1,234``, ``1.234``, ``1 234``, ``1'234``) and decimal commas (``3,5``). EvalScope asks for
a boxed answer in English and reads it with its math parser (4-shot by default); assay keeps simple-evals'
per-language prompt, accepts a boxed answer too, and offers ``few_shot_num`` from the ``train`` exemplars.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from pathlib import Path
from typing import Any

from assay.data import DatasetLoader, HubDataset
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.common import JudgedBenchmark, MathBenchmark
from assay.types import Message, Sample, Score

# Language → (instruction, answer prefix). The instruction asks for the prefix followed by the number.
LANGUAGES: dict[str, tuple[str, str]] = {
    "bn": ("নিচের গণিত সমস্যাটি ধাপে ধাপে সমাধান করুন। শেষ লাইনে চূড়ান্ত উত্তরটি একটি সংখ্যা হিসেবে "
           "\"উত্তর: <সংখ্যা>\" আকারে লিখুন।", "উত্তর"),
    "de": ("Löse die folgende Matheaufgabe Schritt für Schritt. Schreibe deine endgültige Antwort als Zahl in die "
           "letzte Zeile, in der Form \"Antwort: <Zahl>\".", "Antwort"),
    "en": ("Solve the following math problem step by step. Write your final answer as a number on the last line, "
           "in the form \"Answer: <number>\".", "Answer"),
    "es": ("Resuelve el siguiente problema de matemáticas paso a paso. Escribe tu respuesta final como un número en "
           "la última línea, con el formato \"Respuesta: <número>\".", "Respuesta"),
    "fr": ("Résous le problème de mathématiques suivant étape par étape. Écris ta réponse finale sous forme de "
           "nombre sur la dernière ligne, au format \"Réponse: <nombre>\".", "Réponse"),
    "ja": ("次の数学の問題を段階的に解いてください。最後の行に、最終的な答えを数値で「答え: <数値>」の形式で書いてください。",
           "答え"),
    "ru": ("Реши следующую математическую задачу шаг за шагом. Запиши окончательный ответ числом в последней "
           "строке в виде \"Ответ: <число>\".", "Ответ"),
    "sw": ("Tatua tatizo lifuatalo la hesabu hatua kwa hatua. Andika jibu lako la mwisho kama namba kwenye mstari "
           "wa mwisho, kwa muundo \"Jibu: <namba>\".", "Jibu"),
    "te": ("కింది గణిత సమస్యను దశలవారీగా పరిష్కరించండి. చివరి పంక్తిలో తుది సమాధానాన్ని ఒక సంఖ్యగా "
           "\"సమాధానం: <సంఖ్య>\" రూపంలో రాయండి.", "సమాధానం"),
    "th": ("จงแก้โจทย์คณิตศาสตร์ต่อไปนี้ทีละขั้นตอน แล้วเขียนคำตอบสุดท้ายเป็นตัวเลขในบรรทัดสุดท้าย "
           "ในรูปแบบ \"คำตอบ: <ตัวเลข>\"", "คำตอบ"),
    "zh": ("请逐步解答下面的数学题。在最后一行写出最终答案（一个数），格式为“答案：<数字>”。", "答案"),
}


@register_benchmark("mgsm", task_type="math", tags=("multilingual", "math", "reasoning"))
class MGSM(MathBenchmark):
    """MGSM (Shi et al., 2022): GSM8K in 11 languages; the number after the answer prefix, per language."""

    version = "1"
    licence = "CC-BY-SA-4.0"
    source = HubDataset(hubs=(("modelscope", "evalscope/mgsm"), ("huggingface", "juletxara/mgsm")),
                        split="test", subset_is_config=True)
    subsets = tuple(LANGUAGES)
    few_shot_split = "train"
    heavy_scoring = False  # a regular expression and a float comparison: no symbolic stage
    protocol_note = ("simple-evals MGSM: an instruction in the problem's language, the final line "
                     "'<Answer>: N'; acc: the last number after the last answer prefix (or in a later \\boxed{}) "
                     "equals the target, thousands separators and decimal commas read by locale")

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        if not is_hub_clone(root):
            return super().subset_rows(loader, root, subset, split)
        # The hub repository itself: headerless mgsm_<lang>.tsv files (question, answer number), the test split
        # alone (its train exemplars live in a Python file).
        tsv = root / f"mgsm_{subset}.tsv"
        if split != self.source.split or not tsv.is_file():
            return []
        with tsv.open(encoding="utf-8", newline="") as handle:
            return [{"question": line[0], "answer_number": line[1]}
                    for line in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE) if len(line) >= 2]

    def _runs_as_one_subset(self, loader: DatasetLoader, root: Path) -> bool:
        return False if is_hub_clone(root) else super()._runs_as_one_subset(loader, root)

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        number = parse_number(str(row["answer_number"]))
        target = str(row["answer_number"]).strip() if number is None else format_number(number)
        language = subset if subset in LANGUAGES else "en"
        return Sample(id=f"{subset}/{index}", target=target, subset=subset,
                      metadata={"question": row["question"], "language": language,
                                "solution": row.get("answer"), "equation_solution": row.get("equation_solution")})

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        messages: list[Message] = []
        for shot in shots:
            prefix = LANGUAGES[shot.metadata["language"]][1]
            messages.append(Message.user(ask(shot)))
            messages.append(Message.assistant(f"{(shot.metadata.get('solution') or '').strip()}\n"
                                              f"{prefix}: {shot.target}".lstrip()))
        messages.append(Message.user(ask(sample)))
        return messages

    def score(self, sample: Sample, answer: str) -> Score:
        return score_mgsm(answer, str(sample.target), LANGUAGES[sample.metadata.get("language", "en")][1])

    ascore = JudgedBenchmark.ascore  # the rule's number comparison, not MathBenchmark's symbolic stage


def is_hub_clone(root: Path) -> bool:
    """Whether ``root`` is a copy of the hub repository (its ``mgsm_<lang>.tsv`` files), not an export."""
    return root.is_dir() and any(root.glob("mgsm_*.tsv"))


def ask(sample: Sample) -> str:
    """The user turn: the instruction in the sample's language, then the problem."""
    return f"{LANGUAGES[sample.metadata['language']][0]}\n\n{sample.metadata['question']}"


def score_mgsm(answer: str, target: str, prefix: str) -> Score:
    """``acc`` 1 when the final number of ``answer`` (see :func:`final_number`) equals ``target``; no number
    found is wrong."""
    found = final_number(answer, prefix)
    expected = parse_number(target)
    if found is None:
        return Score(values={"acc": 0.0}, extracted=None, explanation="no answer prefix or boxed number found")
    text, rule = found
    value = parse_number(text)
    correct = value is not None and expected is not None and math.isclose(value, expected, rel_tol=1e-9,
                                                                           abs_tol=1e-9)
    return Score(values={"acc": float(correct)}, extracted=text, metadata={"rule": rule})


_SPACES = "'\u00a0\u2009\u202f "  # thousands separators other than "." and ","
# A minus sign only where it cannot be a subtraction ("16-3" is two numbers, 16 and 3).
_NUMBER = re.compile(r"(?:(?<!\w)-)?\d+(?:[.,'\u00a0\u2009\u202f ]\d+)*")


def final_number(answer: str, prefix: str) -> tuple[str, str] | None:
    """The last number after the last answer prefix (``prefix`` or English "Answer", then ":"), on the rest of
    that line (or the next non-empty one); or the last number in the last ``\\boxed{}`` where that comes after
    the prefix. Returns the number as written (digits made ASCII) and the rule that found it."""
    from assay.eval.scoring.math import extract_boxed

    text = ascii_digits(answer)
    markers = list(re.finditer(rf"(?:{re.escape(prefix)}|\banswer)[\s*]*[:：]", text, re.IGNORECASE))
    boxed_at = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if boxed_at >= 0 and (not markers or boxed_at > markers[-1].start()):
        numbers = numbers_in(extract_boxed(text[boxed_at:]) or "")
        if numbers:
            return numbers[-1], "boxed"
    if markers:
        lines = [line for line in text[markers[-1].end():].split("\n") if line.strip()]
        numbers = numbers_in(lines[0]) if lines else []
        if numbers:
            return numbers[-1], "answer_prefix"
    return None


def numbers_in(text: str) -> list[str]:
    """The numbers written in ``text``, in order; digits apart by a space that is no thousands grouping
    ("5 3") are two numbers."""
    found: list[str] = []
    for token in _NUMBER.findall(text):
        found.extend([token] if parse_number(token) is not None else re.split(f"[{_SPACES}]", token))
    return found


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit of another script (Bengali, Telugu, Thai, fullwidth...) as 0-9 and the
    minus sign as ``-``."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch
                   for ch in text.replace("\u2212", "-"))


def parse_number(token: str) -> float | None:
    """A number as written in any of MGSM's locales: ``1,234`` / ``1.234`` / ``1 234`` / ``1'234`` are thousands,
    ``3,5`` and ``3.5`` decimals, ``1.234,5`` and ``1,234.5`` both; None if ``token`` is not one number.

    A lone ``.`` or ``,`` followed by exactly three digits (after 1-3 digits, not led by 0) is a thousands
    separator in every locale: the targets are integers, so "1.234" means 1234 far more often than a decimal.
    """
    token = ascii_digits(token).strip()
    negative = token.startswith("-")
    body = token[1:] if negative else token
    if not re.fullmatch(r"\d+(?:[.,'\u00a0\u2009\u202f ]\d+)*", body):
        return None
    parts = re.split(f"[{_SPACES}]", body)
    if len(parts) > 1:  # spaces and apostrophes only group the integer part in threes
        if not _thousands([*parts[:-1], re.split("[.,]", parts[-1])[0]]):
            return None
        body = "".join(parts)
    marks = re.findall("[.,]", body)
    if len(set(marks)) == 2:  # both: the last one is the decimal mark
        integer, _, fraction = body.rpartition(marks[-1])
        body = f"{re.sub('[.,]', '', integer)}.{fraction}"
    elif len(marks) > 1 or (marks and _thousands(re.split("[.,]", body))):
        body = body.replace(marks[0], "")
    elif marks:
        body = body.replace(marks[0], ".")
    number = float(body)
    return -number if negative else number


def _thousands(groups: list[str]) -> bool:
    return (len(groups) > 1 and 1 <= len(groups[0]) <= 3 and not groups[0].startswith("0")
            and all(len(group) == 3 for group in groups[1:]))


def format_number(value: float) -> str:
    """A target as text: a whole number without a decimal point."""
    return str(int(value)) if value.is_integer() else repr(value)
