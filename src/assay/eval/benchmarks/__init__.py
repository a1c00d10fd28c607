"""The benchmark registry and every built-in benchmark (importing this package registers them)."""

from assay.eval.benchmarks import (  # noqa: F401 - imported to register
    aime,
    arc,
    bfcl,
    ceval,
    competition_math,
    data_collection,
    general,
    gpqa,
    gsm8k,
    humaneval,
    ifeval,
    iquiz,
    live_code_bench,
    math_500,
    mmlu,
    mmlu_pro,
    mmlu_redux,
)
from assay.eval.benchmarks.base import Benchmark, benchmark_names, get_benchmark, register_benchmark

__all__ = ["Benchmark", "benchmark_names", "get_benchmark", "register_benchmark"]
