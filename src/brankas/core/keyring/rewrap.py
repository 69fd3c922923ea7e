"""Re-encrypting one stored file to new readers (a grant, a rekey), without Django.

Two ways, each into a staging file in ``tmp/`` (ciphertext only, hashed while it is
written, fsynced before it returns); the caller publishes it under the file's next
version name and records it; the file read is never changed:

- ``rewrap`` (a rekey): decrypts the file with the identities at hand and encrypts it
  again, as one stream (``crypto.reencrypt_stream``): a fresh file key;
- ``rewrap_header`` (a grant): the same file key for more readers. Only the age header is
  rewritten (``keyring.agehdr``: the file key unwrapped with one of the identities, the
  header's MAC checked, a new header for the readers) and the payload copied byte for
  byte; nothing is decrypted. The file read is hashed as it is read and must match the
  SHA-256 on record, else nothing is kept.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brankas.core import crypto, fsutil
from brankas.core.keyring import agehdr
from brankas.core.register.store import HashingWriter


@dataclass(frozen=True)
class Rewrapped:
    path: Path  # the staging file (``tmp/*.part``), fsynced; the caller publishes it
    sha256: str  # of the new file as stored
    size: int
    # of the plaintext that passed through (compare with the record); None when only the
    # header was rewritten (nothing was decrypted)
    plain_sha256: str | None
    # of the file read, as it was read (compare with the record); None after a full
    # re-encryption (the plaintext's hash is checked instead)
    source_sha256: str | None = None


# The payload is copied in pieces of 8 MiB (one buffer per thread, reused): a grant's
# worker thread then takes the interpreter's lock back only a few times per file while the
# recording runs beside it (every read, hash and write releases it).
HEADER_COPY_BUFFER = 8 << 20
_copy_buffers = threading.local()


class SourceChanged(Exception):
    """The file read is not the one on record (its SHA-256 differs): nothing is kept."""


def rewrap(src: Path, staging_dir: Path, identities: list[Any],
           recipients: list[str]) -> Rewrapped:
    """``src`` re-encrypted to ``recipients`` (age recipients) in a fresh staging file.
    On any failure the staging file is removed and the error raised; ``src`` is untouched.
    Many files are re-encrypted side by side by helper processes (``keyring.pool``), each
    running this."""
    plain_hash = hashlib.sha256()
    with fsutil.staged_file(staging_dir) as (path, fh):
        writer = HashingWriter(fh)
        sink = _Hinted(writer, fsutil.WritebackHint(fh))
        out = io.BufferedWriter(sink, buffer_size=fsutil.CHUNK)
        try:
            with open(src, "rb", buffering=0) as raw:
                source = io.BufferedReader(raw, buffer_size=fsutil.CHUNK)
                crypto.reencrypt_stream(source, out, identities,  # type: ignore[arg-type]
                                        recipients, plain_hash=plain_hash)
            out.flush()
        except BaseException:
            sink.discard = True  # the buffer's last flush, when freed, goes nowhere
            raise
    return Rewrapped(path=path, sha256=writer.hash.hexdigest(), size=writer.size,
                     plain_sha256=plain_hash.hexdigest())


def rewrap_header(src: Path, staging_dir: Path, identities: list[Any], recipients: list[str],
                  *, expected_sha256: str) -> Rewrapped:
    """``src`` with a new age header for ``recipients`` (the same file key, unwrapped with
    one of ``identities``; the payload copied unchanged) in a fresh staging file. ``src``
    is hashed while it is read; unless its SHA-256 is ``expected_sha256`` (the record's),
    ``SourceChanged`` is raised and nothing is kept. Raises ``agehdr.AgeHeaderError`` for
    a file that is not an age v1 file these identities open. On any failure the staging
    file is removed; ``src`` is untouched."""
    secrets = agehdr.identity_secrets(identities)
    buf = getattr(_copy_buffers, "buf", None) or bytearray(HEADER_COPY_BUFFER)
    _copy_buffers.buf = None  # taken: a nested call would get its own
    try:
        with fsutil.staged_file(staging_dir) as (path, fh):
            writer = HashingWriter(fh)
            sink = _Hinted(writer, fsutil.WritebackHint(fh))
            with open(src, "rb", buffering=0) as raw:
                reader = _HashingReader(raw)
                # a small buffer for the header; the payload is then read straight into
                # ``buf`` (a large read bypasses it) and written straight through
                source = io.BufferedReader(reader, buffer_size=agehdr.MAX_HEADER)
                agehdr.rewrap_stream(source, sink, secrets,  # type: ignore[arg-type]
                                     recipients, buffer=buf)
            if reader.hash.hexdigest() != expected_sha256:
                raise SourceChanged(f"{src} is not the file on record")
    finally:
        _copy_buffers.buf = buf
    return Rewrapped(path=path, sha256=writer.hash.hexdigest(), size=writer.size,
                     plain_sha256=None, source_sha256=reader.hash.hexdigest())


class _HashingReader(io.RawIOBase):
    """Reads through ``raw`` and hashes every byte read."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer) or 0
        if n:
            self.hash.update(memoryview(buffer)[:n])
        return n


class _Hinted(io.RawIOBase):
    """Writes through ``writer`` and starts the file's writeback early (the final fsync
    then waits for the last few MiB only)."""

    def __init__(self, writer: HashingWriter, hint: fsutil.WritebackHint) -> None:
        self.writer = writer
        self.hint = hint
        self.discard = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.discard:
            return len(data)
        n = self.writer.write(data)
        self.hint.wrote(n)
        return n
