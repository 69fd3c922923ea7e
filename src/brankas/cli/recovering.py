"""Building a recovered instance beside its final folder, all or nothing.

``brankas recover DEST --home NEW`` builds the instance in a sibling folder
``.NEW.recovering-<random>`` (same parent, so the same file system) that carries a marker
file, and renames it to NEW only once it is complete. A kill at any moment leaves either
nothing at NEW or a finished instance; the sibling a killed run left is recognised by its
marker and removed by the next run, which then works. Nothing else is ever removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from brankas.core import diskfs
from brankas.core.errors import SetupError
from brankas.core.fsutil import fsync_dir

MARKER = ".brankas-recovering"


def tie_to_parent() -> None:
    """A recover started by a drill (``BRANKAS_PARENT_PID``) ends when the drill's process
    ends, however it ends (Linux: ``PR_SET_PDEATHSIG``), instead of building an instance
    nobody will remove; where that is not available, the drill's folder is swept later."""
    parent = os.environ.get("BRANKAS_PARENT_PID")
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if str(os.getppid()) != parent:  # the drill ended before we could tie ourselves to it
        os._exit(1)


def check_target(home: Path) -> None:
    """NEW must be absent or an empty folder."""
    kind = diskfs.lkind(home)
    if kind is None:
        return
    if kind != "dir" or any(home.iterdir()):
        raise SetupError("recover_home_not_empty", path=str(home))


def _prefix(home: Path) -> str:
    return f".{home.name}.recovering-"


def _remove_leftovers(home: Path) -> None:
    """Siblings a killed recover into the same NEW left: real folders with our name and
    our marker file inside."""
    with contextlib.suppress(OSError):
        for entry in home.parent.iterdir():
            if (entry.name.startswith(_prefix(home)) and diskfs.lkind(entry) == "dir"
                    and diskfs.lkind(entry / MARKER) == "file"):
                shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def building(home: Path) -> Iterator[Path]:
    """Set Django up on a new instance in a sibling of ``home``; on a clean exit of the
    block, rename it to ``home``. On any error (or a kill) ``home`` is left as it was."""
    from brankas.cli.runtime import setup_django

    parent = home.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(home)
    temp = parent / f"{_prefix(home)}{uuid.uuid4().hex[:12]}"
    temp.mkdir(mode=0o700)
    try:
        (temp / MARKER).write_text(f"brankas recover into {home}\n", encoding="utf-8")
        os.environ["BRANKAS_HOME"] = str(temp)
        os.environ.pop("BRANKAS_DATABASE_URL", None)  # the rebuilt instance: SQLite
        setup_django()
        from django.conf import settings
        from django.core.management import call_command

        from brankas.core import store
        from brankas.core.config import ensure_home

        ensure_home(settings.BRANKAS)
        call_command("migrate", verbosity=0, interactive=False)
        store.create_layout(settings.BRANKAS)
        yield temp
    except BaseException:
        _close_database()
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _close_database()
    fsync_dir(temp)
    check_target(home)  # still absent or empty
    if diskfs.lkind(home) == "dir":
        home.rmdir()
    os.replace(temp, home)
    fsync_dir(parent)
    (home / MARKER).unlink()


def _close_database() -> None:
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()
