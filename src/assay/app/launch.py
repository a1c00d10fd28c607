"""Launching ``assay eval`` and ``assay perf`` from the workbench: form fields, their parsing, and the jobs.

The form's fields are the CLI's own options (``assay.cli.options.model_options`` over ``TaskConfig`` and
``PerfConfig``), so a field has one definition: its name, type, choices, help and default come from the config
model, and a value typed in a box is converted by the same click type as on the command line (lists split as a
shell would, JSON fields decoded by ``cli_values``). The model itself then validates the whole form; each error
becomes one line under its field.

A launched run is a subprocess, ``python -m assay.app.launched eval|perf CONFIG``, in its own process group,
writing its run folder under the outputs folder and its output to a log file beside the config it was given.
Secret values (``api_key``, a credential inside a JSON field or a URL, headers) are never written: they reach
the child in one environment variable that it removes before anything else runs (``assay.app.launched``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import types
import typing
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import click
import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from assay.cli.options import cli_values, model_options
from assay.client.config import scrub_secrets
from assay.errors import ConfigError

SECRET_ARGS_ENV = "ASSAY_LAUNCH_SECRET_ARGS"
JOBS_DIR = ".assay-app/jobs"  # under the outputs folder; a dot folder, so the runs list never walks it
LOG_TAIL_BYTES = 24_000
# The fields a launched run may not choose: its run folder goes under the app's outputs folder.
_FORCED = {"eval": "work_dir", "perf": "outputs_dir"}
_ALIASES = {"eval": {"use_cache": ["--resume"]}, "perf": {"number": ["-n"]}}


def config_model(kind: str) -> type[BaseModel]:
    if kind == "eval":
        from assay.eval.config import TaskConfig

        return TaskConfig
    if kind == "perf":
        from assay.perf.config import PerfConfig

        return PerfConfig
    raise ConfigError(f"unknown kind of run {kind!r} (eval or perf)")


def _has_secret_type(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_has_secret_type(arg) for arg in typing.get_args(annotation))
    return False


@dataclass(frozen=True)
class FormField:
    """One box of the form: a CLI option of the config model, seen as HTML needs it."""

    name: str
    flag: str
    help: str
    widget: str  # "text", "number", "select", "bool", "list", "json", "secret"
    choices: tuple[str, ...] = ()
    option: click.Option | None = field(default=None, compare=False, repr=False)


def form_fields(kind: str) -> list[FormField]:
    """The fields of ``kind``'s config model, in the model's order, as ``assay eval/perf --help`` lists them."""
    model = config_model(kind)
    fields = []
    for option in model_options(model, exclude=[_FORCED[kind]], aliases=_ALIASES[kind]):
        name = str(option.name)
        annotation = model.model_fields[name].annotation
        choices: tuple[str, ...] = ()
        if _has_secret_type(annotation):
            widget = "secret"
        elif option.is_bool_flag:
            widget = "bool"
        elif option.multiple:
            widget = "list"
        elif option.metavar == "JSON":
            widget = "json"
        elif isinstance(option.type, click.Choice):
            widget, choices = "select", tuple(str(c) for c in option.type.choices)
        elif option.type.name in ("integer", "float") or option.type.name.endswith("|none"):
            widget = "number"
        else:
            widget = "text"
        fields.append(FormField(name, option.opts[0], option.help or "", widget, choices, option))
    return fields


@dataclass
class FormResult:
    """What a submitted form became: the values for the config file, the secret ones apart, or the errors."""

    values: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field name ("" for the form as a whole) → one line
    config: BaseModel | None = None


def _convert(item: FormField, text: str) -> Any:
    """The value of one box, as click would hand it to the command (``tuple`` for a list option)."""
    option = item.option
    assert option is not None
    if item.widget == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ConfigError("choose on or off")
        return lowered == "true"
    try:
        if item.widget == "list":
            try:
                words = shlex.split(text)
            except ValueError as exc:
                raise ConfigError(f"cannot split the values: {exc}") from None
            return tuple(option.type.convert(word, option, None) for word in words)
        return option.type.convert(text, option, None)
    except click.BadParameter as exc:
        raise ConfigError(exc.message) from None


def _validation_errors(exc: ValidationError, names: set[str]) -> dict[str, str]:
    """One line per field (the first error of each); errors of the model as a whole (cross-field checks) under
    ``""``. Only pydantic's message is shown, never the input (it may be a secret)."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        message = "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"]).removeprefix("Value error, ")
        where = loc[0] if loc and loc[0] in names else ""
        if len(loc) > 1 or (loc and not where):
            message = f"{'.'.join(loc)}: {message}"
        if where not in errors:
            errors[where] = message
        elif where == "" and message not in errors[""]:
            errors[""] += f"; {message}"
    return errors


def _is_secret(item: FormField, value: Any) -> bool:
    """Whether ``value`` of ``item`` must never be written: a secret-typed field, a field named like a
    credential, headers, or a value that :func:`scrub_secrets` would change (a key in a JSON field, a URL with
    a password or a ``?key=``)."""
    if item.widget == "secret" or item.name == "headers":
        return True
    return scrub_secrets({item.name: value}) != {item.name: value}


