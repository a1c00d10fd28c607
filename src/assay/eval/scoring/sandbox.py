"""Run untrusted (model-written) code in a separate, limited process, without blocking the event loop.

Each run gets its own session and process group, a fresh temporary directory as its working directory, an
environment holding only ``PATH``, ``LANG``, ``HOME`` (the temporary directory), ``PYTHONHASHSEED`` and the
math libraries' thread counts (one), and these limits (``SandboxLimits``): CPU seconds (``RLIMIT_CPU``),
address space (``RLIMIT_AS``), size of any file written (``RLIMIT_FSIZE``), processes (``RLIMIT_NPROC``), no
core dumps, a wall-clock timeout after which the whole group is killed. Standard streams are files in a
directory of the parent's: output past ``output_bytes`` fails the run, and no stream can grow past the
file-size limit.

The process started is ``sandbox_init`` (see there for the fork structure): it enters the namespaces, and
its child, PID 1 of a new PID namespace, sets up the mounts and runs the code; ``PR_SET_PDEATHSIG`` ties
each to its parent, so the whole run dies with assay, even after ``kill -9``. What the operating system
allows decides the rest; ``isolation()`` says what this host gives, and logs once what it does not:

- network: a new, empty network namespace (only a downed loopback), entered with ``unshare(CLONE_NEWNET)``
  as root, or together with a new user namespace otherwise. Where neither is permitted the code runs with
  the host's network, and every result says ``network_isolated=False``.
- processes and mounts (root): a new PID namespace with its own ``/proc`` (no host process, so no
  ``/proc/<ppid>/cmdline`` with an API key in it, no host ``/proc/net/tcp``) that the kernel empties when
  the code's first process ends; the host's ``/tmp``, ``/var/tmp``, ``/run``, ``/dev/shm`` hidden under
  empty tmpfs; the working directory a tmpfs of ``4 * file_size_mb`` (disk bounded for the whole run).
- unix sockets: a seccomp filter (``seccomp``) denies creating them, as Landlock up to ABI 7 does not
  check ``connect()`` to a named one. ``PR_SET_NO_NEW_PRIVS`` is always set: setuid helpers stay unprivileged.
- another user: the kernel does not enforce ``RLIMIT_NPROC`` for root, so as root each run is started (via
  util-linux ``setpriv``) under an unused uid of its own, with no groups; the process limit then counts only
  that run's processes, and after the run every process whose real uid is that uid is killed, including
  ones that left the process group with ``setsid`` (a second line behind the PID namespace). The uid keeps
  one capability, ``CAP_DAC_READ_SEARCH``, because the interpreter may live under a directory only root can
  enter (``/root/.pyenv``); the file allow-list below is what keeps it from reading the rest. It cannot
  signal or trace host processes (so ``/proc/<pid>/environ`` of the host stays closed).
  Without root the code runs as the calling user: ``RLIMIT_NPROC`` then caps all of that user's processes
  (so a sandboxed fork usually fails), only the process group is killed afterwards, and there are no PID
  or mount namespaces.
- whole-run caps: a cgroup per run (``cgroup``) bounds memory and tasks of all its processes together,
  where this process may make one; else only the per-process limits hold.
- files: with Linux Landlock (``assay.eval.scoring.landlock``) the code may read only the system's library
  directories, this Python and its packages, and a few files of ``/etc`` and ``/dev``, and write only its
  own directory: not the user's home, the repository, ``/tmp`` or ``/etc/shadow``. Landlock also denies
  TCP connect/bind (kernel ABI 4+), whatever the network namespace. Without Landlock the code can read what
  its uid can (everything, as the separate uid above) and write only where that uid may.

Run directories are ``/tmp/assay-sandbox-<pid>-*``; the first ``Sandbox`` of a process removes those (and
cgroups) of processes that are gone.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
import marshal
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from assay.eval.scoring import cgroup, landlock, sandbox_init, seccomp

log = logging.getLogger("assay.eval.sandbox")

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1
_INIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_init.py")
# Host directories where services keep their unix sockets, hidden under empty tmpfs in the run's mounts.
_HIDDEN_DIRS = ("/tmp", "/var/tmp", "/run", "/var/run", "/dev/shm")
_DISK_FILES = 4  # the run's own directory holds this many maximal files (file_size_mb each) in all
_DIR_PREFIX = "assay-sandbox-"
_INIT_MEMORY_MB = 32  # the sandbox's own two processes (this module's init), on top of the run's memory_mb
_FLOOD_EXIT = "output over the cap"


@dataclass(frozen=True)
class SandboxLimits:
    """Per-run limits. ``wall_s`` is the whole run's wall clock; ``cpu_s`` is CPU time per process."""

    cpu_s: int = 10
    wall_s: float = 15.0
    memory_mb: int = 1024
    file_size_mb: int = 16
    processes: int = 16
    output_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True)
