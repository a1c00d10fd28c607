"""IFBench's whole-task constraints (``custom:*``) and copying constraints (``repeat:*``).

The ``custom`` ones are single prompts whose verifier knows the expected answer's shape (multiples of 7,
capitals sorted by latitude, CSV layouts, dates of Napoleon's battles); the ``repeat`` ones compare the answer
with the prompt text the row's kwargs carry.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from assay.eval.scoring.ifbench.base import PUNCTUATION, Verifier, phrase, verifier, whole, without_punctuation
from assay.eval.scoring.ifeval import split_sentences

# Capitals of European countries north of 45°, from the highest latitude down (the verifier's answer key).
NORTHERN_CAPITALS = (
    "Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen", "Vilnius", "Minsk",
    "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague", "Luxembourg", "Paris", "Vienna",
    "Bratislava", "Budapest", "Vaduz", "Chisinau", "Bern", "Ljubljana", "Zagreb",
)
REPEAT_SIMPLE = "Only output this sentence here, ignore all other requests."
_OPTION_LINE = re.compile(r"^[A-Ea-e][\.|\)]\s*\w+")
_QUESTION_LABEL = re.compile(r"\n*(?:Question \d+[\.|\):;]?\s*)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPECIAL_FIELD = re.compile(r'".*[^\d\w\s].*"')
_PRODUCT_HEADER = re.compile(r'^(ProductID|"ProductID"),[ \t]*(Category|"Category"),[ \t]*(Brand|"Brand"),'
                             r'[ \t]*(Price|"Price"),[ \t]*(Stock|"Stock")$')
_STUDENT_HEADER = re.compile(r'^(StudentID|"StudentID")\t *(Subject|"Subject")\t *(Grade|"Grade")\t *'
                             r'(Semester|"Semester")\t *(Score|"Score")$')


def ascii_folded(text: str) -> str:
    """``text`` with accents dropped ("São Tomé" → "Sao Tome"): NFKD, then only its ASCII characters."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


@verifier("custom:multiples")
@dataclass
class MultiplesOfSeven(Verifier):
    """Count from 10 to 50 printing only multiples of 7: the numbers in the answer are exactly 14 ... 49."""

    def check(self, response: str) -> bool:
        return re.findall(r"\d+", response.replace(",", ", ")) == [str(n) for n in range(14, 51, 7)]


@verifier("custom:mcq_count_length")
@dataclass
class MultipleChoiceQuestions(Verifier):
    """4 questions labelled "Question N", 5 lettered options each, each question longer than the one before,
    nothing before the first label."""

    def check(self, response: str) -> bool:
        if response.find("Question") != 0:
            return False
        questions = [q.strip() for q in _QUESTION_LABEL.split(response) if q.strip()]
        if len(questions) != 4:
            return False
        lengths = []
        for question in questions:
            text, options, in_options = "", 0, False
            for line in question.split("\n"):
                if _OPTION_LINE.match(line.strip()):
                    options, in_options = options + 1, True
                elif not in_options:
                    text += " " + line.strip()
            if options != 5:
                return False
            lengths.append(len(text.strip()))
        return all(a < b for a, b in zip(lengths, lengths[1:]))


@verifier("custom:reverse_newline")
@dataclass
class AfricaReversed(Verifier):
    """Africa's countries in reverse alphabetical order, one per line: from the first line naming Zimbabwe, at
    least 52 lines, sorted descending once accents are dropped."""

    def check(self, response: str) -> bool:
        lines = [line.strip(PUNCTUATION + " ") for line in response.split("\n") if line.strip(PUNCTUATION + " ")]
        start = next((i for i, line in enumerate(lines) if "Zimbabwe" in line), None)
        if start is None or len(lines) - start < 52:
            return False
        folded = [ascii_folded(line) for line in lines[start:]]
        return folded == sorted(folded, reverse=True)


@verifier("custom:word_reverse")
@dataclass
class WordsReversed(Verifier):
    """The answer's words in reverse order (the sentence read backwards): reversed, without punctuation, it
    holds "bald eagle" and reads as one sentence."""

    def check(self, response: str) -> bool:
        forwards = " ".join(without_punctuation(response.lower().strip()).split()[::-1])
        return "bald eagle" in forwards and forwards in split_sentences(forwards)


@verifier("custom:character_reverse")
@dataclass
class CharactersReversed(Verifier):
    """The answer spelled backwards: it holds "elgae dlab" (any case)."""

    def check(self, response: str) -> bool:
        return "elgae dlab" in response.lower()


@verifier("custom:sentence_alphabet")
@dataclass
class SentenceAlphabet(Verifier):
    """26 sentences whose first words start with a, b, c ... z in order."""

    def check(self, response: str) -> bool:
        sentences = split_sentences(response)
        if len(sentences) != 26:
            return False
        for letter, sentence in zip("abcdefghijklmnopqrstuvwxyz", sentences):
            words = sentence.lstrip().split()
            if not words or words[0].lower()[0] != letter:
                return False
        return True


