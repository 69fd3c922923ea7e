"""The archive lock: re-encrypting the archive (a grant, a rekey) and copying it to a
disk (a backup) never run at the same time, in any process.

A backup reads the archive files lazily, one by one; a re-encryption replaces them (new
version, then the old one unlinked). The lock is a file, ``tmp/archive.lock``, locked
with the operating system's advisory lock, so a killed process releases it at once.
Backups take it shared (several backups to several disks may run together), a
re-encryption exclusively. On Windows (``msvcrt``, no shared locks) every holder takes it
exclusively. The file also says who holds it, for the refusal's message.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from brankas.core import fsutil
from brankas.core.errors import Conflict

NAME = "archive.lock"
_BUSY = {errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK}
# What holds the lock, named in the refusal (Bahasa Indonesia, English).
BACKUP = ("pencadangan", "a backup")
REWRAP = ("enkripsi ulang arsip (pemberian atau pembaruan kunci)",
          "the re-encryption of the archive (a key grant or rekey)")


def _lock(fd: int, shared: bool) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)


def _holder(path: Path) -> tuple[str, str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = json.loads(text.splitlines()[0]) if text.strip() else {}
        return (str(found["id"]), str(found["en"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return ("proses lain", "another process")


@contextlib.contextmanager
def archive_lock(tmp: Path, what: tuple[str, str], *, shared: bool = False) -> Iterator[None]:
    """Hold the archive lock (shared: a backup; exclusive: a re-encryption) for the block.
    Refused at once with ``rewrap_running`` naming the holder when it is taken."""
    fsutil.make_private_dir(tmp)
    path = tmp / NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), fsutil.PRIVATE_FILE)
    try:
        try:
            _lock(fd, shared)
        except OSError as exc:
            if exc.errno in _BUSY or sys.platform == "win32":
                raise Conflict("rewrap_running", what=_holder(path)) from None
            raise
        # Say who holds it (the refusal names it); backups sharing it write the same line.
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps({"id": what[0], "en": what[1]}).encode("utf-8") + b"\n")
        yield
    finally:
        os.close(fd)  # releases the lock
