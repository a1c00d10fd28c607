"""A seccomp filter for sandboxed code: no unix sockets that could reach a host service (standard library only).

Landlock (up to ABI 7) does not check ``connect()`` to a named unix socket, and the network namespace does
not cover them, so a socket file anywhere the code can name (``/tmp/.X11-unix/X0``, ``/run/docker.sock``,
a user's agent socket) would accept it. seccomp cannot read the address ``connect()`` is given, so the filter
denies what such a connection needs first: ``socket(AF_UNIX, ...)``, and ``socketpair(AF_UNIX, SOCK_DGRAM)``
(a datagram socket of a pair may ``connect()`` elsewhere). Stream socket pairs (``multiprocessing``) still work.
``io_uring_setup`` is denied too (io_uring creates sockets without the ``socket`` system call), as are
system calls of another architecture's table (x32, or 32-bit on x86_64), which the filter would not check.
Denied calls fail with ``EACCES``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_LD_ABS, _JEQ, _JGE, _AND, _RET = 0x20, 0x15, 0x35, 0x54, 0x06
_X32_BIT = 0x40000000
_AF_UNIX, _SOCK_DGRAM = 1, 2  # as in <sys/socket.h> (not imported from socket: this loads in every run)

# (audit arch, socket, socketpair, io_uring_setup) per machine.
_ARCHES = {"x86_64": (0xC000003E, 41, 53, 425), "aarch64": (0xC00000B7, 198, 199, 425),
           "arm64": (0xC00000B7, 198, 199, 425)}


def supported() -> bool:
    """Whether this machine's system call numbers are known here."""
    return os.uname().machine in _ARCHES


def _program() -> list[tuple[int, int, int, int]]:
    """The filter as (code, jump if true, jump if false, k), with jumps resolved from labels."""
    arch, nr_socket, nr_socketpair, nr_io_uring = _ARCHES[os.uname().machine]
    arg0, arg1 = 16, 24  # low 32 bits of seccomp_data.args[0] and args[1] (little endian)
    deny = _RET_ERRNO | errno.EACCES
    lines: list[tuple[str, int, str | int, str | int, int]] = [
        ("", _LD_ABS, 0, 0, 4), ("", _JEQ, 1, 0, arch), ("", _RET, 0, 0, _RET_KILL_PROCESS),
        ("", _LD_ABS, 0, 0, 0), ("", _JGE, "deny", 0, _X32_BIT), ("", _JEQ, "deny", 0, nr_io_uring),
        ("", _JEQ, "socket", 0, nr_socket), ("", _JEQ, "pair", 0, nr_socketpair), ("", _RET, 0, 0, _RET_ALLOW),
        ("socket", _LD_ABS, 0, 0, arg0), ("", _JEQ, "deny", 0, _AF_UNIX), ("", _RET, 0, 0, _RET_ALLOW),
        ("pair", _LD_ABS, 0, 0, arg0), ("", _JEQ, 0, "allow", _AF_UNIX), ("", _LD_ABS, 0, 0, arg1),
        ("", _AND, 0, 0, 0xF), ("", _JEQ, "deny", 0, _SOCK_DGRAM),
        ("allow", _RET, 0, 0, _RET_ALLOW), ("deny", _RET, 0, 0, deny),
    ]
    where = {label: index for index, (label, *_rest) in enumerate(lines) if label}
    resolve = (lambda jump, pc: where[jump] - pc - 1 if isinstance(jump, str) else jump)
    return [(code, resolve(jt, pc), resolve(jf, pc), k) for pc, (_label, code, jt, jf, k) in enumerate(lines)]


def deny_unix_sockets() -> None:
    """Install the filter in this process (and what it runs next); needs no_new_privs set first."""
    program = b"".join(struct.pack("=HBBI", *line) for line in _program())
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("=H6xQ", len(program) // 8, ctypes.addressof(buffer))
    fprog_buffer = ctypes.create_string_buffer(fprog, len(fprog))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, fprog_buffer, 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"seccomp: {os.strerror(code)}")
