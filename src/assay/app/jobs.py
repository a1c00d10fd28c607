"""The runs the workbench launched: each a subprocess in its own process group, watched and cancelled from the
jobs pages.

A run is ``python -m assay.app.launched eval|perf CONFIG`` (``assay eval --config CONFIG`` plus the form's secret
values as flags, handed over in one environment variable), writing its run folder under the outputs folder and its
output to ``log.txt`` beside ``input.yaml`` (the form's values, secrets left out) in ``outputs/.assay-app/jobs/<job>``.
Cancel is SIGTERM to the process group, which assay handles as Ctrl-C (the run is marked interrupted).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assay.app.launch import FORCED, SECRET_ARGS_ENV, FormResult, secret_args, secret_texts
from assay.errors import ConfigError

JOBS_DIR = ".assay-app/jobs"  # under the outputs folder; a dot folder, so the runs list never walks it
LOG_TAIL_BYTES = 24_000



@dataclass
class Job:
    """One launched run: its process, files and what the jobs page shows of it."""

    job_id: str
    kind: str
    label: str
    folder: Path
    started: dt.datetime
    command: list[str]
    process: subprocess.Popen[bytes] = field(repr=False)
    before: frozenset[str] = field(repr=False)
    secret_texts: list[str] = field(default_factory=list, repr=False)
    cancelled: bool = False
    run_dir: Path | None = None
    _counted: dict[Path, tuple[int, int]] = field(default_factory=dict, repr=False)  # file → (bytes read, lines)

    @property
    def log_path(self) -> Path:
        return self.folder / "log.txt"

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    @property
    def status(self) -> str:
        code = self.returncode
        if code is None:
            return "cancelling" if self.cancelled else "running"
        if self.cancelled:
            return "cancelled"
        return "finished" if code == 0 else "failed"

    def log_tail(self, limit: int = LOG_TAIL_BYTES) -> str:
        """The end of the run's output, with any secret of the form blanked (the tools never print one; this
        is a second guard)."""
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - limit))
                data = handle.read()
        except OSError:
            return ""
        text = data.decode("utf-8", "replace")
        if size > limit:
            text = "…" + text.split("\n", 1)[-1]
        text = text.replace("\r", "\n")  # progress bars redraw with \r
        for secret in self.secret_texts:
            text = text.replace(secret, "***")
        return text


    def progress(self) -> str:
        """How far the run is, read from its run folder: answered samples of an eval (lines of its predictions,
        read on from where the last look stopped), or the requests recorded per plan of a perf run."""
        if self.run_dir is None or not self.run_dir.is_dir():
            return ""
        if self.kind == "perf":
            return self._perf_progress()
        answered = 0
        for path in sorted((self.run_dir / "predictions").glob("*.jsonl")):
            done, lines = self._counted.get(path, (0, 0))
            try:
                with path.open("rb") as handle:
                    handle.seek(done)
                    chunk = handle.read()
            except OSError:
                continue
            self._counted[path] = (done + len(chunk), lines + chunk.count(b"\n"))
            answered += self._counted[path][1]
        planned = None
        try:
            entries = json.loads((self.run_dir / "manifest.json").read_bytes()).get("benchmarks") or {}
            planned = sum(int(e["num_samples"]) for e in entries.values())
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass
        return f"{answered} of {planned} samples answered" if planned else f"{answered} samples answered"

    def _perf_progress(self) -> str:
        import sqlite3

        assert self.run_dir is not None
        parts = []
        for records in sorted(self.run_dir.glob("*/records.sqlite")):
            try:
                db = sqlite3.connect(f"{records.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
                try:
                    count = db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
                finally:
                    db.close()
            except sqlite3.Error:
                continue
            parts.append(f"{records.parent.name}: {count} requests recorded")
        return "; ".join(parts)


class Jobs:
    """The runs launched by this app process (kept in memory; their files stay under ``outputs/.assay-app``)."""

    def __init__(self, outputs_root: Path) -> None:
        self.root = outputs_root.resolve()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def all(self) -> list[Job]:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self._find_run_dir(job)
        return sorted(jobs, key=lambda j: j.started, reverse=True)

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise ConfigError(f"no launched run {job_id!r} in this app process")
        self._find_run_dir(job)
        return job

    def _runs_folder(self, kind: str) -> Path:
        return self.root / "perf" if kind == "perf" else self.root

    def _run_names(self, kind: str) -> frozenset[str]:
        try:
            return frozenset(p.name for p in self._runs_folder(kind).iterdir() if p.is_dir())
        except OSError:
            return frozenset()

    def start(self, kind: str, parsed: FormResult) -> Job:
        """Write the config (secrets left out) and start the run; returns at once."""
        job_id = dt.datetime.now().strftime("%Y%m%d_%H%M%S_") + uuid.uuid4().hex[:6]
        folder = self.root / JOBS_DIR / job_id
        folder.mkdir(parents=True, mode=0o700)
        config_file = folder / "input.yaml"
        values = {**parsed.values, FORCED[kind]: str(self.root)}
        config_file.write_text(yaml.safe_dump(values, sort_keys=False, allow_unicode=True), encoding="utf-8")
        command = [sys.executable, "-m", "assay.app.launched", kind, str(config_file)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", SECRET_ARGS_ENV: json.dumps(secret_args(kind, parsed.secrets))}
        # The child imports this same assay (a checkout on PYTHONPATH, or the installed one).
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        config = parsed.config
        perf_name = getattr(config, "name", None) if kind == "perf" else None
        label = str(perf_name or getattr(config, "model_name", None) or getattr(config, "model", None) or kind)
        before, started = self._run_names(kind), dt.datetime.now()
        with (folder / "log.txt").open("wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       env=env, start_new_session=True)
        job = Job(job_id, kind, label, folder, started, command, process, before,
                  secret_texts(kind, parsed.secrets))
        with self._lock:
            self._jobs[job_id] = job
        return job

    def cancel(self, job_id: str) -> Job:
        """SIGTERM to the run's process group: assay handles it as Ctrl-C (the run is marked interrupted)."""
        job = self.get(job_id)
        if job.returncode is None:
            job.cancelled = True
            try:
                os.killpg(job.process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        return job

    def stop_all(self, wait_s: float = 10.0) -> None:
        """Cancel every run still going (the app is stopping), and wait a little for them to write their ends."""
        with self._lock:
            jobs = list(self._jobs.values())
        running = [job for job in jobs if job.returncode is None]
        for job in running:
            self.cancel(job.job_id)
        for job in running:
            try:
                job.process.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(job.process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def _find_run_dir(self, job: Job) -> None:
        """The run folder of ``job``: the one its log names at the end, else a new folder of its kind whose
        name carries its model (or perf run name)."""
        if job.run_dir is not None and job.returncode is None:
            return
        tail = job.log_tail(4000)
        for pattern in (r"^run folder: (.+)$", r"^results: (.+)$"):
            found = re.findall(pattern, tail, re.MULTILINE)
            if found:
                path = Path(found[-1].strip())
                if path.is_dir() and path.resolve().parent == self._runs_folder(job.kind).resolve():
                    job.run_dir = path.resolve()
                    return
        if job.run_dir is not None:
            return
        label = _squash(job.label)
        fresh = sorted(self._run_names(job.kind) - job.before)
        stamp = job.started.strftime("%Y%m%d_%H%M%S")
        matching = [name for name in fresh if name[:15] >= stamp and _squash(name[16:]).startswith(label[:40])]
        if matching or len(fresh) == 1:
            job.run_dir = self._runs_folder(job.kind) / (matching or fresh)[0]

    def run_link(self, job: Job) -> str | None:
        """The workbench URL of the job's run folder, once it exists."""
        if job.run_dir is None or not job.run_dir.is_dir():
            return None
        from urllib.parse import urlencode

        if job.kind == "perf":
            return "/perf/run?" + urlencode({"run": f"perf/{job.run_dir.name}"})
        return "/run?" + urlencode({"run": job.run_dir.name})


def _squash(name: str) -> str:
    """A run label as both tools' folder names keep it (they replace other characters differently)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())
