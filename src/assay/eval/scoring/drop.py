"""The DROP answer metric (Dua et al., NAACL 2019), as the official evaluator defines it.

An answer is a bag of spans (one span for a number, a date or a single span; several for a multi-span answer).
Each span is normalised token by token: lowercased, punctuation removed (except from numbers), numbers written
as floats ("5" and "5.0" agree), articles dropped, whitespace collapsed; hyphens split tokens. A span becomes
the set of its tokens. Exact match: the predicted and gold spans are the same set of normalised strings, as many
of each. F1: the predicted and gold spans are paired one to one so that the total token F1 is the largest (a
pair scores 0 when the gold span holds numbers and the predicted one none of them), then the pairs' F1 is
averaged over the larger of the two span counts (an unpaired span scores 0) and rounded to two decimals. Over
several gold answers, each metric is the best over them.

Written from the paper and the evaluator's documented behaviour; no scipy: the pairing is exhaustive for the
few spans answers have, greedy beyond that.
"""

from __future__ import annotations

import itertools
import re
import string
from typing import Sequence

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_EXHAUSTIVE_UP_TO = 7  # spans on the larger side; 7! pairings at most


def is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _normalise_token(token: str) -> str:
    token = token.lower()
    if not is_number(token):
        token = "".join(ch for ch in token if ch not in _PUNCTUATION)
    if is_number(token):
        token = str(float(token))
    return " ".join(_ARTICLES.sub(" ", token).split())


def normalise(text: str) -> str:
    """One span, normalised as the DROP evaluator does ("The 5.0 yards" → "5.0 yards")."""
    parts = (_normalise_token(token) for token in re.split(r" |-", text))
    return " ".join(part for part in parts if part.strip()).strip()


def answer_bags(spans: Sequence[str]) -> tuple[list[str], list[set[str]]]:
    """The normalised spans of an answer and each one's set of tokens."""
    normalised = [normalise(span) for span in spans]
    return normalised, [set(span.split()) for span in normalised]


def _token_f1(predicted: set[str], gold: set[str]) -> float:
    common = len(predicted & gold)
    precision = common / len(predicted) if predicted else 1.0
    recall = common / len(gold) if gold else 1.0
    if precision == 0 and recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _numbers_agree(gold: set[str], predicted: set[str]) -> bool:
    """A gold span with numbers needs one of them in the predicted span (a wrong count is no partial credit)."""
    gold_numbers = {token for token in gold if is_number(token)}
    return not gold_numbers or bool(gold_numbers & {token for token in predicted if is_number(token)})


def _best_pairing_total(scores: list[list[float]]) -> float:
    """The largest sum of scores over one-to-one pairings of rows (gold) with columns (predicted)."""
    rows, columns = len(scores), len(scores[0]) if scores else 0
    if not rows or not columns:
        return 0.0
    if max(rows, columns) <= _EXHAUSTIVE_UP_TO:
        if rows <= columns:
            return max(sum(scores[r][c] for r, c in enumerate(chosen))
                       for chosen in itertools.permutations(range(columns), rows))
        return max(sum(scores[r][c] for c, r in enumerate(chosen))
                   for chosen in itertools.permutations(range(rows), columns))
    cells = sorted(((scores[r][c], r, c) for r in range(rows) for c in range(columns)), reverse=True)
    used_rows: set[int] = set()
    used_columns: set[int] = set()
    total = 0.0
    for value, r, c in cells:
        if r not in used_rows and c not in used_columns:
            used_rows.add(r)
            used_columns.add(c)
            total += value
    return total


def aligned_f1(predicted: list[set[str]], gold: list[set[str]]) -> float:
    """The span-aligned F1 of two bags of token sets (see the module docstring), rounded to two decimals."""
    if not predicted and not gold:
        return 1.0
    scores = [[_token_f1(p, g) if _numbers_agree(g, p) else 0.0 for p in predicted] for g in gold]
    return round(_best_pairing_total(scores) / max(len(predicted), len(gold)), 2)


def drop_metrics(predicted: Sequence[str], gold: Sequence[str]) -> tuple[float, float]:
    """(exact match, F1) of a predicted answer against one gold answer, each a list of spans."""
    predicted_spans, predicted_bags = answer_bags(predicted)
    gold_spans, gold_bags = answer_bags(gold)
    exact = float(set(predicted_spans) == set(gold_spans) and len(predicted_spans) == len(gold_spans))
    return exact, aligned_f1(predicted_bags, gold_bags)


_SPAN_SEPARATORS = re.compile(r"\s*(?:;|\||,(?!\d)|(?<!\d),|\band\b|&)\s*", re.IGNORECASE)


def split_spans(text: str) -> list[str]:
    """A free-text answer's spans for a multi-span gold: split at commas (not those inside numbers such as
    "1,000"), semicolons, bars, "and" and "&"."""
    spans = [span.strip() for span in _SPAN_SEPARATORS.split(text)]
    return [span for span in spans if span] or [text]


def best_drop_metrics(answer: str, golds: Sequence[Sequence[str]]) -> tuple[float, float]:
    """(exact match, F1) of the answer text, each the best over the gold answers.

    The gold decides the answer's shape: against a single-span gold the text is one span (so "Paris, France"
    and "1,000" stay whole), against a multi-span gold it is split into spans (:func:`split_spans`). Gold answers
    with an empty first span are skipped, as the evaluator does.
    """
    best_em, best_f1 = 0.0, 0.0
    for gold in golds:
        if not gold or not str(gold[0]).strip():
            continue
        predicted = split_spans(answer) if len(gold) > 1 else [answer]
        em, f1 = drop_metrics(predicted, gold)
        best_em, best_f1 = max(best_em, em), max(best_f1, f1)
    return best_em, best_f1
