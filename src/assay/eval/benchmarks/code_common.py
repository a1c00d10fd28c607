"""What the code benchmarks share: a sandbox per run, its limits from ``extra_params``, pass/fail scores."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from assay.eval.benchmarks.base import Benchmark, BenchmarkParams
from assay.eval.scoring import code_harness
from assay.eval.scoring.sandbox import Sandbox, SandboxLimits
from assay.types import Sample, Score

class CodeParams(BenchmarkParams):
    """The sandbox's limits (unset: the benchmark's defaults) and how many programs run at once."""

    cpu_s: int | None = Field(None, gt=0, description="CPU seconds per process")
    wall_s: float | None = Field(None, gt=0, description="wall-clock seconds per program")
    memory_mb: int | None = Field(None, gt=0, description="memory per program, MiB")
    file_size_mb: int | None = Field(None, gt=0, description="largest file a program may write, MiB")
    processes: int | None = Field(None, gt=0, description="processes per program")
    output_bytes: int | None = Field(None, gt=0, description="stdout and stderr kept per program")
    sandbox_workers: int | None = Field(None, gt=0, description="programs run at once (default: CPU count)")


class CodeBenchmark(Benchmark):
    """A benchmark graded by running the answer's code in the sandbox.

    ``extra_params`` may set the sandbox limits (:class:`CodeParams`). ``pass@1`` is the unbiased estimator
    over repeats; ``acc`` the same per answer.
    """

    task_type = "code"
    metrics = ("pass@1", "acc")
    main_metric = "pass@1"
    default_limits: ClassVar[SandboxLimits] = SandboxLimits()
    Params = CodeParams
    params: CodeParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        overrides = {key: value for key, value in self.params.model_dump().items()
                     if value is not None and key in SandboxLimits.__dataclass_fields__}
        self.limits = dataclasses.replace(self.default_limits, **overrides)
        self.workers = self.params.sandbox_workers

    def sandbox(self) -> Sandbox:
        """The sandbox for the benchmark's limits, made on first use (the host's isolation is probed then) and
        shared by the benchmarks with the same limits, so building or grading never changes the benchmark."""
        return _sandbox(self.limits, self.workers)

    async def run_harness(self, job: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
        """Run ``job`` through :mod:`assay.eval.scoring.code_harness` in the sandbox: passed, why not, and the
        score's metadata. Passed needs both the judge's exit status 0 and its verdict saying so; no verdict, or
        one that is not a verdict (``[]``), is a failure."""
        result = await self.sandbox().run_python(_harness_source(), json.dumps(job).encode())
        metadata: dict[str, Any] = {"network_isolated": result.network_isolated}
        verdict = code_harness.parse_verdict(result.stdout)
        if verdict is None:
            return False, f"harness gave no verdict: {result.describe()}", metadata
        if isinstance(verdict.get("tests"), int) and job.get("kind") == "tests":
            metadata.update(tests_passed=verdict.get("tests_passed"), tests=verdict["tests"])
        passed = verdict["passed"] and result.ok
        why = "" if passed else str(verdict.get("failure") or result.describe())
        return passed, why, metadata

    def score(self, sample: Sample, answer: str) -> Score:
        """The synchronous form of ``ascore`` (for use without an event loop)."""
        import asyncio

        return asyncio.run(self.ascore(sample, answer, None))

    def scoring_fingerprint(self) -> dict[str, Any]:
        return {**super().scoring_fingerprint(), "limits": dict(self.limits.__dict__)}


@functools.lru_cache(maxsize=16)
def _sandbox(limits: SandboxLimits, workers: int | None) -> Sandbox:
    return Sandbox(limits, workers)


@functools.lru_cache(maxsize=1)
def _harness_source() -> str:
    return Path(code_harness.__file__).read_text(encoding="utf-8")


def pass_score(passed: bool, program: str | None, explanation: str, **metadata: Any) -> Score:
    """1/0 in both ``acc`` and ``pass@1`` (the report turns repeats into the unbiased pass@k)."""
    value = float(passed)
    return Score(values={"pass@1": value, "acc": value}, extracted=program,
                 explanation=None if passed else explanation, metadata=metadata)
