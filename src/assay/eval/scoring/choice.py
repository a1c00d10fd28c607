"""Multiple-choice answers: which option letter a model chose.

Two modes, as in lm-evaluation-harness's "strict-match" / "flexible-extract" filters:

- ``strict``: only explicit answer markers count: "The answer is (B)", "Answer: **C**",
  "the correct option is b", "Option C is correct", ``\\boxed{C}``, "答案：B", "选B". Of several
  markers the LAST wins: a model often weighs other options before it commits.
- lenient (default): markers first, then fallbacks: a line holding only a letter ("(B)", "**B**"),
  a reply that opens with a lettered option ("B. Paris"), and finally the last letter standing alone.

English words that are also letters are not taken for options: "A train leaves..." (article),
"I think..." (pronoun). Letters run past D for MMLU-Pro (ten options, A-J) and further on request.
The caller should strip reasoning first (``remove_until </think>``); the LAST-marker rule keeps
extraction sane when it did not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from assay.eval.scoring.math import extract_boxed

__all__ = ["extract_choice", "extract_choice_by_text"]

# Words that may follow an answer letter without making it an article or pronoun ("A because ...").
_CONNECTIVES = frozenset(
    "because since as and or which with is was are for due given so while whereas".split()
)
_OPEN = r"[\s*_\"'`(\[{<]*(?:\\text(?:bf)?\{|\\mathrm\{|\$)*[\s*(\[{]*"
_LETTER = r"(?<![A-Za-z0-9])(?P<letter>[A-Za-z])(?![A-Za-z0-9'’])"
_BE = r"(?:is|was|would\s+be|should\s+be|must\s+be|will\s+be|seems\s+to\s+be|appears\s+to\s+be|=)"

_MARKERS = [
    # "The (final/correct) answer is (B)", "Answer: **C**", "**Answer:** B", "answer is option B".
    re.compile(
        rf"(?i:\banswer(?:\s+to\s+(?:this|the)\s+question)?)(?:\s*\*\*)?\s*(?i:{_BE})?\s*(?i:\s+therefore)?"
        rf"\s*[:：]?\s*(?:\*\*)?\s*(?i:(?:option|choice)\s*)?{_OPEN}{_LETTER}"
    ),
    # "the correct option is b", "best choice: (C)".
    re.compile(
        rf"(?i:\b(?:correct|right|best|final)\s+(?:option|choice|letter))\s*(?i:{_BE})?\s*[:：]?\s*{_OPEN}{_LETTER}"
    ),
    # "Option C is correct", "(C) is the correct answer", "B is the best choice".
    re.compile(
        rf"(?:(?i:\b(?:option|choice)\s*))?(?<![A-Za-z0-9]){_OPEN}{_LETTER}[)\]*}}]*\s*"
        r"(?i:is\s+(?:the\s+)?(?:(?:correct|right|best|true)(?:\s+(?:answer|option|choice|one))?|answer)\b)"
    ),
    # "答案：B", "答案是 C", "正确答案为B", "【答案】B".
    re.compile(rf"答案\s*(?:应该|应当|应|應)?\s*(?:是|为|為|选|選)?\s*[:：】\]\s]*(?:选项)?{_OPEN}{_LETTER}"),
    # "选B", "故选 C", "选择D"; not "选项B" ("option B", which merely names it).
    re.compile(rf"选(?!项)(?:择)?\s*[:：]?\s*{_OPEN}{_LETTER}"),
]


def _follows_as_word(text: str, end: int) -> bool:
    """Whether a lowercase word follows position ``end`` ("A train"), other than a connective."""
    follow = re.match(r"[ \t]+([a-z]+)", text[end:])
    return bool(follow) and follow.group(1) not in _CONNECTIVES


def _closes_cleanly(text: str, end: int) -> bool:
    """Whether only closing wrappers and punctuation, or the end, follow position ``end``."""
    return re.match(r"[)\]}*$'\"`]*\s*(?:[.,;:!?。，；)\]]|$|\n)", text[end:]) is not None


def _accept(text: str, match: re.Match[str]) -> bool:
    letter, start, end = match.group("letter"), match.start("letter"), match.end("letter")
    wrapped = start > 0 and text[start - 1] in "(*[{$" and end < len(text) and text[end] in ")*]}$"
    if letter.islower():  # "the correct option is b", never "the answer is a bit..."
        return wrapped or _closes_cleanly(text, end)
    if letter in "AI" and not wrapped:  # the article and the pronoun
        return not _follows_as_word(text, end)
    return True


def _boxed_letters(text: str) -> list[tuple[int, str]]:
    found = []
    for match in re.finditer(r"\\(?:boxed|fbox)\b", text):
        content = extract_boxed(text[match.start() :].split("\n\n", 1)[0])
        if content is None:
            continue
        content = re.sub(r"\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}", r"\1", content)
        letter = re.fullmatch(r"[\s*(\[]*([A-Za-z])(?:[\s*)\].:].*)?", content, flags=re.DOTALL)
        if letter:
            found.append((match.start(), letter.group(1).upper()))
    return found


def _last_marker(text: str) -> tuple[int, str] | None:
    found = _boxed_letters(text)
    for pattern in _MARKERS:
        for match in pattern.finditer(text):
            if _accept(text, match):
                found.append((match.start("letter"), match.group("letter").upper()))
    return max(found) if found else None


_LONE_LETTER_LINE = re.compile(
    r"^[\s>#*_\-]*(?:(?i:answer|option|choice)\s*[:：]?\s*)?[(\[{*$\s]*(?:\\text(?:bf)?\{)?"
    r"(?P<letter>[A-Z])[)\]}*$\s]*[.:)]?[\s*]*$"
)
_OPENING_OPTION = re.compile(r"^[\s>#*_]*[(\[]?(?P<letter>[A-Z])(?:[)\].:]|\*\*)")
_LETTER_TOKEN = re.compile(r"(?<![A-Za-z0-9'’\\])(?P<letter>[A-Z])(?![A-Za-z0-9'’])")


def _fallback(text: str, letters: str) -> str | None:
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        match = _LONE_LETTER_LINE.match(line)
        if match and match.group("letter") in letters:
            return match.group("letter")
    openings = {m.group("letter") for line in lines if (m := _OPENING_OPTION.match(line))}
    first = _OPENING_OPTION.match(lines[0]) if lines else None
    if first and len(openings) == 1 and first.group("letter") in letters:
        return first.group("letter")  # "B. Paris ...", unless the reply walks through every option
    for match in reversed(list(_LETTER_TOKEN.finditer(text))):
        letter = match.group("letter")
        if text[max(0, match.start() - 2) : match.start()] == "选项" or text[match.end() : match.end() + 1] == "项":
            continue  # "选项B" / "B项" name an option ("option B"), they do not choose it
        if letter in letters and _accept(text, match):
            if letter in "AI" and not _closes_cleanly(text, match.end()):
                continue  # a bare "A"/"I" in running text is a word until proven otherwise
            return letter
    return None


def extract_choice(text: str, letters: str = "ABCD", *, strict: bool = False) -> str | None:
    """The option letter a model chose, or None.

    ``letters`` are the valid options in order ("ABCD"; "ABCDEFGHIJ" for MMLU-Pro). With ``strict``
    only explicit answer markers count; otherwise fallbacks follow (see the module docstring). The
    last marker wins; when it names a letter outside ``letters`` the result is None, not an earlier
    mention. Full-width letters and punctuation ("Ｂ", "：") are folded first.
    """
    letters = letters.upper()
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    marker = _last_marker(text)
    if marker is not None:
        return marker[1] if marker[1] in letters else None
    return None if strict else _fallback(text, letters)


def _squash(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\\text\{([^{}]*)\}|[$*`]", r"\1", text)
    return re.sub(r"[\s.,;:!?\"'()]+", " ", text).strip()


def extract_choice_by_text(text: str, choices: Sequence[str], letters: str | None = None) -> str | None:
    """The letter of the option whose text the model gave instead of a letter, or None.

    Looks at the span after the last "answer is"/"Answer:"/"答案" marker when there is one, else the
    whole reply. An exact match of that span wins; otherwise the option whose text occurs last in it
    (the longest of those ending together, so "Paris, Texas" beats "Paris"). ``letters`` defaults to A, B, ...
    """
    letters = letters or "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(choices)]
    options = [(_squash(choice), letters[i]) for i, choice in enumerate(choices) if i < len(letters)]
    options = [(option, letter) for option, letter in options if option]
    markers = list(re.finditer(r"(?i:\banswer\b(?:\s+is)?\s*[:：]?|答案\s*(?:是|为)?\s*[:：]?)", text))
    span = _squash(text[markers[-1].end() :] if markers else text)
    if not span:
        return None
    exact = [letter for option, letter in options if option == span]
    if len(exact) == 1:
        return exact[0]
    best: tuple[int, int, str] | None = None
    for option, letter in options:
        for found in re.finditer(rf"(?<![^\W_]){re.escape(option)}(?![^\W_])", span):
            candidate = (found.end(), len(option), letter)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return best[2] if best else None
