"""The sandbox's first process: run as ``python -I -S sandbox_init.py CONFIG`` (standard library only).

The sandbox starts this script after ``unshare`` of a new PID namespace (and mount and network namespaces).
``unshare(CLONE_NEWPID)`` moves only the caller's children, so the script forks once: the child is PID 1 of
the new namespace (its *init*). When init exits, the kernel kills every other process of the namespace, so
nothing the code starts can outlive the run. Init dies with this script (``PR_SET_PDEATHSIG``), and this
script dies with assay (the sandbox sets the same in it), so a ``kill -9`` of assay ends the whole tree too.

Init makes every mount private, hides the host's ``/tmp``, ``/run``, ``/dev/shm`` and ``/var/tmp`` under
empty tmpfs (so no named unix socket of the host is reachable there; what the run itself needs from under
them, such as a virtual environment in ``/tmp``, is bound back read-only at its own path), gives the code a size-bounded tmpfs
as its working directory (the run's files copied in), mounts a ``/proc`` of the new namespace (the code sees
only its own processes: no ``/proc/<ppid>/cmdline`` of assay) and then forks the code: limits, no_new_privs,
seccomp, Landlock, then exec. When the code's first process exits, init kills the rest and reports how it
ended through a pipe; this script then ends the same way (same exit code, or the same signal).

``CONFIG`` is a dict in ``marshal`` form, hex-encoded (no ``json`` import: this starts for every run).
``--probe`` checks that the kernel allows all this (used once by ``sandbox.isolation()``).
"""

from __future__ import annotations

