"""``assay app``: startup time, and time to page 1 of a 100,000-sample run (cold index, then warm).

    python bench/app_startup.py [--samples 100000]

Startup is measured as a user sees it: ``python -m assay app`` launched until its page answers HTTP 200.
Page 1 is timed through the reading layer the Samples tab calls (first look builds the offset index;
later pages and filters reuse it), plus a filtered page and a deep page.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assay.app.readers import Outputs, SampleFilter, sample_page  # noqa: E402
from tests.app.make_fixtures import write_large_run  # noqa: E402


def startup_s(outputs: Path) -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "assay", "app", "--ui", "gradio", "--outputs", str(outputs),
                                "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    return time.perf_counter() - start
            except OSError:
                if process.poll() is not None or time.perf_counter() - start > 120:
                    raise RuntimeError("assay app did not start") from None
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)


def timed(label: str, call) -> None:  # noqa: ANN001
    start = time.perf_counter()
    result = call()
    print(f"{label:<44} {time.perf_counter() - start:8.3f} s   ({result.matching} match, page {result.page})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        run = write_large_run(root, args.samples)
        size_mb = (run / "predictions" / "gsm8k.jsonl").stat().st_size / 1e6
        print(f"{args.samples} samples, predictions file {size_mb:.1f} MB")
        print(f"{'startup (launch to HTTP 200)':<44} {startup_s(root):8.3f} s")
        outputs = Outputs(root)
        timed("page 1, cold (builds the index)", lambda: sample_page(outputs, run.name, "gsm8k"))
        timed("page 1, warm", lambda: sample_page(outputs, run.name, "gsm8k"))
        timed("last page", lambda: sample_page(outputs, run.name, "gsm8k", page=args.samples // 10))
        timed("wrong answers, page 1 (new filter)", lambda: sample_page(outputs, run.name, "gsm8k",
                                                                        SampleFilter(status="wrong")))
        timed("text search, page 1", lambda: sample_page(outputs, run.name, "gsm8k", SampleFilter(text="is 4242 +")))


if __name__ == "__main__":
    main()
