"""Processes of this computer: whether one that left a record (a job's worker, a private
OCR folder's owner) is still running."""

from __future__ import annotations

import os


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
