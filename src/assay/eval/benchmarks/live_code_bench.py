"""LiveCodeBench (code generation, lite): contest problems released after a date, graded by hidden tests.

Jain et al., "LiveCodeBench: Holistic and Contamination Free Evaluation of Large Language Models for Code",
2024 (arXiv:2403.07974). Problems from LeetCode, AtCoder and Codeforces, each with its contest date, so a run
can keep to problems published after a model's training cut-off (``extra_params.start_date`` / ``end_date``,
ISO dates, inclusive) and to some difficulties (``extra_params.difficulty``: easy, medium, hard).

Subsets are release versions of ``livecodebench/code_generation_lite``: ``release_v1`` ... ``release_v6``
(everything up to that release), ``v1`` ... ``v6`` (what that release added), ``vN_vM`` (releases N to M) and
``release_latest``. Release N adds the file ``test<N>.jsonl`` (``test.jsonl`` for the first).

Tests are the public ones (JSON) plus the private ones (base64 of zlib of a pickled JSON string); a problem
with ``metadata.func_name`` is LeetCode style (call ``Solution().<func_name>`` on JSON arguments), the rest
read stdin and write stdout. The code is the answer's last Python fenced block; it passes when every test
does, run in the sandbox by ``assay.eval.scoring.code_harness``. Pass@1 over repeats, pass@n added.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import functools
import io
import json
import pickle
import re
import zlib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from assay.data import DatasetLoader, HubDataset
from assay.data.readers import read_rows
from assay.errors import ConfigError, DatasetError
from assay.eval.benchmarks.base import register_benchmark
from assay.eval.benchmarks.code_common import CodeBenchmark, CodeParams, pass_score
from assay.eval.scoring.code import extract_code
from assay.eval.scoring.sandbox import SandboxLimits
from assay.types import Message, Sample, Score

LATEST = 6
RELEASES = tuple(f"release_v{n}" for n in range(1, LATEST + 1))
SUBSETS = (*RELEASES, "release_latest", *(f"v{n}" for n in range(1, LATEST + 1)))
_RANGE = re.compile(r"^v(\d+)_v(\d+)$")

INSTRUCTIONS = ("You are an expert Python programmer. Solve the programming problem below with a correct Python "
                "program that passes all of its tests.")
FUNCTIONAL_FORMAT = ("Complete the starter code below, and put your whole solution in one ```python fenced "
                     "block.\n```python\n{starter}\n```")
STDIO_FORMAT = ("Your program reads the input from standard input and writes the answer to standard output "
                "(do not hard-code the sample cases). Put it in one ```python fenced block.")


def release_numbers(subset: str) -> list[int]:
    """Which releases (1-based) a subset name covers."""
    if subset == "release_latest":
        return list(range(1, LATEST + 1))
    if match := re.fullmatch(r"release_v(\d+)", subset):
        return list(range(1, int(match.group(1)) + 1))
    if match := re.fullmatch(r"v(\d+)", subset):
        return [int(match.group(1))]
    if match := _RANGE.match(subset):
        low, high = int(match.group(1)), int(match.group(2))
        if low <= high:
            return list(range(low, high + 1))
    raise ConfigError(f"dataset_args.live_code_bench.subset_list: unknown release {subset!r} (use release_v1.."
                      f"release_v{LATEST}, release_latest, v1..v{LATEST} or a range such as v5_v6)")


def release_file(number: int) -> str:
    return "test.jsonl" if number == 1 else f"test{number}.jsonl"


class _StringsOnly(pickle.Unpickler):
    """The private tests are a pickled *string*: refuse anything that would import or call code."""

    def find_class(self, module: str, name: str) -> Any:
        raise DatasetError(f"private_test_cases pickles {module}.{name}, not a string; refusing to load it")


def decode_tests(field: Any) -> list[dict[str, Any]]:
    """Public or private test cases: a list, JSON text, or base64(zlib(pickle(JSON text)))."""
    if not field:
        return []
    if isinstance(field, list):
        return field
    return _decode_text(str(field))


@functools.lru_cache(maxsize=4)
def _decode_text(field: str) -> list[dict[str, Any]]:
    # Repeats of one problem are graded close together: a few decoded problems are kept (decoded, the private
    # tests of one problem can be tens of megabytes, so only a few), keyed by the encoded text itself.
    try:
        return json.loads(field)
    except ValueError:
        pass
    try:
        text = _StringsOnly(io.BytesIO(zlib.decompress(base64.b64decode(field)))).load()
        return json.loads(text)
    except (ValueError, zlib.error, pickle.UnpicklingError, EOFError) as exc:
        raise DatasetError(f"live_code_bench: cannot decode test cases ({exc})") from None


@register_benchmark("live_code_bench", task_type="code", tags=("en", "code"))
class LiveCodeBench(CodeBenchmark):
    """LiveCodeBench code generation (Jain et al., 2024): contest problems by release and date window."""

    version = "1"
    licence = "the card states no licence"
    source = HubDataset(hubs=(("huggingface", "livecodebench/code_generation_lite"),
                              ("modelscope", "AI-ModelScope/code_generation_lite")), split="test")
    subsets = ("release_latest",)
    default_limits = SandboxLimits(cpu_s=60, wall_s=120.0, memory_mb=2048)
    protocol_note = ("LiveCodeBench prompt (starter code or stdin/stdout); last ```python block; every public "
                     "and private test must pass")

    class Params(CodeParams):
        start_date: datetime.date | None = Field(None, description="first contest date kept (inclusive)")
        end_date: datetime.date | None = Field(None, description="last contest date kept (inclusive)")
        difficulty: list[Literal["easy", "medium", "hard"]] | Literal["easy", "medium", "hard"] | None = Field(
            None, description="difficulties kept (one or a list)")
        test_timeout_s: float = Field(6.0, gt=0, description="seconds per test case")

    params: Params

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        params = self.params
        self.start_date, self.end_date = (day.isoformat() if day else None
                                          for day in (params.start_date, params.end_date))
        difficulty = params.difficulty
        self.difficulty = {difficulty} if isinstance(difficulty, str) else set(difficulty or ())
        self.test_timeout_s = params.test_timeout_s
        for subset in self.subset_list:
            release_numbers(subset)  # a bad name fails now

    def accepts_any_subset(self) -> bool:
        return True

    def subset_rows(self, loader: DatasetLoader, root: Path, subset: str, split: str) -> list[dict[str, Any]]:
        if root.is_file():
            rows = read_rows(root)
        else:
            files = [root / release_file(n) for n in release_numbers(subset)]
            found = [path for path in files if path.is_file()]
            if not found:
                raise DatasetError(f"{root} has none of {', '.join(p.name for p in files)} (release files of "
                                   f"live_code_bench subset {subset!r})")
            rows = [row for path in found for row in read_rows(path)]
        return [row for row in rows if self._selected(row)]

    def _selected(self, row: dict[str, Any]) -> bool:
        date = str(row.get("contest_date", ""))[:10]
        if self.start_date and date < str(self.start_date)[:10]:
            return False
        if self.end_date and date > str(self.end_date)[:10]:
            return False
        return not self.difficulty or str(row.get("difficulty", "")).lower() in self.difficulty

    def sample(self, row: dict[str, Any], subset: str, index: int) -> Sample:
        if not row.get("question_content") or not row.get("question_id"):
            raise DatasetError(f"live_code_bench row {index} needs question_id and question_content; "
                               f"got keys {sorted(row)}")
        metadata = row.get("metadata") or {}
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        # The tests stay encoded, with the sample but out of the predictions (``scoring_data``): a problem's
        # private tests are megabytes, decoded only when an answer is graded.
        tests = {"public_test_cases": row.get("public_test_cases"), "private_test_cases": row.get("private_test_cases")}
        return Sample(id=str(row["question_id"]), subset=subset, scoring_data=tests, metadata={
            "question": row["question_content"], "title": row.get("question_title"),
            "platform": row.get("platform"), "difficulty": row.get("difficulty"),
            "contest_date": str(row.get("contest_date", "")), "starter_code": row.get("starter_code") or "",
            "func_name": metadata.get("func_name"),
        })

    def prompt(self, sample: Sample, shots: list[Sample]) -> list[Message]:
        starter = sample.metadata["starter_code"]
        fmt = FUNCTIONAL_FORMAT.format(starter=starter) if starter else STDIO_FORMAT
        return [Message.user(f"{INSTRUCTIONS}\n\n### Question\n{sample.metadata['question']}\n\n### Format\n{fmt}"
                             "\n\n### Answer")]

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "test_timeout_s": self.test_timeout_s}

    @staticmethod
    def tests_of(sample: Sample) -> list[dict[str, Any]]:
        """Public then private tests of a loaded sample (one read back from predictions has none: not graded)."""
        data = sample.scoring_data
        if "private_test_cases" not in data:
            raise DatasetError(f"live_code_bench {sample.id}: the sample carries no test cases (it was read back "
                               "from predictions, not loaded from the dataset)")
        return decode_tests(data["public_test_cases"]) + decode_tests(data["private_test_cases"])

    async def ascore(self, sample: Sample, answer: str, checker: Any) -> Score:
        code = extract_code(answer)
        if code is None:
            return pass_score(False, None, "no ```python block in the answer")
        tests = await asyncio.to_thread(self.tests_of, sample)
        functional = bool(sample.metadata.get("func_name")) and all(
            t.get("testtype", "functional") == "functional" for t in tests)
        job = {"kind": "tests", "code": code, "mode": "functional" if functional else "stdio",
               "func_name": sample.metadata.get("func_name"), "test_timeout_s": self.test_timeout_s,
               "tests": [{"input": t["input"], "output": t["output"]} for t in tests]}
        if not tests:
            return pass_score(False, code, "no test cases", tests_passed=0, tests=0)
        passed, why, metadata = await self.run_harness(job)
        return pass_score(passed, code, why, **metadata)
