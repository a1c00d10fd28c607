"""What the code benchmarks share: a sandbox per run, its limits from ``extra_params``, pass/fail scores."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, ClassVar

from assay.errors import ConfigError
from assay.eval.benchmarks.base import Benchmark
from assay.eval.scoring import code_harness
from assay.eval.scoring.sandbox import Sandbox, SandboxLimits
from assay.types import Sample, Score

_LIMIT_KEYS = {"cpu_s", "wall_s", "memory_mb", "file_size_mb", "processes", "output_bytes"}


class CodeBenchmark(Benchmark):
    """A benchmark graded by running the answer's code in the sandbox.

    ``extra_params`` may set the sandbox limits (``cpu_s``, ``wall_s``, ``memory_mb``, ``file_size_mb``,
    ``processes``, ``output_bytes``) and ``sandbox_workers`` (programs run at once; default: CPU count).
    ``pass@1`` is the unbiased estimator over repeats; ``acc`` the same per answer.
    """

    task_type = "code"
    metrics = ("pass@1", "acc")
    main_metric = "pass@1"
    default_limits: ClassVar[SandboxLimits] = SandboxLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        params = self.args.extra_params
        overrides = {key: params[key] for key in _LIMIT_KEYS if key in params}
        try:
            self.limits = SandboxLimits(**{**self.default_limits.__dict__, **overrides})
        except TypeError as exc:
            raise ConfigError(f"dataset_args.{self.name}.extra_params: {exc}") from None
        self.workers = params.get("sandbox_workers")
        self._sandbox: Sandbox | None = None

    def sandbox(self) -> Sandbox:
        """The benchmark's sandbox, made on first use (the host's isolation is probed then)."""
        if self._sandbox is None:
            self._sandbox = Sandbox(self.limits, self.workers)
        return self._sandbox

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


@functools.lru_cache(maxsize=1)
def _harness_source() -> str:
    return Path(code_harness.__file__).read_text(encoding="utf-8")


def pass_score(passed: bool, program: str | None, explanation: str, **metadata: Any) -> Score:
    """1/0 in both ``acc`` and ``pass@1`` (the report turns repeats into the unbiased pass@k)."""
    value = float(passed)
    return Score(values={"pass@1": value, "acc": value}, extracted=program,
                 explanation=None if passed else explanation, metadata=metadata)
