"""What a backup, a verification and a drill tell the equipment register, without
importing it (issue 17).

``web/equipment`` reads the health of the disk under DEST (``smartctl``) and records it
with the free space after each use; it depends on ``web/backup``, not the other way
round. It fills this hook in when Django starts (``equipment.apps.EquipmentConfig.ready``);
without it the call does nothing. The hook never raises: reading a disk's health must
never stop a backup that has already succeeded (``after_use`` logs and swallows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_hook: Callable[..., Any] | None = None


def register(hook: Callable[..., Any]) -> None:
    global _hook
    _hook = hook


def after_use(**kwargs: Any) -> None:
    """``(*, medium, dest, actor, source, run=None, check=None)``: record the disk's health
    after a backup run, a verification or a drill."""
    if _hook is None or kwargs.get("medium") is None:
        return
    try:
        _hook(**kwargs)
    except Exception:  # never fails the backup, the verification or the drill
        log.exception("disk health not recorded")