class Isolation:
    """What this host lets the sandbox do (found once, by trying)."""

    network: bool
    separate_user: bool
    how: str
    files: bool = False  # the Landlock file allow-list is applied
    pids: bool = False  # own PID namespace and /proc: the run's processes end with it, host processes unseen
    mounts: bool = False  # own mounts: private /tmp and /run, a size-bounded tmpfs as the working directory
    seccomp: bool = False  # no unix sockets (seccomp filter)
    cgroup: bool = False  # memory and tasks bounded for the whole run (a cgroup per run)


@dataclass
class SandboxResult:
    """How a run ended. ``timed_out``: killed at the wall-clock limit; ``signal``: the signal that ended it."""

    exit_code: int | None
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False
    signal: int | None = None
    output_truncated: bool = False
    network_isolated: bool = False
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.output_truncated

    def describe(self) -> str:
        """One short line: why the run failed (or "ok")."""
        if self.timed_out:
            return "timed out (wall clock)"
        if self.output_truncated:
            return _FLOOD_EXIT
        if self.signal is not None:
            name = signal.Signals(self.signal).name if self.signal in signal.Signals._value2member_map_ else self.signal
            return f"killed by {name}" + (" (CPU limit)" if self.signal == signal.SIGXCPU else "")
        if self.exit_code != 0:
            tail = self.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return f"exit {self.exit_code}: {tail[0][:300]}"
        return "ok"


# ---- what the host allows ---------------------------------------------------------------------------

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _unshare(flags: int) -> None:
    if _libc.unshare(flags) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def _net_flags() -> int:
    return _CLONE_NEWNET if os.geteuid() == 0 else _CLONE_NEWUSER | _CLONE_NEWNET


def _ns_flags(iso: Isolation) -> int:
    return (_net_flags() if iso.network else 0) | (_CLONE_NEWPID | _CLONE_NEWNS if iso.pids else 0)


