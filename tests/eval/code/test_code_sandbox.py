"""The sandbox against hostile code: each attack is contained, fails the run, and leaves the host as it was."""

from __future__ import annotations

import asyncio
import os
import socket
import textwrap

import pytest

from assay.eval.scoring.sandbox import Sandbox, SandboxLimits, isolation

pytestmark = pytest.mark.timeout(30)

FAST = SandboxLimits(cpu_s=2, wall_s=3.0, memory_mb=256, file_size_mb=1, processes=8, output_bytes=64 * 1024)


def _run(code: str, stdin: bytes = b"", limits: SandboxLimits = FAST):
    return Sandbox(limits, max_parallel=2).run_python_sync(textwrap.dedent(code), stdin)


def _my_process_count() -> int:
    return len([p for p in os.listdir("/proc") if p.isdigit() and os.stat(f"/proc/{p}").st_uid == os.getuid()])


def test_clean_code_runs_and_sees_its_stdin():
    result = _run("import sys; print(sys.stdin.read().upper())", b"hello")
    assert result.ok and result.stdout == b"HELLO\n"


def test_infinite_loop_is_stopped_by_the_cpu_limit():
    result = _run("while True: pass")
    assert not result.ok and result.elapsed_s < FAST.wall_s + 2


def test_sleeping_forever_is_killed_at_the_wall_clock():
    result = _run("import time; time.sleep(60)", limits=SandboxLimits(wall_s=1.0))
    assert result.timed_out and not result.ok and result.elapsed_s < 3


def test_memory_bomb_fails_without_hurting_the_host():
    result = _run("x = bytearray(1 << 30); print('allocated')")
    assert not result.ok and b"allocated" not in result.stdout


@pytest.mark.skipif(os.geteuid() == 0 and not isolation().separate_user,
                    reason="root without setpriv: RLIMIT_NPROC is not enforced, a fork bomb would reach the host")
def test_fork_bomb_is_capped_and_every_child_is_gone_afterwards():
    # The bomb names itself (a process name is inherited on fork), so only its own processes are counted, not
    # those of other sandboxes running on the machine at the same time.
    marker = f"bomb{os.getpid() % 100_000}"
    before = _my_process_count()
    result = _run(f"""
        import ctypes, os
        ctypes.CDLL(None).prctl(15, b"{marker}", 0, 0, 0)  # PR_SET_NAME
        print(open("/proc/self/comm").read().strip(), flush=True)
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """)
    assert not result.ok and marker in result.stdout.decode(errors="replace")  # the bomb did go off, named
    if isolation().separate_user:  # every sandbox uid is in 200000..840000: none of their processes is left
        # Killed children may stay zombies (dead, not yet reaped by init) for a moment; none may be alive.
        alive = [p for p in os.listdir("/proc") if p.isdigit() and 200_000 <= _uid_of(p) < 840_000
                 and _state(p) not in ("Z", "") and _name(p) == marker]
        assert alive == []
    else:
        assert _my_process_count() <= before + 2


def _name(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _state(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0].decode()
    except (OSError, IndexError):
        return ""


def _uid_of(pid: str) -> int:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return -1


def test_a_child_that_leaves_the_process_group_is_killed_too():
    marker = f"assay-escape-{os.getpid()}"
    result = _run(f"""
        import os, time
        if os.fork() == 0:
            os.setsid()
            os.execlp("sleep", "{marker}", "30")
        print("parent done")
    """)
    assert result.ok or b"Resource temporarily unavailable" in result.stderr  # fork refused is contained too
    leftovers = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p).startswith(marker)]
    assert leftovers == []


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().split(b"\0")[0].decode()
    except OSError:
        return ""


def test_writing_is_confined(tmp_path):
    outside = tmp_path / "outside.txt"
    result = _run(f"open({str(outside)!r}, 'w').write('pwned')")
    if isolation().separate_user or isolation().files:  # another uid, or the allow-list: out of reach
        assert not result.ok and not outside.exists()
    big = _run("open('big.bin', 'wb').write(b'x' * (8 << 20))")  # over the 1 MiB file-size limit
    assert not big.ok


