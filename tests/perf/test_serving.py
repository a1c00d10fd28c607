"""``run_perf`` against a real server we did not write: ``transformers serve`` with a tiny random checkpoint.

That server sends a role-only first frame, puts usage in its last chunk (which still has choices) and sends
no ``[DONE]``; it accepts only its own model name.
"""

from __future__ import annotations

import pytest

from assay.perf import PerfConfig, run_perf
from assay.perf.records import iter_rows

pytestmark = [pytest.mark.serving, pytest.mark.timeout(300)]


def test_closed_loop_against_transformers_serve(transformers_server, tmp_path):
    config = PerfConfig(url=transformers_server.base_url + "/chat/completions", model=transformers_server.model,
                        prompt="Tell me about load tests.", parallel=[2], number=[4], max_tokens=8,
                        temperature=None, outputs_dir=str(tmp_path), charts=False, read_timeout=120)
    (s,) = run_perf(config).summaries
    assert s.succeeded_requests == s.total_requests == 4, s.error_kinds
    assert s.output_token_source == "server" and s.input_token_source == "server"
    assert 4 <= s.total_output_tokens <= 4 * 8 and s.total_input_tokens > 4
    rows = list(iter_rows(tmp_path.glob("perf/*/parallel_2_number_4/records.sqlite").__next__()))
    for row in rows:
        assert 0 < row["ttft_s"] <= row["latency_s"] < 120
        assert row["output_tokens"] <= 8
        if row["output_tokens"] >= 2:
            # The server may release all the text in one frame (its streamer groups tokens when the machine is
            # busy), so TPOT can be 0; it is always the definition's value: (latency - TTFT) / (tokens - 1).
            assert 0 <= row["tpot_s"] < row["latency_s"]
            expected = (row["latency_s"] - row["ttft_s"]) / (row["output_tokens"] - 1)
            assert row["tpot_s"] == pytest.approx(expected, abs=1e-6)
    assert 0 < s.median_ttft_s <= s.median_latency_s  # equal when each answer came in one frame (above)
