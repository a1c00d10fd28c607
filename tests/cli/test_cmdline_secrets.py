"""assay hides the secrets of its own command line from /proc/<pid>/cmdline, and still uses them."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assay.utils.cmdline import mask

pytestmark = pytest.mark.timeout(60)

SRC = str(Path(__file__).resolve().parents[2] / "src")
KEY = "sk-cmdline-secret-0123456789"


def test_mask_hides_option_values_url_passwords_and_key_shapes():
    args = [b"assay", b"eval", b"--api-key", b"abc123", b"--judge-api-key=xyz789", b"--max-tokens", b"100",
            b"--api-url", b"https://user:hunter22@host/v1?api_key=qwerty&model=m",
            b'{"api_key": "zxcvbn", "temperature": 0}', b"--model", b"sk-abcdefghijkl"]
    masked = mask(args)
    assert [len(a) for a in masked] == [len(a) for a in args]
    text = b" ".join(masked)
    for secret in (b"abc123", b"xyz789", b"hunter22", b"qwerty", b"zxcvbn", b"sk-abcdefghijkl"):
        assert secret not in text
    for kept in (b"--max-tokens 100", b"https://user:", b"@host/v1?api_key=", b"&model=m", b'"temperature": 0'):
        assert kept in text


def test_a_running_assay_shows_no_key_in_its_cmdline_and_still_uses_it():
    env = {**os.environ, "PYTHONPATH": SRC}
    sim = subprocess.Popen([sys.executable, "-m", "assay", "sim", "--host=127.0.0.1", "--port", "0", "--api-key", KEY],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        line = sim.stdout.readline()  # "assay sim listening on http://127.0.0.1:PORT/v1 ..."
        assert "listening on" in line, line
        with open(f"/proc/{sim.pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
        assert KEY.encode() not in cmdline and b"--api-key\0" + b"*" * len(KEY) in cmdline, cmdline
        url = line.split("listening on ")[1].split()[0] + "/models"
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {KEY}"}),
                                    timeout=10) as response:
            assert response.status == 200  # the server still has the real key
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        assert refused.value.code == 401
    finally:
        sim.kill()
        sim.wait()