def test_files_outside_the_allow_list_cannot_be_read(tmp_path):
    """Secrets in the user's files stay closed; the code still imports the standard library and numpy."""
    if not isolation().files:
        pytest.skip("this kernel has no Landlock: the sandbox cannot restrict which files code reads here")
    secret = tmp_path / "credentials"
    secret.write_text("sk-file-secret-456")
    secret.chmod(0o644)  # readable by anyone: only the allow-list stands in the way
    paths = [str(secret), __file__] + [p for p in ("/etc/shadow", os.path.expanduser("~/.bashrc")) if os.path.exists(p)]
    result = _run(f"""
        import json, numpy
        for path in {paths!r}:
            try:
                print(open(path).read()[:40])
            except OSError as exc:
                print("denied", type(exc).__name__)
        open("mine.txt", "w").write("ok")
        print(open("mine.txt").read())
    """)
    assert result.ok, result.describe()
    # A file under the host's /tmp is not even there (the run's own /tmp); the rest is denied.
    lines = [line.replace("FileNotFoundError", "PermissionError") for line in result.stdout.decode().splitlines()]
    assert lines == ["denied PermissionError"] * len(paths) + ["ok"], lines


def test_environment_secrets_are_not_inherited(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
    result = _run(f"""
        import os
        print(sorted(os.environ))
        print(os.environ.get("OPENAI_API_KEY"))
        try:
            print(open("/proc/{os.getpid()}/environ", "rb").read())
        except OSError as exc:
            print("denied", exc)
    """)
    assert result.ok, result.describe()
    assert b"sk-test-secret-123" not in result.stdout and b"OPENAI" not in result.stdout
    if isolation().separate_user:
        assert b"denied" in result.stdout


def test_no_network_to_a_local_listener():
    if not isolation().network:
        pytest.skip("this host refuses unshare(CLONE_NEWNET): the sandbox runs with the host network here")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        result = _run(f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1); print('connected')")
    finally:
        listener.close()
    assert not result.ok and b"connected" not in result.stdout and result.network_isolated


def test_output_flood_is_cut_and_fails():
    result = _run("while True: print('y' * 1000)")
    assert not result.ok and len(result.stdout) <= FAST.output_bytes


def test_the_event_loop_keeps_running_and_runs_are_bounded():
    async def main() -> tuple[int, list[bool]]:
        sandbox = Sandbox(FAST, max_parallel=2)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        results = await asyncio.gather(sandbox.run_python("import time; time.sleep(0.3)"),
                                       sandbox.run_python("while True: pass"), sandbox.run_python("print(1)"))
        task.cancel()
        return ticks, [r.ok for r in results]

    ticks, oks = asyncio.run(main())
    assert oks == [True, False, True] and ticks > 20


@pytest.mark.timeout(90)
def test_python_and_assay_installed_under_tmp_still_run_in_the_sandbox(tmp_path):
    """The run's private /tmp hides the host's, but a virtual environment or a checkout of assay under /tmp (a CI
    clone, a throwaway venv) is what runs the code: it is shown again, read only, at its own path."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import assay

    if not isolation().mounts:
        pytest.skip("this host gives the sandbox no mount namespace, so /tmp is not hidden from it")
    root = Path(os.path.realpath(tmp_path))
    assert root.parts[1] == "tmp", "pytest's tmp_path is expected under /tmp"
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    shutil.copytree(Path(assay.__file__).parent, root / "pkg" / "assay",
                    ignore=shutil.ignore_patterns("__pycache__"))
    deps = [p for p in sys.path if p.endswith("site-packages")]
    script = ("import asyncio, assay; from assay.eval.scoring.sandbox import Sandbox, SandboxLimits\n"
              "result = Sandbox(SandboxLimits(wall_s=20)).run_python_sync('import sys; print(sys.prefix)')\n"
              "print(assay.__file__); print(result.ok, result.stdout, result.stderr)")
    done = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "pkg"), *deps])})
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines, done.stderr
    assert lines[0].startswith(str(root / "pkg")), lines  # the copy under /tmp is the assay that ran
    assert lines[1] == f"True b'{venv}\\n' b''", done.stdout  # the code ran, on the venv's Python under /tmp
