"""Durable file writes: write to a staging name, fsync, rename, fsync the folder."""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from brankas.core.errors import SetupError

CHUNK = 1 << 20


def fsync_dir(path: Path) -> None:
    """Make a rename durable. Windows cannot open folders for fsync; NTFS journals renames."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_file(staging_dir: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """Open a fresh staging file; it is removed if the block fails."""
    staging_dir.mkdir(parents=True, exist_ok=True)
    path = staging_dir / f"{uuid.uuid4().hex}.part"
    fh = open(path, "xb")  # noqa: SIM115 - closed below in every path
    try:
        yield path, fh
        fh.flush()
        os.fsync(fh.fileno())
    except OSError as exc:
        fh.close()
        path.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise SetupError("disk_full", path=str(staging_dir)) from exc
        raise
    except BaseException:
        fh.close()
        path.unlink(missing_ok=True)
        raise
    fh.close()


def publish(staged: Path, final: Path) -> None:
    """Move a complete, fsynced staging file to its final name, never over an existing file."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        raise FileExistsError(final)
    os.replace(staged, final)
    fsync_dir(final.parent)


def copy_stream(src: BinaryIO, dst: BinaryIO, on_chunk=None) -> int:  # type: ignore[no-untyped-def]
    total = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while True:
        n = src.readinto(buf)  # type: ignore[attr-defined]
        if not n:
            return total
        chunk = view[:n]
        if on_chunk is not None:
            on_chunk(chunk)
        dst.write(chunk)
        total += n
