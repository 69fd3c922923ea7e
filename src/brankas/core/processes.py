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
