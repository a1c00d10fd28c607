"""What every registered benchmark ships, by convention: a tiny fixture in the hub's layout
(``fixtures/<name>/``, or the folder its ``golden/<name>.args.json`` names) and a golden prompt snapshot
(``golden/<name>.json``, plus ``<name>@<variant>.json`` for other cases). A new benchmark without them fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.eval.benchmarks import benchmark_names, get_benchmark

from .conftest import check_golden, golden_case_args, golden_variants

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("name", benchmark_names())
def test_every_benchmark_has_a_fixture_and_a_golden_prompt(name):
    if not get_benchmark(name).generated:
        fixture = Path(str(golden_case_args(name)["dataset_id"]))
        assert fixture.exists(), f"{name}: no fixture {fixture} (a few rows in the hub's schema and layout)"
    check_golden(name)
    for variant in golden_variants(name):
        check_golden(name, variant)
