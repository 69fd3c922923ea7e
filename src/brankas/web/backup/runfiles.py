"""The files a backup run makes before it copies them to the disk, and its lists.

A run over 100,000 documents must not hold them in memory (about 1 KB each: a register
row, a snapshot object, a control-list entry). What the run makes (the database
snapshot, the registers, the control list) is written piece by piece to files in the
instance's staging folder (``BRANKAS_HOME/tmp``, private to the owner), encrypted as it
is written when it must be (``crypto.encrypting_writer``: plaintext of a snapshot or
full register never reaches a file) and hashed on the way; the bag then copies those
files like any document. The list of documents the run copies, and of those it carried,
are spooled there too, one JSON line each, and read back one at a time. Every file is
removed when the run ends, whatever the outcome.

A killed run cannot remove its files (at 100,000 documents the snapshot alone is about
100 MB), so each run holds a lock file of its own (``backup-<id>.lock``, an operating
system lock, released by the kernel however the process dies) for as long as its files
exist, and every run, as it starts, removes the files of any run whose lock nobody
holds. Runs to several disks at once leave each other's files alone. Files of a run made
before these locks (no lock file) are left to ``store.sweep_staging``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from brankas.core import crypto, fsutil
from brankas.core.register.store import HashingWriter

if TYPE_CHECKING:  # the disk's writer (~6 ms of imports): not for an offsite push (s20)
    from brankas.core.disk.bag import PayloadItem

BUFFER = 1 << 20
PREFIX = "backup-"
LOCK_SUFFIX = ".lock"
STARTING = 3600  # seconds a lock file still under its temporary name is left alone


@dataclass(frozen=True)
class Written:
    """A finished file: where it is, its size and SHA-256 (as it will be on the disk)."""

    path: Path
    size: int
    sha256: str
    # Written straight into the backup disk's staging folder (``RunFiles`` ``disk``, s27):
    # the bag lists it there, read back, instead of copying it.
    on_disk: bool = False

    def item(self, payload_path: str, ref: Any = None) -> PayloadItem:
        from brankas.core.disk.bag import PayloadItem

        path = self.path
        return PayloadItem(payload_path, lambda: open(path, "rb"), self.size,  # noqa: SIM115
                           self.sha256, ref, staged=str(path) if self.on_disk else None)


class DiskStaging(Protocol):
    """Where a run writes the files it puts on a backup disk (``disk.bag.Bag``): new names
    in the disk's staging folder, and the disk's errors (full, gone) made clear."""

    def staging_file(self, suffix: str) -> str: ...

    def on_disk(self) -> contextlib.AbstractContextManager[None]: ...


# A file written to a backup disk is made as the bag makes its copies (``stagerproc``):
# new (O_EXCL: nothing there is followed or replaced), with the default permissions.
_DISK_FILE = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
              | getattr(os, "O_CLOEXEC", 0))


class _WholeWrites(io.FileIO):
    """A file on the backup disk that takes every byte it is given or raises: a write
    that only partly fits (the disk filling up, which Linux reports by writing less, not
    by an error) goes on with the rest, and the disk's error (full) is then raised.
    ``HashingWriter`` hashes and counts what it hands on, not what the file took: a
    short write would leave a file shorter than its record (s27 review). Its own
    OSErrors, and only those, are the disk's (``errors``: full, gone): one of the
    computer's, met by the code that writes, stays what it is."""

    def __init__(self, fd: int, errors: Callable[[], contextlib.AbstractContextManager[None]]
                 ) -> None:
        super().__init__(fd, "wb", closefd=True)
        self._errors = errors

    def write(self, data: Any) -> int:
        with self._errors():
            return self._write_all(data)

    def _write_all(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            n = super().write(view[done:])
            if not n:  # nothing taken (never on a regular file): no endless loop
                raise OSError(errno.ENOSPC, "the disk took none of the bytes written")
            done += n
        return done

    def close(self) -> None:
        if not self.closed:
            with self._errors():
                super().close()


class RunFiles:
    """A run's working files in ``folder`` (made private if missing); ``close`` (or the
    end of the ``with`` block) removes them all.

    With ``disk`` (a backup run, s27), the files ``write`` and ``path`` make are the ones
    the run puts on that disk (the snapshot, the registers, the control list, the audit
    segments): they are written straight into its staging folder, encrypted and hashed on
    the way, and the bag lists them there once they are durable and read back, instead of
    copying them from ``folder`` (at 100,000 documents 665 MB less written to, and read
    from, the computer's own disk, which no longer needs room for them). The spools stay
    in ``folder``. A run that fails removes them as before; a run killed leaves them in
    the disk's staging folder, which the next run on it clears."""

    def __init__(self, folder: Path, disk: DiskStaging | None = None) -> None:
        fsutil.make_private_dir(folder)
        self.folder = folder
        self._disk = disk
        run = uuid.uuid4().hex[:12]
        self._prefix = f"{PREFIX}{run}-"
        self._paths: list[Path] = []
        self._lock_path = folder / f"{PREFIX}{run}{LOCK_SUFFIX}"
        self._lock: int | None = _hold_new_lock(self._lock_path)
        sweep_dead_runs(folder)

    def __enter__(self) -> RunFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for path in self._paths:
            with contextlib.suppress(OSError):
                path.unlink()
        self._paths.clear()
        if self._lock is not None:  # the files are gone: the lock goes last
            os.close(self._lock)
            self._lock = None
            with contextlib.suppress(OSError):
                self._lock_path.unlink()

    @property
    def on_disk(self) -> bool:
        """Whether ``write`` and ``path`` make their files on the backup disk."""
        return self._disk is not None

    def path(self, name: str) -> Path:
        """The path of the file ``name`` of this run, made by another process (the early
        audit segment, ``segmentproc``): removed with the run's files, or with them by
        ``sweep_dead_runs`` once this run's lock is free (on the disk: with its staging
        folder)."""
        if self._disk is None:
            return self._home(name)
        path = Path(self._disk.staging_file(".part"))
        self._paths.append(path)
        return path

    def _home(self, name: str) -> Path:
        """A new path of this run's in ``folder``, removed at the close."""
        path = self.folder / f"{self._prefix}{name}.part"
        self._paths.append(path)
        return path

    def _new(self, name: str, *, disk: bool = False) -> tuple[Path, IO[bytes]]:
        # ``.part``: a run killed before it removes them leaves staging files that the
        # next ``brankas serve`` sweeps (``store.sweep_staging``).
        if disk and self._disk is not None:
            path = Path(self._disk.staging_file(".part"))
            # Removed at the close only once made here: a name that already held a file
            # (``O_EXCL`` refused it) is not the run's to remove (s27 review).
            with self._disk.on_disk():
                fd = os.open(path, _DISK_FILE, 0o666)
            self._paths.append(path)
            return path, _WholeWrites(fd, self._disk.on_disk)
        path = self._home(name)
        return path, fsutil.open_private(path, buffering=0)

    @contextlib.contextmanager
    def write(self, name: str, *, recipients: list[str] | None = None
              ) -> Iterator[tuple[IO[bytes], list[Written]]]:
        """Write the file ``name``: yields a binary stream and a list that holds the
        ``Written`` record once the block ends. With ``recipients`` the bytes written
        are encrypted to them on the way (age); the record describes the ciphertext."""
        done: list[Written] = []
        # The disk's errors (full, gone) are made clear where its file is made and written
        # (``_WholeWrites``), not around the block: an OSError of the computer's own (a
        # list read from ``folder``) is not the backup disk's (s27 review).
        path, raw = self._new(name, disk=True)
        with raw:
            hashed = HashingWriter(raw)  # type: ignore[arg-type]
            buffered = io.BufferedWriter(hashed, buffer_size=BUFFER)
            if recipients:
                with crypto.encrypting_writer(buffered, recipients) as out:
                    yield out, done
            else:
                yield buffered, done
            buffered.flush()
        done.append(Written(path, hashed.size, hashed.hash.hexdigest(), on_disk=self.on_disk))

    def spool(self, name: str) -> Spool:
        path, raw = self._new(name)
        return Spool(path, io.BufferedWriter(raw, buffer_size=BUFFER))  # type: ignore[arg-type]


# One encoder and decoder for every line (``json.dumps`` with options makes an encoder
# per call: a run spools 100,000 documents and reads them back several times).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_DECODE = json.JSONDecoder().decode


class Spool:
    """A list written once, one JSON value a line, and read back lazily (any number of
    times) once ``close``d."""

    def __init__(self, path: Path, out: IO[bytes]) -> None:
        self.path = path
        self._out: IO[bytes] | None = out
        self.count = 0

    def add(self, value: Any) -> None:
        assert self._out is not None, "the spool is closed"
        self._out.write(_ENCODE(value).encode("utf-8") + b"\n")
        self.count += 1

    def extend(self, values: Iterable[Any]) -> None:
        for value in values:
            self.add(value)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def flush(self) -> None:
        if self._out is not None:
            self._out.flush()

    def __iter__(self) -> Iterator[Any]:
        self.flush()
        decode = _DECODE
        with open(self.path, encoding="utf-8", buffering=BUFFER) as fh:
            for line in fh:
                yield decode(line)


# -- the runs' locks ---------------------------------------------------------------------

def _try_lock(fd: int) -> bool:
    """Take the lock of ``fd`` exclusively without waiting; False when another process
    holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _hold_new_lock(path: Path) -> int:
    """Create the lock file ``path`` already locked by this process: made and locked under
    a temporary name, then renamed, so no sweeper ever finds it unlocked. (Windows cannot
    rename an open file: there it is made in place.)"""
    temp = path if sys.platform == "win32" else path.with_name(path.name + ".new")
    fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 fsutil.PRIVATE_FILE)
    try:
        # A new file nobody else has opened: the lock fails only where the file system
        # has no locks (then every sweeper fails to take it too, and leaves the run be).
        _try_lock(fd)
        if temp != path:
            os.replace(temp, path)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return fd


def sweep_dead_runs(folder: Path) -> list[Path]:
    """Remove the files of every run in ``folder`` whose lock no process holds (a run
    killed, or cut off by a power failure), then its lock file. Returns what was
    removed."""
    removed: list[Path] = []
    try:
        locks = [p for p in folder.glob(f"{PREFIX}*{LOCK_SUFFIX}*") if p.is_file()]
    except OSError:
        return removed
    for lock in locks:
        run, dot, rest = lock.name[len(PREFIX):].partition(".")
        if (len(run) != 12 or any(c not in "0123456789abcdef" for c in run)
                or f"{dot}{rest}" not in {LOCK_SUFFIX, LOCK_SUFFIX + ".new"}):
            continue
        try:
            if rest != LOCK_SUFFIX[1:] and time.time() - lock.stat().st_mtime < STARTING:
                continue  # a run locking its new lock file this instant
            fd = os.open(lock, os.O_RDWR | getattr(os, "O_BINARY", 0))
        except OSError:
            continue  # gone meanwhile
        try:
            if not _try_lock(fd):
                continue  # a live run
            for path in folder.glob(f"{PREFIX}{run}-*.part"):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            lock.unlink()
            removed.append(lock)
    return removed
