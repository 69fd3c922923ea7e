"""What a backup asks of the custody of its disk, without importing the custody app.

``web/custody`` keeps where each disk is (in a safe, out, offsite, retired, lost) and is
about backup disks, so it depends on ``web/backup`` (``Medium``); backup must not depend
on it in turn. A run asks custody two things, through this hook, which the custody app
fills in when Django starts (``custody.apps.CustodyConfig.ready``):

- ``check_backup(medium_id)``: refuse a disk that custody records as in a safe, offsite,
  retired or lost, before anything on it is touched;
- ``first_seen(medium=, actor=)``: a disk used for the first time is out of any safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brankas.web.accounts.models import User
    from brankas.web.backup.models import Medium


@dataclass(frozen=True)
class CustodyHook:
    check_backup: Callable[[str], None]
    first_seen: Callable[..., None]  # (*, medium: Medium, actor: User)


_hook: CustodyHook | None = None


def register(hook: CustodyHook) -> None:
    global _hook
    _hook = hook


def custody() -> CustodyHook:
    if _hook is None:
        raise RuntimeError("the custody app (brankas.web.custody) is not installed: "
                           "a backup cannot check where its disk is")
    return _hook


def check_backup(medium_id: str) -> None:
    custody().check_backup(medium_id)


def first_seen(*, medium: Medium, actor: User) -> None:
    custody().first_seen(medium=medium, actor=actor)