def parse_form(kind: str, form: Mapping[str, str]) -> FormResult:
    """Turn the submitted boxes into a validated config (or errors per field), as ``assay eval/perf`` does with
    its flags; an empty box is a flag not given (the model's default applies)."""
    model = config_model(kind)
    result = FormResult()
    given: dict[str, Any] = {}
    fields = form_fields(kind)
    for item in fields:
        text = (form.get(item.name) or "").strip()
        if not text:
            continue
        try:
            given.update(cli_values(model, {item.name: _convert(item, text)}))
        except ConfigError as exc:
            result.errors[item.name] = str(exc)
    try:
        config = model(**given, **{_FORCED[kind]: "."})
    except ValidationError as exc:
        result.errors = {**_validation_errors(exc, {f.name for f in fields}), **result.errors}
        return result
    if result.errors:
        return result
    result.config = config
    by_name = {f.name: f for f in fields}
    for name, value in given.items():
        (result.secrets if _is_secret(by_name[name], value) else result.values)[name] = value
    return result


def secret_args(kind: str, secrets: Mapping[str, Any]) -> list[str]:
    """The secret values as the CLI's own flags (``--api-key=...``), for the child to add to its argv."""
    by_name = {f.name: f for f in form_fields(kind)}
    args = []
    for name, value in secrets.items():
        option = by_name[name].option
        assert option is not None
        flag = option.opts[0]
        if isinstance(value, bool):
            args.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, list) and option.multiple:
            args += [f"{flag}={item}" for item in value]
        elif isinstance(value, (dict, list)):
            args.append(f"{flag}={json.dumps(value)}")
        else:
            args.append(f"{flag}={'none' if value is None else value}")
    return args


def _secret_texts(kind: str, secrets: Mapping[str, Any]) -> list[str]:
    """The credentials among the secret values (to blank them in a log tail, should a tool ever print one; the
    tools don't, this is a second guard): a secret field's whole value, the strings :func:`scrub_secrets` would
    hide, the password of a URL, a header's value."""
    out: list[str] = []
    widgets = {f.name: f.widget for f in form_fields(kind)}

    def walk(value: Any, scrubbed: Any) -> None:
        if isinstance(value, str):
            if value != scrubbed:
                out.append(value)
                userinfo = urlsplit(value).netloc.rpartition("@")[0] if "@" in value else ""
                out.extend(part for part in (userinfo, userinfo.partition(":")[2]) if part)
                out.extend(v for k, _, v in (p.partition("=") for p in urlsplit(value).query.split("&")) if v)
        elif isinstance(value, dict) and isinstance(scrubbed, dict):
            for key, item in value.items():
                walk(item, scrubbed.get(key))
        elif isinstance(value, (list, tuple)) and isinstance(scrubbed, (list, tuple)):
            for item, clean in zip(value, scrubbed):
                walk(item, clean)

    for name, value in secrets.items():
        if widgets.get(name) == "secret" and isinstance(value, str):
            out.append(value)
        elif name == "headers":
            pairs = value.items() if isinstance(value, dict) else (str(v).partition("=")[::2] for v in value)
            for key, item in pairs:
                if re.search(r"auth|key|token|secret|cookie", str(key), re.IGNORECASE) and item:
                    out += [str(item), str(item).split()[-1]]
        else:
            walk(value, scrub_secrets(value) if not isinstance(value, dict) else scrub_secrets({name: value})[name])
    return sorted({text for text in out if len(text) >= 4}, key=len, reverse=True)


# ---- jobs -----------------------------------------------------------------------------------------------


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
        values = {**parsed.values, _FORCED[kind]: str(self.root)}
        config_file.write_text(yaml.safe_dump(values, sort_keys=False, allow_unicode=True), encoding="utf-8")
        command = [sys.executable, "-m", "assay.app.launched", kind, str(config_file)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", SECRET_ARGS_ENV: json.dumps(secret_args(kind, parsed.secrets))}
        # The child imports this same assay (a checkout on PYTHONPATH, or the installed one).
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        config = parsed.config
        perf_name = getattr(config, "name", None) if kind == "perf" else None
        label = str(perf_name or getattr(config, "model_name", None) or getattr(config, "model", None) or kind)
        before = self._run_names(kind)
        with (folder / "log.txt").open("wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       env=env, start_new_session=True)
        job = Job(job_id, kind, label, folder, dt.datetime.now(), command, process, before,
                  _secret_texts(kind, parsed.secrets))
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


def job_record(job: Job) -> dict[str, Any]:
    """What the jobs page shows of a job, as plain values (its tests read them too)."""
    return {"job_id": job.job_id, "kind": job.kind, "label": job.label, "status": job.status,
            "returncode": job.returncode, "started": job.started.isoformat(timespec="seconds")}
