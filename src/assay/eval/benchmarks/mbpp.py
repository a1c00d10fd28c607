"""MBPP: write a short Python function from a one-sentence description and three asserts.

Austin et al., "Program Synthesis with Large Language Models", 2021 (arXiv:2108.07732). Mostly Basic Python
Problems: 974 crowd-sourced tasks, each a description (``text``), a reference solution (``code``), three
``test_list`` asserts, ``test_setup_code`` (almost always empty) and ``challenge_test_list``. HF and ModelScope
``google-research-datasets/mbpp``; two configs, the subsets here: ``full`` (test split: tasks 11-510, 500 rows)
and ``sanitized`` (the hand-checked 427 tasks, test split 257 rows; the description is ``prompt`` and the setup
is ``test_imports``, a list of import lines). Both have a ``prompt`` split (tasks 1-10) for few-shot examples.

Protocol (the paper's): 3-shot with tasks 2, 3 and 4 of the ``prompt`` split, each "You are an expert Python
programmer, and here is your task: {description} Your code should pass these tests:\\n\\n{asserts}". assay
is chat-first: each shot is a user turn and the reference code, fenced, as the assistant's reply (the paper
wraps it in [BEGIN]/[DONE] for completion models; such an answer is still read). The answer's code is its
last Python fenced block (the one defining the tested function if several do), or the whole reply when it has
no fence; a top-level ``if __name__ == "__main__":`` block is cut off, as EvalScope does.

Grading, as humaneval's: the code runs in the sandbox's candidate process, and the judge runs the setup and
every ``test_list`` assert with the tested function (the first one the asserts call that the reference
defines) bound to a stub that calls the candidate. It passes when every assert holds. Where assay differs
from the original single-program run: arguments and return values cross between the processes as plain data
(None, numbers, strings, bytes, lists, tuples, dicts, sets), so a task whose asserts pass or compare class
instances, generators or map objects fails even for the reference (not yet counted on the full data), and
names the asserts use besides the tested function must come from the setup. ``challenge_test_list`` is not
run (the paper's results do not use it). ``pass@1`` over repeats (unbiased), ``pass@n`` added with ``n`` repeats.
"""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path
from typing import Any

from assay.data import DatasetLoader, HubDataset
from assay.errors import DatasetError
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.code_common import CodeBenchmark, pass_score
from assay.eval.scoring.code import extract_code
from assay.types import Message, Sample, Score

TEMPLATE = ("You are an expert Python programmer, and here is your task: {description} Your code should pass "
            "these tests:\n\n{tests}")
PAPER_SHOTS = ("2", "3", "4")  # the prompt split's tasks the paper's 3-shot prompt uses, in this order
_MAIN_GUARD = re.compile(r"^if\s+__name__\s*==.*", re.M | re.S)


