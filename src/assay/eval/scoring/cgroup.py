"""Bounds on a whole sandboxed run (all its processes together) with a cgroup of its own.

``RLIMIT_AS`` and ``RLIMIT_NPROC`` bound each process; 16 processes of 1 GB each in each of several runs at
once can still exhaust the host. Where this process's cgroup lets it make child cgroups with the memory and
pids controllers (cgroup v2 ``memory.max``/``pids.max``, or the v1 ``memory`` and ``pids`` hierarchies), each
run gets ``assay-sandbox-<pid>-<n>`` below it: memory (swap included) and tasks are capped for the run as a
whole. Where none is writable, ``available()`` says why and the sandbox logs it once.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass

_PREFIX = "assay-sandbox-"
_counter = itertools.count()


@dataclass(frozen=True)
class Parents:
    """The directories under which runs' cgroups are made: one per hierarchy (v2: one for both)."""

    version: int
    memory: str
    pids: str


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount point, root inside the hierarchy, fs type, super options) of each cgroup mount."""
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fields, kinds = left.split(), right.split()
            if len(fields) >= 5 and len(kinds) >= 3 and kinds[0] in ("cgroup", "cgroup2"):
                found.append((fields[4], fields[3], kinds[0], set(kinds[2].split(","))))
    return found


def _own_dir(mount_point: str, root: str, path: str) -> str:
    relative = path[len(root):] if root != "/" and path.startswith(root) else path
    candidate = os.path.join(mount_point, relative.lstrip("/"))
    return candidate if os.path.isdir(candidate) else mount_point


def _v2(mounts: list, paths: dict[str, str]) -> tuple[Parents | None, str]:
    for point, root, kind, _options in mounts:
        if kind != "cgroup2" or "" not in paths:
            continue
        parent = _own_dir(point, root, paths[""])
        try:
            with open(os.path.join(parent, "cgroup.controllers")) as handle:
                controllers = handle.read().split()
            if not {"memory", "pids"} <= set(controllers):
                return None, f"cgroup v2 at {parent} has no memory/pids controller"
            with open(os.path.join(parent, "cgroup.subtree_control")) as handle:
                enabled = set(handle.read().split())
            if not {"memory", "pids"} <= enabled:  # refused (EBUSY) while this cgroup holds processes itself
                with open(os.path.join(parent, "cgroup.subtree_control"), "w") as handle:
                    handle.write("+memory +pids")
        except OSError as exc:
            return None, f"cgroup v2 at {parent}: {exc.strerror}"
        return Parents(2, parent, parent), ""
    return None, "no cgroup v2 mount"


def _v1(mounts: list, paths: dict[str, str]) -> tuple[Parents | None, str]:
    parents = {}
    for controller in ("memory", "pids"):
        for point, root, kind, options in mounts:
            if kind == "cgroup" and controller in options:
                path = next((p for names, p in paths.items() if controller in names.split(",")), "/")
                parents[controller] = _own_dir(point, root, path)
    if set(parents) != {"memory", "pids"}:
        return None, "no cgroup v1 memory and pids hierarchies"
    return Parents(1, parents["memory"], parents["pids"]), ""


@functools.lru_cache(maxsize=1)
def available() -> tuple[Parents | None, str]:
    """Where runs' cgroups can be made (tried once, by making one), or None and the reason."""
    try:
        paths = {}
        with open("/proc/self/cgroup") as handle:
            for line in handle:
                _hierarchy, controllers, path = line.rstrip("\n").split(":", 2)
                paths[controllers] = path
        mounts = _mounts()
    except (OSError, ValueError) as exc:
        return None, f"cannot read this process's cgroups: {exc}"
    reasons = []
    for finder in (_v2, _v1):
        parents, reason = finder(mounts, paths)
        if parents is not None:
            try:
                remove(create(parents, 64 << 20, 4))
                return parents, ""
            except OSError as exc:
                reason = f"cgroup v{parents.version}: cannot make one under {parents.memory}: {exc.strerror}"
        reasons.append(reason)
    return None, "; ".join(reasons)


def create(parents: Parents, memory_bytes: int, tasks: int) -> list[str]:
    """Make one run's cgroup(s) with these caps; the directories made (the caller removes them)."""
    name = f"{_PREFIX}{os.getpid()}-{next(_counter)}"
    made: list[str] = []
    try:
        for parent in dict.fromkeys([parents.memory, parents.pids]):  # v2: one directory for both
            made.append(_make(os.path.join(parent, name)))
        _set_caps(made, memory_bytes, tasks)
    except OSError:
        remove(made)
        raise
    return made


def _set_caps(groups: list[str], memory_bytes: int, tasks: int) -> None:
    if len(groups) == 1:  # v2
        _write(groups[0], "memory.max", memory_bytes)
        _write(groups[0], "memory.swap.max", 0, optional=True)
        _write(groups[0], "pids.max", tasks)
    else:
        _write(groups[0], "memory.limit_in_bytes", memory_bytes)
        _write(groups[0], "memory.memsw.limit_in_bytes", memory_bytes, optional=True)
        _write(groups[1], "pids.max", tasks)


# Emptied cgroups kept for the next run: making and removing them (a memory cgroup above all) costs some ms.
_pool: list[list[str]] = []
_pool_lock = threading.Lock()


def take(parents: Parents, memory_bytes: int, tasks: int) -> list[str]:
    """A run's cgroup(s) with these caps: one left empty by an earlier run, else new ones."""
    with _pool_lock:
        groups = _pool.pop() if _pool else None
    if groups is not None:
        try:
            _set_caps(groups, memory_bytes, tasks)
            return groups
        except OSError:
            remove(groups)
    return create(parents, memory_bytes, tasks)


def give(groups: list[str]) -> None:
    """Back to the pool after a run if nothing is left in them, else removed (what is left killed)."""
    if groups and all(_members(group) == [] for group in groups):
        with _pool_lock:
            _pool.append(groups)
    else:
        remove(groups)


@atexit.register
def _remove_pool() -> None:
    with _pool_lock:
        for groups in _pool:
            remove(groups)
        _pool.clear()


def _make(path: str) -> str:
    os.mkdir(path)
    return path


def _write(directory: str, name: str, value: int, optional: bool = False) -> None:
    try:
        with open(os.path.join(directory, name), "w") as handle:
            handle.write(str(value))
    except OSError:
        if not optional:  # swap caps: absent (or refused) where swap is not accounted
            raise


def remove(directories: list[str]) -> None:
    """Kill what is left in each cgroup and remove it (a cgroup goes only once its last task is reaped)."""
    for directory in directories:
        for _ in range(200):
            try:
                os.rmdir(directory)
                break
            except FileNotFoundError:
                break
            except OSError:
                _kill_members(directory)
                time.sleep(0.01)


def _members(directory: str) -> list[int] | None:
    try:
        with open(os.path.join(directory, "cgroup.procs")) as handle:
            return [int(line) for line in handle if line.strip()]
    except (OSError, ValueError):
        return None


def _kill_members(directory: str) -> None:
    for pid in _members(directory) or []:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def remove_stale(parents: Parents, alive) -> None:  # noqa: ANN001 - alive: pid -> bool
    """Remove the runs' cgroups left by sandboxes whose assay is gone."""
    for parent in {parents.memory, parents.pids}:
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            owner = name[len(_PREFIX):].partition("-")[0]
            if name.startswith(_PREFIX) and owner.isdigit() and not alive(int(owner)):
                remove([os.path.join(parent, name)])
