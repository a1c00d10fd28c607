"""PerfConfig: one definition for CLI, YAML and Python; secrets kept out of every dump."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assay.perf import PerfConfig

pytestmark = pytest.mark.timeout(30)
URL = "http://127.0.0.1:8801/v1/chat/completions"


def test_endpoint_from_url_and_api():
    assert PerfConfig(url=URL, model="m").endpoint == ("http://127.0.0.1:8801/v1", "chat")
    assert PerfConfig(url="http://h:1/v1/completions", model="m").endpoint == ("http://h:1/v1", "completions")
    assert PerfConfig(url="http://h:1", model="m", api="openai_completions").endpoint == ("http://h:1/v1", "completions")


def test_api_key_from_environment_never_dumped(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-secret")
    config = PerfConfig(url=URL, model="m", headers={"Authorization": "Bearer x", "X-Trace": "1"})
    assert config.client_config().request_headers()["Authorization"] == "Bearer x"  # explicit header wins
    dump = config.public_dump()
    assert "api_key" not in dump and "sk-env-secret" not in str(dump) and "sk-env-secret" not in repr(config)
    assert dump["headers"] == {"Authorization": "***", "X-Trace": "1"}
    assert PerfConfig(url=URL, model="m").client_config().request_headers()["Authorization"] == "Bearer sk-env-secret"


def test_client_never_retries_and_generation_settings():
    config = PerfConfig(url=URL, model="m", max_tokens=256, min_tokens=256, top_k=20, stop=["END"],
                        extra_args={"ignore_eos": True}, connect_timeout=3, read_timeout=30)
    client = config.client_config()
    assert client.max_retries == 0 and client.connect_timeout_s == 3 and client.read_timeout_s == 30
    assert config.generation().to_payload() == {
        "max_tokens": 256, "min_tokens": 256, "temperature": 0.0, "top_k": 20, "stop": ["END"], "ignore_eos": True}


def test_slo_and_header_pairs():
    config = PerfConfig(url=URL, model="m", slo=["ttft_ms=500", "tpot=50", "latency_ms=9000"], headers=["A=1"])
    assert config.slo == {"ttft_ms": 500, "tpot_ms": 50, "e2e_latency_ms": 9000}
    assert config.headers == {"A": "1"}
    with pytest.raises(ValidationError, match="unknown SLO"):
        PerfConfig(url=URL, model="m", slo=["speed=1"])
    with pytest.raises(ValidationError, match="KEY=VALUE"):
        PerfConfig(url=URL, model="m", headers=["novalue"])


@pytest.mark.parametrize("kw, message", [
    ({"parallel": [0]}, ">= 1"), ({"rate": [-1]}, "> 0"), ({"min_prompt_length": 10, "max_prompt_length": 5}, "larger"),
    ({"min_tokens": 10, "max_tokens": 5}, "larger"), ({"sla_auto_tune": True}, "needs --slo"),
    ({"slo": ["tpot_ms=5"], "stream": False}, "streaming"), ({"unknown": 1}, "Extra inputs"),
])
def test_bad_values(kw, message):
    with pytest.raises(ValidationError, match=message):
        PerfConfig(url=URL, model="m", **kw)


def test_python_api_is_exported_from_assay():
    import assay
    import assay.perf

    assert assay.run_perf is assay.perf.run_perf and assay.PerfConfig is assay.perf.PerfConfig


def test_sim_fills_in_what_a_first_run_needs():
    from assay.perf.config import SIM_PROMPTS

    config = PerfConfig(sim=True)
    assert config.model == "assay-sim" and config.url is None
    assert config.dataset == "line_by_line" and config.dataset_path == str(SIM_PROMPTS) and SIM_PROMPTS.is_file()
    assert config.parallel == [1, 8, 32] and config.number == [8, 32, 128]
    chosen = PerfConfig(sim=True, parallel=[4], number=[10], prompt="hi", model="m")
    assert (chosen.parallel, chosen.number, chosen.dataset, chosen.model) == ([4], [10], "openqa", "m")