import _signal  # the C module: `signal` would import enum, some ms for every run
import ctypes
import marshal
import os
import resource
import select
import sys

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT, _MS_BIND = 1, 2, 4, 8, 32, 4096
_MS_REC, _MS_PRIVATE = 1 << 14, 1 << 18
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_SIGKILL = 9
SETUP_FAILED = 125

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = (lambda text: text.encode() if text is not None else None)
    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def _die_with_parent(alive_fd: int) -> None:
    """SIGKILL when the parent dies. ``alive_fd`` reads a pipe only the parent writes: hung up means it died
    before the prctl (from a new PID namespace ``getppid()`` is 0, so it cannot tell)."""
    _check(_libc.prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
    poller = select.poll()
    poller.register(alive_fd, select.POLLIN)
    if poller.poll(0):
        os._exit(SETUP_FAILED)
    os.close(alive_fd)


def _private_mounts(config: dict) -> None:
    """Hide the host's shared temporary directories, give the code its own tmpfs, mount our /proc."""
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    workdir, uid = config["workdir"], config["uid"]
    source = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
    kept = []  # what the run needs under a hidden directory (a venv or a checkout in /tmp), held before hiding
    for path in config["keep"]:
        try:
            kept.append((path, os.open(path, os.O_PATH | os.O_CLOEXEC)))
        except OSError:
            pass
    for path in config["hide"]:
        if os.path.isdir(path) and not os.path.islink(path):
            _mount("tmpfs", path, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=1777")
    for path, fd in kept:  # bound back read-only over the empty tmpfs, at the same path
        held = f"/proc/self/fd/{fd}"
        if os.path.isdir(held):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "ab").close()
        _mount(held, path, None, _MS_BIND | _MS_REC)
        _mount(None, path, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
        os.close(fd)
    os.makedirs(workdir, exist_ok=True)
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    _mount("tmpfs", workdir, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={config['disk_kb']}k,mode=700{owner}")
    for name in os.listdir(source):
        with open(os.open(name, os.O_RDONLY, dir_fd=source), "rb") as handle:
            data = handle.read()
        target = os.path.join(workdir, name)
        with open(target, "wb") as handle:
            handle.write(data)
        if uid is not None:
            os.chown(target, uid, uid)
    os.close(source)
    _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)


def _load_module(name: str):  # noqa: ANN202 - a module beside this one, loaded without the assay package
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    module = type(sys)(f"assay_sandbox_{name}")  # a plain module object (importlib.util costs some ms)
    module.__file__ = path
    sys.modules[module.__name__] = module
    with open(path, encoding="utf-8") as handle:
        exec(compile(handle.read(), path, "exec"), module.__dict__)  # noqa: S102 - our own module's source
    return module


def _exec_code(config: dict) -> None:
    """The code's own process: limits, no_new_privs, seccomp and Landlock, then exec. Never returns."""
    try:
        os.chdir(config["workdir"])
        for name, value in config["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value[0], value[1]))
        # Always, even as root: a setuid helper (su, polkit-agent-helper-1) must not run as euid 0.
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        if config["seccomp"]:
            _load_module("seccomp").deny_unix_sockets()
        if config["landlock"] is not None:
            landlock = _load_module("landlock")
            policy = config["landlock"]
            landlock.restrict(landlock.FsPolicy(read=tuple(policy["read"]), read_write=tuple(policy["read_write"])),
                              policy["abi"])
        argv = config["argv"]
        os.execvp(argv[0], argv)
    except BaseException as exc:  # noqa: BLE001 - anything here is a sandbox failure, said on stderr
        os.write(2, f"sandbox: setup failed: {exc}\n".encode())
        os._exit(SETUP_FAILED)


def _init(config: dict, report_fd: int, alive_fd: int) -> None:
    """PID 1 of the namespace: mounts, then the code; reap everything, report how the code ended."""
    try:
        _die_with_parent(alive_fd)
        if config["mounts"]:
            _private_mounts(config)
    except OSError as exc:
        os.write(2, f"sandbox: setup failed: {exc}\n".encode())
        os._exit(SETUP_FAILED)
    code = os.fork()
    if code == 0:
        os.close(report_fd)
        _exec_code(config)
    status = None
    while status is None:
        pid, wait_status = os.wait()
        if pid == code:
            status = wait_status
    if os.getpid() == 1:  # only in our own PID namespace: kill(-1) elsewhere would hit the host
        try:
            os.kill(-1, _SIGKILL)
        except ProcessLookupError:
            pass
        while True:
            try:
                os.wait()
            except ChildProcessError:
                break
    how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
    os.write(report_fd, how.encode())
    os._exit(0)


def _end_like(report: str) -> None:
    kind, _, number = report.partition(" ")
    if kind == "signal":
        signum = int(number)
        _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)  # no core dump of this script
        try:
            _signal.signal(signum, _signal.SIG_DFL)
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), signum)
        os._exit(128 + signum)
    os._exit(int(number) if kind == "exit" else SETUP_FAILED)


def _probe(what: str) -> None:
    """Exit 0 if init could do its mounts here (run after the same unshare as a real run), or the seccomp
    filter can be installed."""
    if what == "seccomp":
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        _load_module("seccomp").deny_unix_sockets()
        os._exit(0)
    child = os.fork()
    if child == 0:
        try:
            _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
            _mount("tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=1777")
            _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
            os._exit(0 if os.getpid() == 1 and os.listdir("/proc").count("1") == 1 else 1)
        except OSError:
            os._exit(1)
    os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))


def main() -> None:
    if sys.argv[1] == "--probe":
        _probe(sys.argv[2])
    config = marshal.loads(bytes.fromhex(sys.argv[1]))
    try:
        for procs in config["cgroups"]:  # enter the run's cgroups first: init and everything below count
            with open(procs, "w") as handle:
                handle.write("0")
    except OSError as exc:
        os.write(2, f"sandbox: setup failed: {exc}\n".encode())
        os._exit(SETUP_FAILED)
    read_fd, write_fd = os.pipe()
    alive_read, alive_write = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(read_fd)
        os.close(alive_write)
        _init(config, write_fd, alive_read)
    os.close(write_fd)
    os.close(alive_read)
    chunks = []
    while chunk := os.read(read_fd, 64):
        chunks.append(chunk)
    os.waitpid(init, 0)
    _end_like(b"".join(chunks).decode() or "setup failed")


if __name__ == "__main__":
    main()
