"""Search folders for a marker: the plaintext-leak tests' scanner (shared by CLI and web).

Built on ``os.walk``, which skips folders that vanish or cannot be read while it walks: a
shared /tmp changes under our feet (other processes create and delete files there).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20
# The shared temporary folders, and this run's own (``make test`` puts it on a tmpfs).
SHARED_TEMP = tuple(dict.fromkeys((Path("/tmp"), Path("/var/tmp"), Path(tempfile.gettempdir()))))


def held_files() -> dict[tuple[int, int], int]:
    """The files this process holds open, by (device, inode): their descriptor.

    A file this process has open is read through that descriptor (``os.pread``), never
    opened and closed again: closing any descriptor of a file drops every POSIX lock the
    process holds on it, and SQLite's locks on its database and its ``-shm`` (the WAL
    index, which it maps in memory) are such locks. A scan of /tmp that opened this
    process's own test database let another process (the backup's segment child) find the
    index unlocked, reset it (``ftruncate`` to 3 bytes), and this process died of SIGBUS
    reading its mapping (s28). ``/dev/fd`` lists the descriptors on Linux and macOS; where
    there is none (Windows, whose locks are not dropped so), nothing is held."""
    try:
        names = os.listdir("/dev/fd")
    except OSError:
        return {}
    import fcntl  # POSIX, as /dev/fd is

    held: dict[tuple[int, int], int] = {}
    for name in names:
        try:
            fd = int(name)
            st = os.fstat(fd)
            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                continue  # not readable through it (SQLite's are read-write): opened anew
        except (ValueError, OSError):
            continue  # the listing's own descriptor, closed by now
        held.setdefault((st.st_dev, st.st_ino), fd)
    return held


def read_chunks(path: Path | str, held: dict[tuple[int, int], int]) -> Iterator[bytes]:
    """The bytes of the file ``path`` in pieces of ``CHUNK``, read through this process's
    own descriptor when it holds the file open (``held_files``)."""
    st = os.stat(path, follow_symlinks=False)
    fd = held.get((st.st_dev, st.st_ino))
    if fd is not None:
        offset = 0
        while chunk := os.pread(fd, CHUNK, offset):
            yield chunk
            offset += len(chunk)
        return
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def file_contains(path: Path, marker: bytes,
                  held: dict[tuple[int, int], int] | None = None) -> bool:
    tail = b""
    for chunk in read_chunks(path, held_files() if held is None else held):
        if marker in tail + chunk:
            return True
        tail = chunk[-len(marker):]
    return False


def scan_for(marker: bytes, roots: list[Path] | tuple[Path, ...], *,
             since: float | None = None, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Files under ``roots`` that contain ``marker``. With ``since``, files last written
    before that time are skipped (a leak from a test is written during it), which keeps a
    scan of a shared /tmp fast. Files under ``exclude`` (the test's own source) are skipped.

    Every regular file is looked at (symbolic links are neither followed nor read, as
    ``os.walk`` does not follow them); ``os.scandir`` gives each entry's type with the
    folder's listing, so a file costs one ``stat`` (its time, with ``since``) and no Path
    object until it is read: a shared /tmp holds a quarter of a million files here."""
    excluded = [str(x) for x in exclude]
    held = held_files()
    hits: list[Path] = []
    for root in roots:
        pending = [str(root)]
        while pending:
            folder = pending.pop()
            try:
                listing = os.scandir(folder)
            except OSError:  # vanished or unreadable while we walk
                continue
            with listing:
                for entry in listing:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                            continue
                        if not entry.is_file(follow_symlinks=False):
                            continue  # a symbolic link, a socket, a pipe…
                        if excluded and any(entry.path == x or entry.path.startswith(
                                x.rstrip(os.sep) + os.sep) for x in excluded):
                            continue
                        if since is not None and entry.stat(
                                follow_symlinks=False).st_mtime < since:
                            continue
                        if file_contains(Path(entry.path), marker, held):
                            hits.append(Path(entry.path))
                    except OSError:  # vanished, unreadable…
                        continue
    return hits
