"""Code in model answers: fenced-block extraction and assembling the program a code benchmark runs.

Pure string work, no execution (that is :mod:`.sandbox`, with the per-test runner :mod:`.code_harness`).
"""

from __future__ import annotations

import re
import textwrap

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
_PYTHON_TAGS = {"", "python", "py", "python3", "py3"}

# The stop sequences of the Codex paper (Chen et al., 2021): a completion ends where top-level code starts.
COMPLETION_STOPS = ("\nclass ", "\ndef ", "\n#", "\nif __name__", "\nprint(", "\nassert ")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced block as (language tag, body), in order; an unclosed last fence runs to the end."""
    return [(match.group(2).lower(), match.group(3)) for match in _FENCE.finditer(text)]


def extract_code(text: str, prefer: str | None = None) -> str | None:
    """The Python code of an answer: the last Python (or untagged) fenced block, or the one defining ``prefer``
    (a function name) if several do; ``None`` when the answer has no fenced block."""
    blocks = [body for tag, body in fenced_blocks(text) if tag in _PYTHON_TAGS]
    if not blocks:
        return None
    if prefer:
        defining = [body for body in blocks if _defines(body, prefer)]
        if defining:
            return defining[-1].rstrip() + "\n"
    return blocks[-1].rstrip() + "\n"


def _defines(code: str, name: str) -> bool:
    """Whether ``code`` defines the function ``name`` (at any indentation, sync or async)."""
    return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.M) is not None


def truncate_completion(completion: str) -> str:
    """A raw completion cut at the first stop sequence (where the function body ends)."""
    cut = min((i for i in (completion.find(stop) for stop in COMPLETION_STOPS) if i != -1), default=len(completion))
    return completion[:cut]


def _prompt_header(prompt: str, entry_point: str) -> str:
    """What precedes the function in a HumanEval prompt (imports, helper functions)."""
    match = re.search(rf"^def\s+{re.escape(entry_point)}\s*\(", prompt, re.M)
    return prompt[: match.start()] if match else ""


def humaneval_program(prompt: str, answer: str, entry_point: str) -> tuple[str, str]:
    """The candidate program for a HumanEval problem, and the style found ("chat" or "completion").

    Chat answers (a fenced block): the block replaces the function if it defines ``entry_point`` (the prompt's
    imports and helpers are kept in front of it), else it is taken as the body and appended to the prompt.
    Anything else is a completion of the prompt, cut at the Codex stop sequences.
    """
    code = extract_code(answer, prefer=entry_point)
    if code is None:
        if re.search(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", answer, re.M):
            return _prompt_header(prompt, entry_point) + answer, "chat"  # an unfenced full function
        return prompt + truncate_completion(answer), "completion"
    if _defines(code, entry_point):
        return _prompt_header(prompt, entry_point) + "\n" + code, "chat"
    return prompt + _as_body(prompt, code), "chat"


def _as_body(prompt: str, code: str) -> str:
    """A fenced function body indented under the prompt's signature: dedented and indented one level, else
    with only its first line indented (a body whose first line lost its indentation when the answer was
    stripped); the first that compiles."""
    dedented = textwrap.dedent(code)
    lines = code.splitlines(True)
    candidates = [textwrap.indent(dedented, "    "), "".join(["    " + lines[0], *lines[1:]]) if lines else code]
    for body in candidates:
        try:
            compile(prompt + body, "candidate", "exec")
            return body
        except (SyntaxError, ValueError):
            continue
    return candidates[0]


def humaneval_test_program(program: str, test: str, entry_point: str) -> str:
    """The program followed by the problem's ``check`` function, called on the entry point."""
    return f"{program}\n\n{test}\n\ncheck({entry_point})\n"