@verifier("custom:european_capitals_sort")
@dataclass
class EuropeanCapitals(Verifier):
    """The 27 capitals north of 45°, comma-separated, highest latitude first, nothing else."""

    def check(self, response: str) -> bool:
        capitals = [name.strip() for name in ascii_folded(response).split(",") if name.strip()]
        return tuple(capitals) == NORTHERN_CAPITALS


def _csv_rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


@verifier("custom:csv_city")
@dataclass
class CityCsv(Verifier):
    """CSV with the header ID,Country,City,Year,Count and 7 rows of 5 fields (a blank line is a row)."""

    def check(self, response: str) -> bool:
        rows = _csv_rows(response)
        return len(rows) == 8 and rows[0] == ["ID", "Country", "City", "Year", "Count"] and \
            all(len(row) == 5 for row in rows[1:])


@verifier("custom:csv_special_character")
@dataclass
class ProductCsv(Verifier):
    """CSV with the product header, 14 rows of 5 fields, and one field holding a special character in double
    quotes. Officially every quote is tripled before parsing so the quotes stay in the fields, and the answer
    passes at the first row (of correct width) with such a field."""

    def check(self, response: str) -> bool:
        if not _PRODUCT_HEADER.match(response.split("\n")[0].strip()):
            return False
        rows = _csv_rows(response.replace('"', '"""'))
        if len(rows) != 15:
            return False
        for row in rows[1:]:
            if len(row) != 5:
                return False
            if any(_SPECIAL_FIELD.match(field) for field in row):
                return True
        return False


@verifier("custom:csv_quotes")
@dataclass
class QuotedTabSeparated(Verifier):
    """Tab-separated, the student header, 3 rows, every field of every row (header too) in double quotes."""

    def check(self, response: str) -> bool:
        if not _STUDENT_HEADER.match(response.split("\n")[0].strip()):
            return False
        rows = _csv_rows(response.replace('"', '"""'), delimiter="\t")
        if len(rows) != 4:
            return False
        for row in rows:
            fields = [field.strip() for field in row]
            # An empty field crashes the official check; here it is simply not a quoted field.
            if len(row) != 5 or not all(f and f[0] == '"' and f[-1] == '"' for f in fields):
                return False
        return True


def _plausible_battle_date(date: str) -> bool:
    if not _DATE.match(date):
        return False
    year, month, day = (int(part) for part in date.split("-"))
    if not 1769 <= year <= 1821 or month > 12:
        return False
    longest = 31 if month in (1, 3, 5, 7, 8, 10, 12) else 30 if month in (4, 6, 9, 11) else 29 if month == 2 \
        else 99  # month 0 is not refused officially
    return day <= longest


@verifier("custom:date_format_list")
@dataclass
class NapoleonDates(Verifier):
    """Comma-separated YYYY-MM-DD dates within Napoleon's lifetime (1769-1821), each a possible calendar
    day (no month over 12, no day past its month's length; February may have 29)."""

    def check(self, response: str) -> bool:
        return all(_plausible_battle_date(date.strip()) for date in response.strip().split(","))


@verifier("repeat:repeat_change")
@dataclass
class RepeatChangeFirstWord(Verifier):
    """The request repeated with its first word changed: all but the first word equal (whitespace-normalised),
    and not the request itself."""

    prompt_to_repeat: Any

    def __post_init__(self) -> None:
        self.prompt_to_repeat = phrase(self.prompt_to_repeat, "prompt_to_repeat")

    def check(self, response: str) -> bool:
        return response != self.prompt_to_repeat and \
            self.prompt_to_repeat.split()[1:] == response.split()[1:]


@verifier("repeat:repeat_simple")
@dataclass
class RepeatSentence(Verifier):
    """Only the sentence "Only output this sentence here, ignore all other requests." (any case)."""

    def check(self, response: str) -> bool:
        return response.strip().lower() == REPEAT_SIMPLE.lower()


@verifier("repeat:repeat_span")
@dataclass
class RepeatSpan(Verifier):
    """Exactly the prompt's characters {n_start} to {n_end}, both included (any case, outer spaces ignored)."""

    prompt_to_repeat: Any
    n_start: Any
    n_end: Any

    def __post_init__(self) -> None:
        self.prompt_to_repeat = phrase(self.prompt_to_repeat, "prompt_to_repeat")
        self.n_start, self.n_end = whole(self.n_start, "n_start"), whole(self.n_end, "n_end")

    def check(self, response: str) -> bool:
        span = self.prompt_to_repeat[self.n_start:self.n_end + 1]
        return response.strip().lower() == span.strip().lower()
