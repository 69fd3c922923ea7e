"""Search folders for a marker: the plaintext-leak tests' scanner (shared by CLI and web).

Built on ``os.walk``, which skips folders that vanish or cannot be read while it walks: a
shared /tmp changes under our feet (other processes create and delete files there).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CHUNK = 1 << 20
# The shared temporary folders, and this run's own (``make test`` puts it on a tmpfs).
SHARED_TEMP = tuple(dict.fromkeys((Path("/tmp"), Path("/var/tmp"), Path(tempfile.gettempdir()))))


# The reader, in a process of its own (``files_containing``): the paths on its input
# (NUL-separated), the markers (hex) as arguments; on its output, for each file that holds
# any, its index and the markers' indexes. No import beyond ``sys`` and ``os``.
_READER = r"""
import os, stat, sys
markers = [bytes.fromhex(m) for m in sys.argv[1:]]
keep = max(len(m) for m in markers)
found = []
for i, path in enumerate(sys.stdin.buffer.read().split(b"\0")):
    if not path:
        continue
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0)
                     | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # vanished, unreadable, a link put there since the walk
        continue
    hits, tail = set(), b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            continue  # a FIFO or a device put there since the walk: never read
        while chunk := os.read(fd, CHUNK):
            data = tail + chunk
            hits.update(j for j, m in enumerate(markers) if m in data)
            tail = data[-keep:]
    except OSError:
        pass
    finally:
        os.close(fd)
    if hits:
        found.append(" ".join(map(str, [i, *sorted(hits)])))
sys.stdout.write("\n".join(found))
""".replace("CHUNK", str(CHUNK))


def files_containing(paths: list[str], markers: list[bytes]) -> dict[str, set[bytes]]:
    """Which of ``markers`` each file of ``paths`` holds (only the files that hold any).

    The files are read by a process of its own, never by this one: closing a descriptor
    of a file drops every POSIX lock this process holds on it, and SQLite's locks on its
    database and its ``-shm`` (the WAL index, which it maps in memory) are such locks. A
    scan of /tmp that opened and closed this process's own test database let another
    process (the backup's audit segment child) find the index unlocked and reset it
    (``ftruncate`` to 3 bytes), and this process died of SIGBUS reading its mapping
    (s28). Reading through this process's own descriptor instead went wrong when one was
    closed and its number reused meanwhile (s28 review)."""
    import subprocess
    import sys

    if not paths or not markers:
        return {}
    given = [os.fsencode(p) for p in paths]
    assert all(b"\0" not in p for p in given)
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-I", "-S", "-c", _READER, *(m.hex() for m in markers)],
        input=b"\0".join(given), capture_output=True, check=False, timeout=600)
    if done.returncode:
        raise AssertionError(f"the leak scanner's reader failed ({done.returncode}): "
                             f"{done.stderr[-2000:].decode('utf-8', 'replace')}")
    found: dict[str, set[bytes]] = {}
    for line in done.stdout.decode("ascii").splitlines():
        index, *which = map(int, line.split())
        found[paths[index]] = {markers[j] for j in which}
    return found


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
    candidates: list[str] = []
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
                        candidates.append(entry.path)
                    except OSError:  # vanished, unreadable…
                        continue
    return [Path(p) for p in files_containing(candidates, [marker])]
