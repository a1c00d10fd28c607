"""A filesystem allow-list for sandboxed code, with Linux Landlock (unprivileged, kernel 5.13+).

Landlock lets a process give up access rights for itself and its future children; the kernel then checks
every file access against the rules, on top of the usual permissions (so even a capability such as
``CAP_DAC_READ_SEARCH`` cannot get around it). The sandbox applies a ``FsPolicy`` in the child right before
it runs the code:

- read (and execute): the system's library and program directories, this Python's installation and its
  site-packages, and the few files of ``/etc`` and ``/dev`` an interpreter needs;
- read and write: the run's own working directory, ``/dev/null``;
- nothing else: not the user's home, not the repository, not ``/tmp``, not other files of ``/etc``.

From ABI 4 TCP ``bind``/``connect`` are denied too, and from ABI 6 signals to processes outside the
sandbox and abstract unix sockets; ptrace of outside processes is always denied. Where the kernel has no
Landlock (``abi_version() == 0``) the sandbox runs without this layer and says so.

The constants are those of the kernel's ``include/uapi/linux/landlock.h``.
"""

from __future__ import annotations

import ctypes
import functools
import os
import struct
import sys

# System call numbers (the same on every architecture that has these calls through the generic table,
# except where noted; x86_64 and aarch64 agree).
_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE = 1 << 0
_WRITE_FILE = 1 << 1
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3
_TRUNCATE = 1 << 14
_IOCTL_DEV = 1 << 15
_NET_BIND_TCP = 1 << 0
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1

_READ = _EXECUTE | _READ_FILE | _READ_DIR
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV

_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/proc", "/sys/devices/system/cpu")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
                 "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/dev/zero", "/dev/urandom", "/dev/random")
_READ_WRITE_FILES = ("/dev/null",)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _fs_rights(abi: int) -> int:
    """Every filesystem right this ABI knows (all of them are handled, so all are denied unless granted)."""
    if abi >= 5:
        return (1 << 16) - 1
    if abi >= 3:
        return (1 << 15) - 1
    if abi >= 2:
        return (1 << 14) - 1
    return (1 << 13) - 1


@functools.lru_cache(maxsize=1)
def abi_version() -> int:
    """The kernel's Landlock ABI version, or 0 where Landlock is missing or disabled."""
    if sys.platform != "linux" or os.uname().machine not in ("x86_64", "aarch64", "arm64"):
        return 0
    version = _libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(0, int(version))


class FsPolicy:
    """The paths a sandboxed run may read and the ones it may also write.

    A plain class, and the imports of this module kept light: the sandbox's init loads it for every run, where
    ``dataclasses`` alone would cost some 10 ms.
    """

    __slots__ = ("read", "read_write")

    def __init__(self, read: tuple[str, ...], read_write: tuple[str, ...]) -> None:
        self.read, self.read_write = read, read_write


def python_dirs() -> tuple[str, ...]:
    """The interpreter's own directories (prefixes, stdlib, site-packages), resolved."""
    import site
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            paths.add(path)
    try:
        paths.update(site.getsitepackages())
    except AttributeError:  # some virtualenv builds lack it
        pass
    return tuple(sorted(os.path.realpath(p) for p in paths if p and os.path.exists(p)))


@functools.lru_cache(maxsize=1)
def _shared_paths() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The paths every run may read, and the ones it may also write besides its directory (found once)."""
    read = tuple(p for p in (*_SYSTEM_DIRS, *_SYSTEM_FILES, *python_dirs()) if os.path.exists(p))
    return read, tuple(p for p in _READ_WRITE_FILES if os.path.exists(p))


def policy_for(workdir: str) -> FsPolicy:
    """What code running in ``workdir`` may touch."""
    read, read_write = _shared_paths()
    return FsPolicy(read=read, read_write=(workdir, *read_write))


def restrict(policy: FsPolicy, abi: int) -> None:
    """Confine this process (and what it runs next) to ``policy``; for a child between fork and exec.

    Raises ``OSError`` if the kernel refuses; the caller decides whether that is fatal.
    """
    fs = _fs_rights(abi)
    if abi >= 6:
        attr = struct.pack("=QQQ", fs, _NET_BIND_TCP | _NET_CONNECT_TCP, _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL)
    elif abi >= 4:
        attr = struct.pack("=QQ", fs, _NET_BIND_TCP | _NET_CONNECT_TCP)
    else:
        attr = struct.pack("=Q", fs)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _check(_libc.syscall(_SYS_CREATE_RULESET, buffer, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0)))
    try:
        for path in policy.read:
            _allow(ruleset, path, _READ & fs)
        for path in policy.read_write:
            _allow(ruleset, path, fs)
        # Always, root too: without no_new_privs a setuid-root helper run from the sandbox gets euid 0.
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        _check(_libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)))
    finally:
        os.close(ruleset)


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # gone since the policy was made: nothing to allow
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        attr = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)  # packed struct
        _check(_libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), attr,
                             ctypes.c_uint32(0)))
    finally:
        os.close(fd)


def _check(result: int) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"landlock: {os.strerror(errno)}")
    return int(result)
