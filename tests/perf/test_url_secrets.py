"""Credentials inside the URL (``user:pw@``, ``?key=``) are used for the requests and redacted everywhere written."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assay.client.config import ClientConfig, redact_url

from .conftest import Script

pytestmark = pytest.mark.timeout(120)

SECRETS = ("s3cret-pw", "k-123456", "t-987")


def _assay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": "", "ASSAY_API_KEY": "", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "assay", "--log-level", "info", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=100)


def _url_with_secrets(base_url: str) -> str:
    scheme, rest = base_url.split("://")
    return f"{scheme}://alice:s3cret-pw@{rest}/chat/completions?key=k-123456&access_token=t-987&region=eu"


def _assert_sent_with_credentials(script: Script) -> None:
    assert script.seen
    for request in script.seen:
        assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret-pw").decode()
        assert request["url"].startswith("/v1/chat/completions?")
        assert "key=k-123456" in request["url"] and "access_token=t-987" in request["url"]


def _assert_nothing_written_holds_a_secret(folder: Path, *streams: str) -> None:
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert any(path.name == "config.yaml" for path in files)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in SECRETS:
            assert secret not in text, f"{secret} written to {path}"
    for text in streams:
        for secret in SECRETS:
            assert secret not in text


def test_redact_url_hides_userinfo_and_key_parameters():
    url = "https://bob:pw@api.example.com:8443/v1?api_key=abc&key=def&token=ghi&sig=x&model=m&flag"
    assert redact_url(url) == "https://***@api.example.com:8443/v1?api_key=***&key=***&token=***&sig=***&model=m&flag"
    assert redact_url("http://h:1/v1") == "http://h:1/v1"


def test_client_config_keeps_the_query_and_sends_userinfo_as_basic_auth():
    config = ClientConfig(base_url="http://u:p@h:1/v1/chat/completions?key=abc")
    assert config.url_for("chat") == "http://h:1/v1/chat/completions?key=abc"
    assert config.url_for("embeddings") == "http://h:1/v1/embeddings?key=abc"
    assert config.request_headers()["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    assert config.display_url == "http://***@h:1/v1?key=***"
    with_key = ClientConfig(base_url="http://u:p@h:1/v1", api_key="sk-x")
    assert with_key.request_headers()["Authorization"] == "Bearer sk-x"


def test_eval_uses_the_url_credentials_and_writes_them_nowhere(scripted, tmp_path):
    server = scripted(Script(chunks=3))
    gsm8k = Path(os.environ.get("ASSAY_TEST_DATA", "/work/shared/data")) / "gsm8k"
    if not gsm8k.exists():
        pytest.skip("no shared gsm8k copy")
    result = _assay("eval", "--model", "m", "--api-url", _url_with_secrets(server.base_url), "--datasets", "gsm8k",
                    "--dataset-args", f'{{"gsm8k": {{"dataset_id": "{gsm8k}"}}}}', "--limit", "2",
                    "--work-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    _assert_sent_with_credentials(server.script)
    _assert_nothing_written_holds_a_secret(tmp_path / "out", result.stdout, result.stderr)
    (config,) = (tmp_path / "out").rglob("config.yaml")
    assert "http://***@127.0.0.1" in config.read_text() and "key=***" in config.read_text()


def test_perf_uses_the_url_credentials_and_writes_them_nowhere(scripted, tmp_path, prompts_file):
    server = scripted(Script(chunks=3))
    result = _assay("perf", "--model", "m", "--url", _url_with_secrets(server.base_url), "--number", "2",
                    "--dataset", "line_by_line", "--dataset-path", str(prompts_file), "--no-charts",
                    "--outputs-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    _assert_sent_with_credentials(server.script)
    _assert_nothing_written_holds_a_secret(tmp_path / "out", result.stdout, result.stderr)


def test_a_bad_url_error_does_not_echo_the_password(tmp_path):
    result = _assay("eval", "--model", "m", "--api-url", "ftp://alice:s3cret-pw@127.0.0.1/v1", "--datasets",
                    "gsm8k", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stderr and "***@127.0.0.1" in result.stderr


def test_scrub_secrets_blanks_credential_keys_at_any_depth_and_keeps_token_counts():
    from assay.client.config import scrub_secrets

    config = {"generation_config": {"max_tokens": 64, "min_tokens": 4}, "pad_token": "<pad>",
              "dataset_args": {"arena_hard": {"extra_params": {"baseline_model_args": {
                  "api_key": "sk-1", "api_url": "http://u:p@h:1/v1?token=t", "headers": [{"Authorization": "B x"}]}}}},
              "hf_token": "hf_x", "token": "", "secret_key": "s", "model": "m"}
    scrubbed = scrub_secrets(config)
    assert scrubbed["generation_config"] == {"max_tokens": 64, "min_tokens": 4} and scrubbed["pad_token"] == "<pad>"
    args = scrubbed["dataset_args"]["arena_hard"]["extra_params"]["baseline_model_args"]
    assert args == {"api_key": "***", "api_url": "http://***@h:1/v1?token=***", "headers": [{"Authorization": "***"}]}
    kept = (scrubbed["hf_token"], scrubbed["token"], scrubbed["secret_key"], scrubbed["model"])
    assert kept == ("***", "", "***", "m")