def _probe(argv: list[str], flags: int) -> bool:
    try:
        subprocess.run(argv, preexec_fn=lambda: _unshare(flags), check=True, timeout=10, env={"PATH": os.defpath},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return True
    except (OSError, subprocess.SubprocessError):
        return False


@functools.lru_cache(maxsize=1)
def isolation() -> Isolation:
    """Probe once what this host allows: namespaces, another uid, Landlock, seccomp; log what is missing."""
    network = _probe(["true"], _net_flags())
    # PID and mount namespaces with our own /proc and tmpfs mounts: as root only (without it the mounts would
    # need a user namespace mapping, which the non-root path does not set up).
    pids = os.geteuid() == 0 and _probe([sys.executable, "-I", "-S", _INIT, "--probe", "mounts"],
                                           _CLONE_NEWPID | _CLONE_NEWNS)
    separate_user = os.geteuid() == 0 and _setpriv() is not None
    files = _landlock_works()
    cgroups, no_cgroup = cgroup.available()
    unix = seccomp.supported() and _probe([sys.executable, "-I", "-S", _INIT, "--probe", "seccomp"], 0)
    how = ", ".join([("own network namespace" if network else "host network (unshare not permitted)"),
                     ("own PID namespace, /proc and /tmp" if pids else "host PID namespace and /proc"),
                     ("own uid per run" if separate_user else "the calling user's uid"),
                     (f"file allow-list (Landlock ABI {landlock.abi_version()})" if files
                      else "no file allow-list (Landlock unavailable)"),
                     ("no unix sockets (seccomp)" if unix else "unix sockets allowed (no seccomp)"),
                     (f"whole-run memory and task caps (cgroup v{cgroups.version})" if cgroups
                      else "per-process limits only (no cgroup)")])
    if not network:
        log.warning("sandbox: network isolation is unavailable here (unshare refused); code runs with network")
    if not pids:
        log.warning("sandbox: no PID/mount namespace here (%s): code sees host processes in /proc and /tmp, "
                    "and its processes are only swept by uid", "not root" if os.geteuid() else "unshare refused")
    if os.geteuid() == 0 and not separate_user:
        log.warning("sandbox: running as root without setpriv: RLIMIT_NPROC is not enforced for root")
    if not landlock.abi_version():
        log.warning("sandbox: Landlock is unavailable (kernel ABI %d): code may read any file its uid can",
                    landlock.abi_version())
    if not unix:
        log.warning("sandbox: seccomp filter unavailable: code may connect to the host's named unix sockets")
    if cgroups is None:
        log.warning("sandbox: no writable cgroup (%s): memory and processes are bounded per process only "
                    "(RLIMIT_AS, RLIMIT_NPROC), not for a run as a whole", no_cgroup)
    return Isolation(network=network, separate_user=separate_user, how=how, files=files, pids=pids, mounts=pids,
                     seccomp=unix, cgroup=cgroups is not None)


def _landlock_works() -> bool:
    abi = landlock.abi_version()
    if not abi:
        return False
    with tempfile.TemporaryDirectory(prefix="assay-sandbox-probe-") as workdir:
        policy = landlock.policy_for(workdir)
        try:
            subprocess.run(["true"], preexec_fn=lambda: landlock.restrict(policy, abi), check=True, timeout=10,
                           env={"PATH": os.defpath})
        except (OSError, subprocess.SubprocessError):
            log.warning("sandbox: Landlock is present but refused its rules; code may read any file its uid can")
            return False
    return True


@functools.lru_cache(maxsize=1)
def _setpriv() -> str | None:
    return shutil.which("setpriv")


# Unused uids for runs under their own user (root only), drawn from a range keyed by this process's pid so
# two evaluations on one host rarely share one; a uid with a passwd entry or live processes is skipped.
_UID_SLOTS = 64
_uid_lock = threading.Lock()
_free_uids: list[int] = []


def _take_uid() -> int:
    import pwd

    with _uid_lock:
        if not _free_uids:
            base = 200_000 + (os.getpid() % 10_000) * _UID_SLOTS
            for uid in range(base, base + _UID_SLOTS):
                try:
                    pwd.getpwuid(uid)
                except KeyError:
                    _free_uids.append(uid)
        # Oldest returned first, and never one with processes left (a killed fork bomb's children may still be
        # waiting to be reaped, and they would count against the next run's process limit).
        for _ in range(len(_free_uids)):
            uid = _free_uids.pop(0)
            if not _pids_of(uid, include_zombies=True):
                return uid
            _free_uids.append(uid)
        raise RuntimeError("sandbox: every sandbox uid still has processes; too many runs at once")


def _give_uid(uid: int) -> None:
    with _uid_lock:
        _free_uids.append(uid)


def _pids_of(uid: int, include_zombies: bool = False) -> list[int]:
    """Processes whose *real* uid is ``uid``: a setuid program it ran (euid 0, its /proc directory root's) is
    still found."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status", "rb") as handle:
                    status = handle.read()
                real_uid = int(status.split(b"\nUid:", 1)[1].split()[0])
                state = status.split(b"\nState:", 1)[1].split()[0]
                if real_uid == uid and (include_zombies or state != b"Z"):
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def _kill_uid(uid: int) -> int:
    """SIGKILL every process of ``uid`` until none is left; how many were found."""
    found = 0
    for _ in range(50):
        pids = _pids_of(uid)
        if not pids:
            break
        found += len(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
    return found


# ---- one run ----------------------------------------------------------------------------------------

def _child_setup(iso: Isolation) -> Callable[[], None]:
    """What the forked child does before it execs ``sandbox_init``: die with assay, enter the namespaces."""
    flags = _ns_flags(iso)
    parent = os.getpid()

    def setup() -> None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # assay died before the line above
            os._exit(sandbox_init.SETUP_FAILED)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if flags:
            _unshare(flags)

    return setup


@functools.lru_cache(maxsize=1)
def _kept_paths() -> tuple[str, ...]:
    """What a run needs that may lie under a hidden directory (Python in a virtual environment or a checkout
    under ``/tmp``): the interpreter's directories and these sandbox modules, shown again read-only in the run's
    mounts. A hidden directory itself is never shown again whole."""
    hidden = [os.path.realpath(path) for path in _HIDDEN_DIRS if os.path.isdir(path) and not os.path.islink(path)]
    wanted = {*landlock.python_dirs(), os.path.dirname(os.path.realpath(_INIT))}
    return tuple(sorted(path for path in wanted
                        if path not in hidden and any(path.startswith(top + os.sep) for top in hidden)))


def _init_config(argv: list[str], workdir: str, limits: SandboxLimits, iso: Isolation, uid: int | None,
                 cgroup_procs: list[str]) -> str:
    """What ``sandbox_init`` needs for one run, as its one argument (marshal, in hex: nothing secret in it)."""
    memory = limits.memory_mb * 1024 * 1024
    file_size = limits.file_size_mb * 1024 * 1024
    rlimits = {"RLIMIT_CPU": (limits.cpu_s, limits.cpu_s + 1), "RLIMIT_AS": (memory, memory),
               "RLIMIT_FSIZE": (file_size, file_size), "RLIMIT_NPROC": (limits.processes, limits.processes),
               "RLIMIT_CORE": (0, 0)}
    policy = None
    if iso.files:
        allowed = landlock.policy_for(workdir)
        policy = {"read": allowed.read, "read_write": allowed.read_write, "abi": landlock.abi_version()}
    return marshal.dumps({"argv": argv, "workdir": workdir, "uid": uid, "rlimits": rlimits, "mounts": iso.mounts,
                       "hide": _HIDDEN_DIRS, "keep": _kept_paths(), "disk_kb": _DISK_FILES * limits.file_size_mb * 1024,
                       "seccomp": iso.seccomp, "landlock": policy, "cgroups": cgroup_procs}).hex()


@functools.lru_cache(maxsize=1)
def _remove_stale_dirs() -> None:
    """Delete the run directories of sandboxes whose assay is gone (killed before it could clean up); once."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        owner = name[len(_DIR_PREFIX):].partition("-")[0]
        if not name.startswith(_DIR_PREFIX) or not owner.isdigit() or _alive(int(owner)):
            continue
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    parents = cgroup.available()[0]
    if parents is not None:
        cgroup.remove_stale(parents, _alive)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def scrubbed_env(home: str) -> dict[str, str]:
    """The whole environment the code sees: no inherited variables, so no API keys. The math libraries run
    single-threaded: numpy's OpenBLAS otherwise starts a thread per core on import, and on a machine with more
    cores than ``processes`` that import fails the run (EvalPlus's checks import numpy in every test)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home,
            "TMPDIR": home, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
            **{name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}


class Sandbox:
    """Runs programs under ``limits``, at most ``max_parallel`` at a time, from the caller's event loop."""

    def __init__(self, limits: SandboxLimits | None = None, max_parallel: int | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self.max_parallel = max(1, min(max_parallel or os.cpu_count() or 1, _UID_SLOTS))
        self.isolation = isolation()
        _remove_stale_dirs()
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots, self._loop = asyncio.Semaphore(self.max_parallel), loop
        return self._slots

    async def run_python(self, code: str, stdin: bytes = b"", *, limits: SandboxLimits | None = None,
                         script_args: tuple[str, ...] = ()) -> SandboxResult:
        """Run ``code`` as ``solution.py`` with this interpreter in isolated mode (``-I``)."""
        return await self.run([sys.executable, "-I", "solution.py", *script_args], stdin,
                              files={"solution.py": code}, limits=limits)

    async def run(self, argv: list[str], stdin: bytes = b"", *, files: dict[str, str] | None = None,
                  limits: SandboxLimits | None = None) -> SandboxResult:
        """Run ``argv`` in a fresh temporary directory holding ``files``, feeding it ``stdin``."""
        async with self._semaphore():
            return await self._run(argv, stdin, files or {}, limits or self.limits)

    def run_python_sync(self, code: str, stdin: bytes = b"", **kwargs: object) -> SandboxResult:
        """``run_python`` for code without an event loop (a scorer's synchronous ``score``)."""
        return asyncio.run(self.run_python(code, stdin, **kwargs))  # type: ignore[arg-type]

    async def _run(self, argv: list[str], stdin: bytes, files: dict[str, str], limits: SandboxLimits) -> SandboxResult:
        iso = self.isolation
        uid = _take_uid() if iso.separate_user else None
        # <base>/work is the code's directory; <base>/io (the parent's) holds stdin/stdout/stderr as files, so no
        # pipe can stall the run or outlive it in a stray grandchild.
        base = tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-")
        workdir, iodir = os.path.join(base, "work"), os.path.join(base, "io")
        groups: list[str] = []
        try:
            os.mkdir(workdir)
            os.mkdir(iodir, 0o700)
            for name, text in files.items():
                Path(workdir, name).write_text(text, encoding="utf-8")
            Path(iodir, "stdin").write_bytes(stdin)
            if uid is not None:
                for path in [workdir, *(os.path.join(workdir, n) for n in files)]:
                    os.chown(path, uid, uid)
                argv = [_setpriv() or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                        "--inh-caps=-all,+dac_read_search", "--ambient-caps=+dac_read_search", "--", *argv]
            parents = cgroup.available()[0] if iso.cgroup else None
            if parents is not None:  # the run's memory in all: its limit plus room for the sandbox's init
                try:
                    groups = cgroup.take(parents, (limits.memory_mb + _INIT_MEMORY_MB) << 20, limits.processes + 2)
                except OSError as exc:
                    log.warning("sandbox: no cgroup for this run (%s): per-process limits only", exc)
            procs = [os.path.join(group, "cgroup.procs") for group in groups]
            argv = [sys.executable, "-I", "-S", _INIT, _init_config(argv, workdir, limits, iso, uid, procs)]
            return await self._spawn(argv, workdir, iodir, limits, uid)
        finally:
            if uid is not None:
                await asyncio.to_thread(_kill_uid, uid)
                _give_uid(uid)
            cgroup.give(groups)
            await asyncio.to_thread(shutil.rmtree, base, True)

    async def _spawn(self, argv: list[str], workdir: str, iodir: str, limits: SandboxLimits,
                     uid: int | None) -> SandboxResult:
        started = time.perf_counter()
        result = SandboxResult(exit_code=None, network_isolated=self.isolation.network)
        with open(os.path.join(iodir, "stdin"), "rb") as stdin, open(os.path.join(iodir, "stdout"), "wb") as out, \
                open(os.path.join(iodir, "stderr"), "wb") as err:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=stdin, stdout=out, stderr=err, cwd=workdir, env=scrubbed_env(workdir),
                start_new_session=True, preexec_fn=_child_setup(self.isolation), close_fds=True)
        try:
            await asyncio.wait_for(proc.wait(), limits.wall_s)
        except asyncio.TimeoutError:
            result.timed_out = True
        finally:
            _killpg(proc.pid)  # also ends children that outlive a normal exit
            if uid is not None:
                await asyncio.to_thread(_kill_uid, uid)
            await proc.wait()
        code = proc.returncode
        result.exit_code, result.signal = (code, None) if code is not None and code >= 0 else (None, -(code or 0))
        if result.timed_out and result.signal == signal.SIGKILL:
            result.signal = None  # our own kill: the reason is already recorded
        result.stdout, out_cut = _read_capped(os.path.join(iodir, "stdout"), limits.output_bytes)
        result.stderr, err_cut = _read_capped(os.path.join(iodir, "stderr"), limits.output_bytes)
        result.output_truncated = out_cut or err_cut
        result.elapsed_s = time.perf_counter() - started
        return result


def _read_capped(path: str, cap: int) -> tuple[bytes, bool]:
    with open(path, "rb") as handle:
        data = handle.read(cap + 1)
    return data[:cap], len(data) > cap


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
