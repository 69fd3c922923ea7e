"""Recovering an instance from a backup disk into a new home, all or nothing.

``recover(dest=DISK, home=NEW)`` builds the instance in a sibling folder
``.NEW.recovering-<random>`` (same parent, so the same file system) that carries a marker
file, and renames it to NEW only once it is complete. A kill at any moment leaves either
nothing at NEW or a finished instance; the sibling a killed run left is recognised by its
marker and removed by the next run, which then works. Nothing else is ever removed.

The rebuild needs Django set up on the new home, in a process that has not set it up on
another: ``brankas recover`` is such a process, and the drill starts one
(``recover_in_child``: ``python -m brankas.instance recover``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brankas.core.disk import fs as diskfs
from brankas.core.disk.reader import BagReader
from brankas.core.errors import SetupError
from brankas.core.fsutil import fsync_dir

if TYPE_CHECKING:
    from brankas.web.backup.recover import RecoverReport

MARKER = ".brankas-recovering"
PARENT_PID = "BRANKAS_PARENT_PID"  # set for the drill's child: it ends with the drill

Progress = Callable[[int, int, int, int], None]


def tie_to_parent() -> None:
    """A recover started by a drill (``BRANKAS_PARENT_PID``) ends when the drill's process
    ends, however it ends (Linux: ``PR_SET_PDEATHSIG``), instead of building an instance
    nobody will remove; where that is not available, the drill's folder is swept later."""
    parent = os.environ.get(PARENT_PID)
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


def _django_is_set_up() -> bool:
    from django.conf import settings

    return bool(settings.configured)


@contextlib.contextmanager
def recover_into(home: Path) -> Iterator[Path]:
    """Set Django up on a new instance in a sibling of ``home`` (prepared, migrated, laid
    out); on a clean exit of the block, rename it to ``home``. On any error (or a kill)
    ``home`` is left as it was and the sibling removed: the rollback."""
    from brankas import instance

    if _django_is_set_up():
        raise RuntimeError("recovering into a new home needs a process of its own: Django "
                           "is already set up here (recover_in_child starts one)")
    parent = home.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(home)
    temp = parent / f"{_prefix(home)}{uuid.uuid4().hex[:12]}"
    temp.mkdir(mode=0o700)
    try:
        (temp / MARKER).write_text(f"brankas recover into {home}\n", encoding="utf-8")
        os.environ["BRANKAS_HOME"] = str(temp)
        os.environ.pop("BRANKAS_DATABASE_URL", None)  # the rebuilt instance: SQLite
        from brankas.core.register import store

        settings = instance.start()
        instance.migrate()
        store.create_layout(settings)
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


@dataclass(frozen=True)
class RecoverSource:
    """A disk to recover from and the new home to recover into, both found usable."""

    reader: BagReader
    home: Path


def recover_source(*, dest: Path | str, home: Path | str) -> RecoverSource:
    """Check that the new home is absent or empty and open the disk (before anyone is
    asked for a passphrase)."""
    target = Path(home).expanduser().absolute()
    check_target(target)
    return RecoverSource(reader=BagReader(dest), home=target)


def recover(source: RecoverSource, *, identity_text: str | None = None,
            passphrase: str | None = None, fingerprint: str | None = None,
            allow_older: bool = False, allow_unsigned: bool = False,
            on_progress: Progress | None = None,
            shares: Sequence[tuple[str, str]] | None = None) -> RecoverReport:
    """Rebuild a whole instance (register, users, keys, archive, control lists) from the
    disk into the new, empty home, all or nothing (``recover_into``). The recovery
    identity (``identity_text``, or rebuilt in memory from recovery ``shares``: (name,
    typed words) pairs) or a key holder's passphrase unlocks the disk."""
    from brankas.core.disk.layout import disk_identities

    reader = source.reader
    if shares is not None:
        from brankas.core.keyring import shares as core_shares

        # No instance yet to compare with: a key that is not the office's opens no
        # snapshot, and the disk's seals are checked against the anchors as always.
        identities: list[Any] = [core_shares.identity(shares)]
        unlocked_with = "recovery shares"
    else:
        identities, unlocked_with = disk_identities(reader, passphrase=passphrase,
                                                    identity_text=identity_text)
    with recover_into(source.home):
        from brankas.web.backup.recover import instance_recover

        report = instance_recover(
            dest=reader.dest, identities=identities, unlocked_with=unlocked_with,
            secrets=[(unlocked_with, str(i)) for i in identities],
            fingerprint=fingerprint, allow_older=allow_older,
            allow_unsigned=allow_unsigned, on_progress=on_progress)
    report.home = str(source.home)
    return report


def recover_in_child(*, dest: Path, home: Path, passphrase: str | None = None,
                     fingerprint: str | None, identity_text: str | None = None
                     ) -> dict[str, Any]:
    """``recover`` in a process of its own (its own Django, its own database), as an
    office would run it: ``python -m brankas.instance recover``, tied to this process (it
    ends if this one does). A key holder's passphrase travels in the child's environment;
    the recovery identity (``identity_text``, rebuilt from shares) only through its
    standard input (``--identity-stdin``), never a file or the environment. Returns its
    report as a dict with ``exit``; a refusal is ``ok`` false with the ``error`` it
    printed."""
    if (passphrase is None) == (identity_text is None):
        raise ValueError("recover_in_child: a passphrase or an identity, one of the two")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_LANG": os.environ.get("BRANKAS_LANG", "id"),
                PARENT_PID: str(os.getpid())})
    args = [sys.executable, "-m", "brankas.instance", "recover", str(dest), "--home",
            str(home)]
    if passphrase is not None:
        env["BRANKAS_PASSPHRASE"] = passphrase
    else:
        args.append("--identity-stdin")
    if fingerprint is not None:
        args += ["--fingerprint", fingerprint]
    proc = subprocess.run(args, env=env, capture_output=True, text=True,  # noqa: S603
                          check=False, input=identity_text)
    try:
        out: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        out = {"ok": False, "error": (proc.stderr or proc.stdout).strip()[-2000:]}
    out["exit"] = proc.returncode
    return out
