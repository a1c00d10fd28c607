"""``assay app --ui web`` on a big run: start to first page, open a sample, filter, page; and the server's memory.

    python bench/app_web.py [--samples 50000] [--repeats 20]

The run is synthetic, in the real predictions format (``tests/app/make_fixtures.write_large_run``). The server
is started for real (``python -m assay app --ui web``) and every time is an HTTP round trip as the page's
script makes it: "start to first page" runs from launching the process to the samples page of the big run
answering 200 (so it includes building the line-offset index); the others are medians over ``--repeats``
requests to the fragments the page fetches, on the warm server. Memory is the server's resident set
(``/proc/<pid>/status``), which should stay flat however many samples are opened.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.app.make_fixtures import write_large_run  # noqa: E402

RUN = "20260101_000000_big"


def fetch_s(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return time.perf_counter() - start


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_s(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (a loaded machine stretches wall times, not this)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def url(base: str, path: str, **params: object) -> str:
    return f"{base}{path}?" + urlencode({"run": RUN, "bench": "gsm8k", **params})


def report(label: str, times: list[float]) -> None:
    median = statistics.median(times) * 1000
    print(f"{label:<46} {median:9.1f} ms   (max {max(times) * 1000:.1f} ms, n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--gradio", action="store_true", help="also time the Gradio viewer's launch to HTTP 200")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        outputs = Path(folder)
        run = write_large_run(outputs, args.samples, run_id=RUN)
        size_mb = (run / "predictions" / "gsm8k.jsonl").stat().st_size / 1e6
        print(f"{args.samples} samples, predictions file {size_mb:.1f} MB")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "assay", "app", "--ui", "web", "--outputs", str(outputs),
                                    "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=env)
        try:
            while True:
                try:
                    fetch_s(base + "/")
                    break
                except OSError:
                    if process.poll() is not None or time.perf_counter() - start > 120:
                        raise RuntimeError("assay app --ui web did not start") from None
                    time.sleep(0.02)
            to_runs = time.perf_counter() - start
            rss_idle, cpu_started = rss_mb(process.pid)[0], cpu_s(process.pid)
            first_samples = fetch_s(url(base, "/samples"))
            cpu_first = cpu_s(process.pid)
            print(f"{'start to runs page (launch to HTTP 200)':<46} {to_runs * 1000:9.1f} ms")
            print(f"{'then the samples page, cold (builds the index)':<46} {first_samples * 1000:9.1f} ms")
            print(f"{'start to first samples page':<46} {(to_runs + first_samples) * 1000:9.1f} ms")
            print(f"{'  server CPU time: started / + first page':<46} {cpu_started * 1000:9.0f} ms"
                  f" / {(cpu_first - cpu_started) * 1000:.0f} ms")
            print(f"{'  machine load average (1 min)':<46} {os.getloadavg()[0]:9.1f}  on {os.cpu_count()} CPUs")
            rss_indexed = rss_mb(process.pid)[0]
            report("runs page (re-scans the folder)", [fetch_s(base + "/") for _ in range(args.repeats)])
            picks = random.Random(1).sample(range(args.samples), args.repeats)
            report("open a sample (random rows)", [fetch_s(url(base, "/part/sample", row=r)) for r in picks])
            report("reload the page on a sample (list + detail)",
                   [fetch_s(url(base, "/samples", row=r)) for r in picks])
            report("page of 50, deep (random pages)",
                   [fetch_s(url(base, "/part/list", page=1 + r // 50)) for r in picks])
            for label, params in [("filter: incorrect", {"status": "wrong"}), ("filter: subset s1", {"subset": "s1"}),
                                  ("filter: score >= 1, subset s2", {"min": "1", "subset": "s2"}),
                                  ("filter: text search", {"q": f"question {args.samples // 2}:"})]:
                cold = fetch_s(url(base, "/part/list", **params))
                warm = [fetch_s(url(base, "/part/list", page=2, **params)) for _ in range(args.repeats)]
                print(f"{label + ', first time':<46} {cold * 1000:9.1f} ms")
                report(label + ", next page", warm)
            for row in range(0, args.samples, max(1, args.samples // 2000)):  # open 2,000 samples more
                fetch_s(url(base, "/part/sample", row=row))
            rss_end, peak = rss_mb(process.pid)
            print(f"server RSS: {rss_idle:.0f} MB started, {rss_indexed:.0f} MB with the index, {rss_end:.0f} MB "
                  f"after opening 2,000+ samples (peak {peak:.0f} MB)")
        finally:
            process.terminate()
            process.wait(timeout=10)
        if args.gradio:
            print(f"{'the Gradio viewer: launch to HTTP 200':<46} {gradio_start_s(outputs, env) * 1000:9.1f} ms")


def gradio_start_s(outputs: Path, env: dict[str, str]) -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "assay", "app", "--ui", "gradio", "--outputs", str(outputs),
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**env, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        while True:
            try:
                fetch_s(f"http://127.0.0.1:{port}/")
                return time.perf_counter() - start
            except OSError:
                if process.poll() is not None or time.perf_counter() - start > 180:
                    raise RuntimeError("assay app --ui gradio did not start") from None
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
