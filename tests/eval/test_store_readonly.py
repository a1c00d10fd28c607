"""Readers of a run folder never write to it; only a run about to append repairs a torn last line."""

from __future__ import annotations

import pytest

from assay.eval.store import RunStore
from assay.types import Completion, Message, Sample, SampleResult

pytestmark = pytest.mark.timeout(30)


def test_torn_line_is_skipped_by_readers_and_cut_only_on_repair(tmp_path):
    store = RunStore(tmp_path / "run")
    store.make_dirs()
    result = SampleResult(sample=Sample(id="1", messages=[Message.user("q")]), completions=[Completion(text="a")])
    store.append("gsm8k", result)
    store.close()
    path = store.predictions_path("gsm8k")
    with path.open("ab") as handle:
        handle.write(b'{"sample": {"id": "2"')  # killed mid-write
    torn = path.read_bytes()

    assert list(store.load_results("gsm8k")) == ["1"]
    assert path.read_bytes() == torn  # a reader left the file alone

    assert list(store.load_results("gsm8k", repair=True)) == ["1"]
    assert path.read_bytes().endswith(b"\n") and b'"id": "2"' not in path.read_bytes()
