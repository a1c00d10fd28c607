"""Hide secrets given on assay's command line from ``/proc/<pid>/cmdline`` (``ps``, other processes).

The kernel shows a process's arguments from its own memory (``arg_start``..``arg_end`` in
``/proc/self/stat``), so overwriting that memory in place changes what everyone reads; no privilege is needed.
Each secret is replaced by as many ``*`` (the layout stays, ``sys.argv`` keeps the real values for the CLI):
the value of any ``--…key…``/``--…token…``/``--…secret…``/``--…password…`` option (``--api-key VALUE`` or
``--api-key=VALUE``), the password of a URL (``https://user:PASSWORD@host``), such names' values inside a
URL's query or a JSON argument (``?api_key=VALUE``, ``{"api_key": "VALUE"}``), and anything shaped like an
OpenAI-style key (``sk-…``). A second line of defence: the sandbox already keeps code away from assay's /proc.
"""

from __future__ import annotations

import ctypes
import re
import sys

_SECRET_NAME = r"[\w-]*(?:key|token|secret|password|passwd)(?![\w-])"  # api_key, hf-token; not max_tokens
_OPTION = re.compile(rb"--" + _SECRET_NAME.encode(), re.IGNORECASE)
_INLINE = re.compile(rb"(?i)([\"']?" + _SECRET_NAME.encode() + rb"[\"']?\s*[:=]\s*[\"']?)([^\"'\s,&}]+)")
_URL_PASSWORD = re.compile(rb"(://[^/\s:@]*:)([^/\s@]+)(@)")
_KEY_SHAPE = re.compile(rb"\b(sk-[A-Za-z0-9_-]{8,})")


def _stars(match: re.Match[bytes], group: int) -> bytes:
    whole, start = match.group(0), match.start(group) - match.start(0)
    return whole[:start] + b"*" * len(match.group(group)) + whole[start + len(match.group(group)):]


def mask(args: list[bytes]) -> list[bytes]:
    """``args`` with every secret replaced by ``*`` of the same length."""
    masked = []
    hide_next = False
    for arg in args:
        if hide_next:
            masked.append(b"*" * len(arg))
            hide_next = False
            continue
        hide_next = bool(_OPTION.fullmatch(arg))
        arg = _INLINE.sub(lambda m: _stars(m, 2), arg)
        arg = _URL_PASSWORD.sub(lambda m: _stars(m, 2), arg)
        arg = _KEY_SHAPE.sub(lambda m: _stars(m, 1), arg)
        masked.append(arg)
    return masked


def scrub_own_cmdline() -> bool:
    """Overwrite the secrets in this process's kernel-visible arguments; whether anything was rewritten."""
    if sys.platform != "linux":
        return False
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        arg_start, arg_end = int(fields[45]), int(fields[46])  # fields 48 and 49 of proc(5); [0] is field 3
        with open("/proc/self/cmdline", "rb") as handle:
            shown = handle.read()
    except (OSError, IndexError, ValueError):
        return False
    if not arg_start or arg_end - arg_start != len(shown) or ctypes.string_at(arg_start, len(shown)) != shown:
        return False  # not the plain layout (a process that already rewrote its title): leave it
    new = b"\0".join(mask(shown.split(b"\0")))
    if new == shown or len(new) != len(shown):
        return False
    ctypes.memmove(arg_start, new, len(new))
    return True
