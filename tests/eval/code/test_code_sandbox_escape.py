"""The red-team report against the sandbox: each way out it found is closed (one test per finding)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from assay.eval.scoring import cgroup, sandbox
from assay.eval.scoring.sandbox import Sandbox, SandboxLimits, isolation

pytestmark = pytest.mark.timeout(90)

FAST = SandboxLimits(cpu_s=2, wall_s=10.0, memory_mb=256, file_size_mb=1, processes=8, output_bytes=64 * 1024)
SRC = str(Path(__file__).resolve().parents[3] / "src")


def _run(code: str, limits: SandboxLimits = FAST):
    return Sandbox(limits, max_parallel=2).run_python_sync(textwrap.dedent(code))


def _needs_pid_namespace() -> None:
    if not isolation().pids:
        pytest.skip("this host refuses a PID/mount namespace (not root, or unshare refused)")


def test_the_parents_cmdline_fds_and_network_table_are_out_of_sight():
    _needs_pid_namespace()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = f":{listener.getsockname()[1]:04X}"
    try:
        result = _run(f"""
            import os
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
            print("pids", len(pids))
            for path in ("/proc/{os.getpid()}/cmdline", "/proc/{os.getpid()}/fd", "/proc/{os.getppid()}/cmdline"):
                try:
                    print("read", path, open(path, "rb").read() if "fd" not in path else os.listdir(path))
                except OSError as exc:
                    print("denied", path, type(exc).__name__)
            tables = ""
            for pid in pids:
                for table in ("tcp", "tcp6"):
                    try:
                        tables += open(f"/proc/{{pid}}/net/{{table}}").read()
                    except OSError:
                        pass
            print("tables", tables.count("\\n"), {port!r} in tables)
        """)
    finally:
        listener.close()
    assert result.ok, result.describe()
    out = result.stdout.decode()
    assert "read " not in out, out
    assert int(out.split("pids ")[1].split()[0]) <= 3, out  # init, the code, perhaps a thread-less helper
    assert out.rstrip().endswith("False"), out  # the host's listener is in no table the code can read


def _unix_listener(directory: str) -> tuple[socket.socket, str]:
    os.chmod(directory, 0o777)
    path = os.path.join(directory, "service.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o777)
    server.listen(4)
    server.settimeout(0.2)
    return server, path


@pytest.mark.parametrize("where", ["/tmp", "home"])
def test_named_unix_sockets_of_the_host_are_unreachable(where):
    if not (isolation().mounts or isolation().seccomp):
        pytest.skip("no mount namespace and no seccomp here: named unix sockets stay reachable")
    if where == "home" and not isolation().seccomp:
        pytest.skip("no seccomp here: only the host's /tmp and /run are hidden")
    directory = tempfile.mkdtemp(prefix="assay-test-sock-", dir="/tmp" if where == "/tmp" else Path.home())
    server, path = _unix_listener(directory)
    try:
        result = _run(f"""
            import socket
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                try:
                    client = socket.socket(socket.AF_UNIX, kind)
                    client.connect({path!r})
                    print("connected")
                except OSError as exc:
                    print("refused", type(exc).__name__)
        """)
        try:
            accepted = server.accept()[0]
            accepted.close()
        except (socket.timeout, OSError):
            accepted = None
    finally:
        server.close()
        os.unlink(path)
        os.rmdir(directory)
    assert b"connected" not in result.stdout and accepted is None, result.stdout


def test_no_new_privs_is_set_even_when_assay_runs_as_root():
    result = _run("print(open('/proc/self/status').read().split('NoNewPrivs:')[1].split()[0])")
    assert result.ok and result.stdout.strip() == b"1", (result.describe(), result.stdout)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start a process with euid 0 and another real uid")
def test_the_sweep_finds_a_process_by_its_real_uid_even_at_euid_0():
    """What a setuid-root helper started by the code looks like: real uid the sandbox's, euid 0."""
    uid = 199_999
    helper = subprocess.Popen([sys.executable, "-c", f"import os, time; os.setresuid({uid}, 0, 0); time.sleep(60)"])
    try:
        deadline = time.monotonic() + 10
        while uid not in _real_uids(helper.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.stat(f"/proc/{helper.pid}").st_uid == 0  # what a sweep by /proc owner (euid) looks at
        assert sandbox._kill_uid(uid) >= 1
        assert helper.wait(timeout=10) == -signal.SIGKILL
    finally:
        helper.kill()
        helper.wait()


def _real_uids(pid: int) -> list[int]:
    with open(f"/proc/{pid}/status") as handle:
        return [int(line.split()[1]) for line in handle if line.startswith("Uid:")]


def _killed_leftovers(marker: str, seconds: float) -> list[int]:
    """The marked processes still alive after ``seconds``; killed here, so a failure leaves nothing behind."""
    left = _wait_until_gone(marker, seconds)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def _marked(marker: str) -> list[int]:
    """Live processes whose argv[0] or name is ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv0 = handle.read().split(b"\0")[0].decode()
            with open(f"/proc/{pid}/comm") as handle:
                name = handle.read().strip()
            with open(f"/proc/{pid}/stat", "rb") as handle:
                state = handle.read().rpartition(b")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if marker in (argv0, name) and state != b"Z":
            found.append(int(pid))
    return found


def _wait_until_gone(marker: str, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_kill_9_of_assay_ends_every_sandboxed_process_and_the_next_start_removes_its_directory():
    marker = f"assay-orphan-{os.getpid()}"
    code = textwrap.dedent(f"""
        import os, time
        for kind in ("sleep", "sleep", "sleep", "spin"):
            if os.fork() == 0:
                os.setsid()
                if kind == "sleep":
                    os.execlp("sleep", {marker!r}, "300")
                os.execlp("sh", {marker!r}, "-c", "while :; do :; done")
        time.sleep(300)
    """)
    runner = textwrap.dedent(f"""
        import sys
        from assay.eval.scoring.sandbox import Sandbox, SandboxLimits
        Sandbox(SandboxLimits(cpu_s=300, wall_s=300.0, processes=16)).run_python_sync(sys.stdin.read())
    """)
    env = {**os.environ, "PYTHONPATH": SRC}
    assay = subprocess.Popen([sys.executable, "-c", runner], stdin=subprocess.PIPE, env=env)
    try:
        assay.stdin.write(code.encode())
        assay.stdin.close()
        deadline = time.monotonic() + 30
        while len(_marked(marker)) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_marked(marker)) == 4, "the sandboxed processes never started"
        run_dirs = [p for p in Path(tempfile.gettempdir()).glob(f"assay-sandbox-{assay.pid}-*")]
        parents = cgroup.available()[0]
        groups = [p for parent in ({parents.memory, parents.pids} if parents else ())
                  for p in Path(parent).glob(f"assay-sandbox-{assay.pid}-*")]
    finally:
        os.kill(assay.pid, signal.SIGKILL)
        assay.wait()
        left = _killed_leftovers(marker, 20)
    assert left == [] and run_dirs
    subprocess.run([sys.executable, "-c", "from assay.eval.scoring.sandbox import Sandbox; Sandbox()"], env=env,
                   check=True, timeout=60)
    assert not any(p.exists() for p in run_dirs + groups)
    assert groups or not isolation().cgroup


def test_memory_is_bounded_for_the_whole_run_not_per_process():
    """Four processes of 150 MB each fit a 256 MB per-process limit; together they must not."""
    if not isolation().cgroup:
        pytest.skip("no writable cgroup with memory and pids controllers here: memory is bounded per process only")
    result = _run("""
        import os, time
        children = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                data = b"x" * (150 << 20)  # written, so resident
                time.sleep(2)
                os._exit(0)
            children.append(pid)
        print(sum(os.waitpid(pid, 0)[1] == 0 for pid in children), "held")
    """, limits=SandboxLimits(cpu_s=10, wall_s=30.0, memory_mb=256, processes=8))
    assert not (result.ok and result.stdout.startswith(b"4 held")), (result.describe(), result.stdout)


def test_the_runs_directory_is_bounded_in_all_not_only_per_file():
    """Files of 0.9 MB pass a 1 MB file-size limit one by one; twenty of them must not fit."""
    if not isolation().mounts:
        pytest.skip("no mount namespace here: the run's directory is on the host's disk, bounded per file only")
    result = _run("""
        written = 0
        try:
            for index in range(20):
                with open(f"part{index}", "wb") as handle:
                    handle.write(b"x" * 900_000)
                written += 1
        except OSError as exc:
            print("stopped", type(exc).__name__)
        print(written, "written")
    """)
    assert b"stopped" in result.stdout and not result.stdout.rstrip().endswith(b"20 written"), result.stdout


def test_without_namespaces_seccomp_or_cgroups_the_sandbox_still_runs_and_cleans_up():
    """The fallback a host without them gets: the same results, and no process left behind."""
    bare = Sandbox(FAST, max_parallel=2)
    bare.isolation = dataclasses.replace(bare.isolation, pids=False, mounts=False, seccomp=False, cgroup=False)
    marker = f"bare{os.getpid()}"[:15]

    async def runs():
        return await asyncio.gather(
            bare.run_python("import sys; print(sys.stdin.read())", b"hi"),
            bare.run_python("import time; time.sleep(60)", limits=SandboxLimits(wall_s=1.0)),
            bare.run_python(f"""
import os, time
if os.fork() == 0:
    os.setsid()
    os.execlp("sleep", {marker!r}, "60")
print("parent done")
"""))

    echoed, slept, forked = asyncio.run(runs())
    assert echoed.ok and echoed.stdout == b"hi\n", echoed.describe()
    assert slept.timed_out and not slept.ok
    assert forked.ok or b"Resource temporarily unavailable" in forked.stderr, forked.describe()
    if isolation().separate_user:  # without its own uid only the process group is swept (as before)
        assert _killed_leftovers(marker, 10) == []
