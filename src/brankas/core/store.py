"""The working store: the SOP's four folders under ``BRANKAS_HOME/arsip``.

``arsip/{biasa,dikecualikan}/{pengiriman,penerimaan}/YYYY/<agenda>-<slug>.pdf[.age]``.
A document is written once: to a staging file in ``BRANKAS_HOME/tmp`` (ciphertext only,
for exempted documents), fsynced, then renamed into place. Plaintext of an exempted
document exists only in memory buffers on its way through the cipher.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from brankas.core import crypto, fsutil
from brankas.core.config import Settings
from brankas.core.names import safe_component, slug
from brankas.core.terms import ARCHIVE_DIR, Category, Direction, store_folders


class HashingReader(io.RawIOBase):
    """Reads through to ``raw`` and hashes what passes."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.hash.update(memoryview(buffer)[:n])
            self.size += n
        return n or 0


class HashingWriter(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.hash.update(data)
        self.raw.write(data)
        n = len(data)
        self.size += n
        return n


@dataclass(frozen=True)
class Staged:
    path: Path
    content_sha256: str  # of the PDF itself (the plaintext)
    content_size: int
    stored_sha256: str  # of the file as stored (ciphertext for exempted)
    stored_size: int
    suite: str | None


def create_layout(settings: Settings) -> None:
    for category, direction in store_folders():
        (settings.archive / category.value / direction.value).mkdir(parents=True, exist_ok=True)
    settings.tmp.mkdir(parents=True, exist_ok=True)


def relative_path(
    *, category: Category, direction: Direction, year: int, agenda: str, subject: str
) -> PurePosixPath:
    stem = safe_component(f"{agenda}-{slug(subject, max_len=50)}", max_len=100)
    ext = ".pdf" + (crypto.EXTENSION if category is Category.EXEMPTED else "")
    return PurePosixPath(ARCHIVE_DIR, category.value, direction.value, f"{year:04d}", stem + ext)


def stage(settings: Settings, src: BinaryIO, *, recipients: list[str] | None) -> Staged:
    """Write ``src`` to a staging file, encrypted to ``recipients`` when given."""
    with fsutil.staged_file(settings.tmp) as (path, fh):
        reader = HashingReader(src)
        writer = HashingWriter(fh)
        if recipients:
            crypto.encrypt_stream(reader, writer, recipients)  # type: ignore[arg-type]
        else:
            fsutil.copy_stream(reader, writer)  # type: ignore[arg-type]
    return Staged(
        path=path,
        content_sha256=reader.hash.hexdigest(),
        content_size=reader.size,
        stored_sha256=writer.hash.hexdigest(),
        stored_size=writer.size,
        suite=crypto.SUITE if recipients else None,
    )


def place(settings: Settings, staged: Staged, relative: PurePosixPath) -> Path:
    final = settings.home.joinpath(*relative.parts)
    fsutil.publish(staged.path, final)
    return final


def absolute(settings: Settings, relative: str) -> Path:
    return settings.home.joinpath(*PurePosixPath(relative).parts)


def discard(staged: Staged) -> None:
    staged.path.unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(fsutil.CHUNK)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()
