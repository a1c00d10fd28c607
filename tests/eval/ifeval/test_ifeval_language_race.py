"""Language detection gives the same answer when many threads make the first call at once (issue 13.1).

langdetect publishes its detector factory before the language profiles finish loading, so a thread that calls
it during another thread's first load sees few or no languages. Only a fresh process has not loaded them yet,
so each try is a new interpreter whose threads all make their first call together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

SRC = Path(__file__).resolve().parents[3] / "src"
THREADS = 8
PROCESSES = 4
ENGLISH = "The weather is nice today and the children are playing happily in the green park by the river."

# Every thread waits at the barrier, then makes its first call to assay's detection entry point.
CHILD = f"""
import json, threading
from assay.eval.scoring.ifeval import detect_language
barrier = threading.Barrier({THREADS})
answers = []
def first_call():
    barrier.wait()
    answers.append(detect_language({ENGLISH!r}))
threads = [threading.Thread(target=first_call) for _ in range({THREADS})]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(json.dumps(answers))
"""


def test_first_detections_racing_in_fresh_processes_all_say_english():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    children = [subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env) for _ in range(PROCESSES)]
    answers = []
    for child in children:
        out, err = child.communicate(timeout=200)
        assert child.returncode == 0, err
        answers.extend(json.loads(out.strip().splitlines()[-1]))
    assert answers == ["en"] * (THREADS * PROCESSES)