def defined_names(code: str) -> list[str]:
    """The functions and classes ``code`` defines at top level (a regex reading when it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return re.findall(r"^(?:async\s+)?(?:def|class)\s+(\w+)", code, re.M)
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def called_names(tests: list[str]) -> list[str]:
    """The plain names the asserts call, in the order they appear (``set(f(x))`` gives set, then f)."""
    names: list[str] = []
    for test in tests:
        try:
            tree = ast.parse(test.strip())
        except (SyntaxError, ValueError):
            names += re.findall(r"\b([A-Za-z_]\w*)\s*\(", test)
            continue
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        names += [call.func.id for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset))]  # type: ignore
    return list(dict.fromkeys(names))


def function_under_test(tests: list[str], reference: str = "", setup: str = "") -> str | None:
    """The function the asserts test: the first one they call that the reference solution defines, else the
    first they call that is neither a builtin nor defined by the setup code."""
    called = called_names(tests)
    defined = set(defined_names(reference))
    for name in called:
        if name in defined:
            return name
    known = set(dir(builtins)) | set(defined_names(setup))
    return next((name for name in called if name not in known), None)


def answer_code(answer: str, entry_point: str | None) -> str:
    """The code of a reply: between the paper's [BEGIN] and [DONE] markers if it uses them, then its last
    Python fenced block (the one defining ``entry_point`` if several do), else the whole text; cut before a
    top-level ``if __name__ == ...`` block (a script's own demo, which may read stdin)."""
    text = answer
    if "[BEGIN]" in text:
        text = text.rsplit("[BEGIN]", 1)[1]
    text = text.split("[DONE]", 1)[0]
    code = extract_code(text, prefer=entry_point)
    if code is None:
        code = text.strip("\n") + "\n"
    return _MAIN_GUARD.sub("", code).rstrip() + "\n"


def judge_check(tests: list[tuple[str, str]]) -> str:
    """The ``check(candidate)`` the harness's judge runs: each (label, source) executed whole (a multi-line test
    needs no re-indenting) in a copy of the judge's namespace, where the tested function's name is bound to the
    candidate's stub; a source that defines its own ``check(candidate)`` (EvalPlus's HumanEval+ form) has it
    called, never left defined and unrun. A failure names the test that failed (and the input, in EvalPlus's
    loop over ``inputs``)."""
    return (f"_TESTS = {tests!r}\n\n\n"
            "def check(candidate):\n"
            "    for _label, _source in _TESTS:\n"
            "        scope = dict(globals())\n"
            "        try:\n"
            "            exec(compile(_source, _label, 'exec'), scope)\n"
            "            if scope['check'] is not check:\n"
            "                scope['check'](candidate)\n"
            "        except Exception as exc:\n"
            "            why = (str(exc) or 'does not hold') if isinstance(exc, AssertionError) else repr(exc)\n"
            "            if 'inp' in scope and isinstance(scope.get('i'), int):  # EvalPlus's loop: which input\n"
            "                why += f\" at input {scope['i']}: {repr(scope['inp'])[:200]}\"\n"
            "            raise AssertionError(f'{_label}: {why}') from None\n")


def check_job(setup: str, code: str, entry_point: str, tests: list[tuple[str, str]]) -> dict[str, Any]:
    """The harness job: the candidate runs the setup and the answer's code (the original MBPP program has both,
    so the code may use the setup's imports); the judge runs the setup, then the tests."""
    program = f"{setup}\n{code}" if setup.strip() else code
    return {"kind": "check", "program": program, "prompt": setup, "test": judge_check(tests),
            "entry_point": entry_point}


def chat_turn(description: str, tests: list[str]) -> str:
    """One task as the paper words it."""
    return TEMPLATE.format(description=description.strip(), tests="\n".join(test.strip() for test in tests))


@register_benchmark("mbpp", task_type="code", tags=("en", "code"))
class MBPP(CodeBenchmark):
    """MBPP (Austin et al., 2021): basic Python functions graded by their asserts, 3-shot."""

    version = "1"
    source = HubDataset(hubs=(("huggingface", "google-research-datasets/mbpp"),
                              ("modelscope", "google-research-datasets/mbpp")), split="test", subset_is_config=True)
    licence = "CC-BY-4.0"
    subsets = ("full", "sanitized")
    few_shot_split = "prompt"
    default_few_shot = 3
    protocol_note = ("the paper's prompt (description + 'Your code should pass these tests:' + asserts), shots "
                     "as chat turns; last ```python block or the whole reply; every test_list assert must pass")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.args.subset_list:
            self.subset_list = ["full"]  # the paper's config; sanitized is asked for by name

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        description = row["text"] if "text" in row else row["prompt"]
        tests = list(row["test_list"])
        setup = row.get("test_setup_code") or "\n".join(row.get("test_imports") or [])
        entry_point = function_under_test(tests, row.get("code") or "", setup)
        if not tests or entry_point is None:
            raise DatasetError(f"mbpp row {index} (task {row.get('task_id')}) has no assert calling a function")
        # The id names the config: a task is in both, with its own wording, and a run may hold both.
        return Sample(id=f"{subset}/{row['task_id']}", subset=subset,
                      target=str(row.get("code") or "").replace("\r\n", "\n"),
                      metadata={"task_id": str(row["task_id"]), "question": description, "tests": tests,
                                "setup": setup, "entry_point": entry_point})

    def shot_pool(self, loader: DatasetLoader, root: Path, subset: str) -> list[Sample]:
        pool = super().shot_pool(loader, root, subset)
        order = {task: rank for rank, task in enumerate(PAPER_SHOTS)}
        # The paper's three first, the rest after them in the split's order (sorted is stable).
        return sorted(pool, key=lambda shot: order.get(shot.metadata["task_id"], len(order)))

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        messages: list[Message] = []
        for shot in shots:
            messages.append(Message.user(chat_turn(shot.metadata["question"], shot.metadata["tests"])))
            messages.append(Message.assistant(f"```python\n{str(shot.target).strip()}\n```"))
        messages.append(Message.user(chat_turn(sample.metadata["question"], sample.metadata["tests"])))
        return messages

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        meta = sample.metadata
        code = answer_code(answer, meta["entry_point"])
        tests = [(test.strip(), test.strip()) for test in meta["tests"]]
        passed, why, metadata = await self.run_harness(check_job(meta["setup"], code, meta["entry_point"], tests))
        return pass_score(passed, code, why, **metadata)
