"""The benchmark registry and every built-in benchmark.

Benchmarks are found, not listed: importing this package imports every module in it, and each module
registers its benchmarks with ``@register_benchmark``. Adding a benchmark is adding a module.
"""

import importlib
import pkgutil

from assay.eval.benchmarks.base import Benchmark, benchmark_names, get_benchmark, register_benchmark

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["Benchmark", "benchmark_names", "get_benchmark", "register_benchmark"]
