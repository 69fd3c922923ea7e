"""Processes of this computer: whether one that left a record (a job's worker, a private
OCR folder's owner) is still running; the environment of a Python child Brankas starts
with ``python -m`` (``module_env``)."""

from __future__ import annotations

import os
from collections.abc import Mapping


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this computer. On Windows ``os.kill`` would end
    it, so the answer is always yes there: the caller decides by other signs (a job's
    heartbeat, a folder's age)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def module_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``base`` (this process's environment by default) with ``extra``, for a child run
    with ``python -m`` (the staging child, the audit segment's, the re-encrypting
    helpers, the text layer, the OCR engine, recover's instance). ``python -m`` puts the
    folder the child was started in first on its import path: a ``json.py`` or
    ``hashlib.py`` there (a hostile disk's root, a download folder) would be imported in
    place of the standard library's, in a process that may be handed the keys (s25
    review). ``PYTHONSAFEPATH`` (Python 3.11) leaves that folder off the path."""
    env = dict(os.environ if base is None else base, **extra)
    env["PYTHONSAFEPATH"] = "1"
    return env


def steady_heap() -> bool:
    """Keep this process's large allocations (128 KiB and more) out of its heap, from now
    on (glibc's ``mallopt(M_MMAP_THRESHOLD)``, which also turns off glibc's raising of
    that threshold; elsewhere nothing is done); whether it could. Each such block then
    has its own mapping, given back to the system when it is freed. By default glibc
    raises the threshold each time such a block is freed (up to 32 MiB), and the next
    ones go into the heap, where a freed one leaves a hole the heap keeps: the growing
    tables of a run's 100,000-file manifest left the backup's peak about 7 MiB higher
    (s26, docs/benchmarks.md). The cost: a map and an unmap for each large block, a few
    dozen a checkpoint."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD = 128 << 10  # glibc's own starting value
