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
import os
import sys
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
    # fsynced before it was returned; False (``sync=False``): its writeback is only begun,
    # and whoever publishes it fsyncs it first (a grant's group, ``keep_rewrapped_many``:
    # one pass over the group's files instead of one fsync per file in each worker)
    synced: bool = True


# The payload is copied in pieces of 8 MiB (one buffer per thread, reused): a grant's
# worker thread then takes the interpreter's lock back only a few times per file while the
# recording runs beside it (every read, hash and write releases it).
HEADER_COPY_BUFFER = 8 << 20
_copy_buffers = threading.local()


# Linux's sync_file_range(2) with SYNC_FILE_RANGE_WRITE: start writing a range of a file
# to disk now, without waiting and without dropping its pages from the page cache (a
# copy made ahead is read back and hashed once its header is written). Elsewhere: None.
_SYNC_FILE_RANGE_WRITE = 2
_writeback: list[Any] = []


def _writeback_call() -> Any:
    if not _writeback:
        fn = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                fn = ctypes.CDLL(None, use_errno=True).sync_file_range
                fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
                fn.restype = ctypes.c_int
            except (ImportError, OSError, AttributeError):  # no ctypes: no hint
                fn = None
        _writeback.append(fn)
    return _writeback[0]


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Hand ``length`` bytes of ``fd`` from ``offset`` to the disk now (a hint: the
    caller's fsync is what makes them durable); a no-op where the call does not exist.
    Runs without the interpreter's lock (ctypes releases it)."""
    fn = _writeback_call()
    if fn is not None and length > 0:
        fn(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # a failure only loses the hint


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
                  *, expected_sha256: str, sync: bool = True) -> Rewrapped:
    """``src`` with a new age header for ``recipients`` (the same file key, unwrapped with
    one of ``identities``; the payload copied unchanged) in a fresh staging file. ``src``
    is hashed while it is read; unless its SHA-256 is ``expected_sha256`` (the record's),
    ``SourceChanged`` is raised and nothing is kept. Raises ``agehdr.AgeHeaderError`` for
    a file that is not an age v1 file these identities open. On any failure the staging
    file is removed; ``src`` is untouched. With ``sync=False`` the staging file is not
    fsynced, only handed to the disk (``start_writeback``): the caller fsyncs it before
    publishing it (``Rewrapped.synced``)."""
    secrets = agehdr.identity_secrets(identities)
    buf = getattr(_copy_buffers, "buf", None) or bytearray(HEADER_COPY_BUFFER)
    _copy_buffers.buf = None  # taken: a nested call would get its own
    try:
        with fsutil.staged_file(staging_dir, sync=sync) as (path, fh):
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
            if not sync:
                fh.flush()
                start_writeback(fh.fileno(), 0, writer.size)
    finally:
        _copy_buffers.buf = buf
    return Rewrapped(path=path, sha256=writer.hash.hexdigest(), size=writer.size,
                     plain_sha256=None, source_sha256=reader.hash.hexdigest(), synced=sync)


@dataclass(frozen=True)
class Precopied:
    """A file's payload copied ahead of its key (``precopy_payload``): the staging file
    holds the payload after ``header_size`` bytes left for the new header, which
    ``finish_precopied`` writes once the key is open."""

    path: Path  # the staging file (``tmp/*.part``), not yet fsynced
    header: agehdr.Header  # the file's age header as read (parsed, not yet opened)
    header_size: int  # the room left for the new header
    payload_size: int
    source_sha256: str  # of the file read, as it was read; the record's


def header_size_for(recipients: list[str]) -> int:
    """The size of a new header for ``recipients`` (the same for any file key: one
    X25519 stanza of fixed length each), found by building one with a throwaway key."""
    return len(agehdr.build_header(os.urandom(agehdr.FILE_KEY_SIZE), recipients))


def precopy_payload(src: Path, staging_dir: Path, *, header_size: int,
                    expected_sha256: str) -> Precopied:
    """The part of ``rewrap_header`` that needs no key (a grant runs it while the
    granter's key is still being unlocked): ``src``'s header parsed, its payload copied
    byte for byte into a fresh staging file after ``header_size`` bytes left empty,
    ``src`` hashed as it is read and checked against ``expected_sha256`` (else
    ``SourceChanged``). Nothing is decrypted. On any failure the staging file is removed;
    ``src`` is untouched."""
    buf = getattr(_copy_buffers, "buf", None) or bytearray(HEADER_COPY_BUFFER)
    _copy_buffers.buf = None
    view = memoryview(buf)
    try:
        # not fsynced here: ``finish_precopied`` fsyncs it once the header is in place
        with fsutil.staged_file(staging_dir, sync=False) as (path, fh):
            with open(src, "rb", buffering=0) as raw:
                reader = _HashingReader(raw)
                source = io.BufferedReader(reader, buffer_size=agehdr.MAX_HEADER)
                header = agehdr.read_header(source)
                fh.seek(header_size)
                size = 0
                while n := source.readinto(buf):
                    fh.write(view[:n])
                    fh.flush()
                    # the disk starts on it while the key is still being unlocked
                    start_writeback(fh.fileno(), header_size + size, n)
                    size += n
            agehdr.check_payload_size(size)
            if reader.hash.hexdigest() != expected_sha256:
                raise SourceChanged(f"{src} is not the file on record")
    finally:
        _copy_buffers.buf = buf
    return Precopied(path=path, header=header, header_size=header_size, payload_size=size,
                     source_sha256=reader.hash.hexdigest())


def finish_precopied(pre: Precopied, identities: list[Any],
                     recipients: list[str], *, sync: bool = True) -> Rewrapped:
    """The rest of ``rewrap_header`` for a pre-copied file: the file key unwrapped from
    the header read (with one of ``identities``; its MAC checked), the new header for
    ``recipients`` written into the room left for it, the whole new file hashed as it
    now is on disk, and fsynced (with ``sync=False`` its header only handed to the disk,
    as the payload was: the caller fsyncs it before publishing it). Raises as
    ``rewrap_header`` does (``agehdr``'s errors); on any failure the staging file is
    removed."""
    try:
        file_key = agehdr.unwrap_file_key(pre.header, agehdr.identity_secrets(identities))
        header = agehdr.build_header(file_key, recipients)
        del file_key
        if len(header) != pre.header_size:  # other readers than the room was left for
            raise agehdr.HeaderInvalid("the new header does not fit the room left for it")
        new_hash = hashlib.sha256(header)
        buf = getattr(_copy_buffers, "buf", None) or bytearray(HEADER_COPY_BUFFER)
        _copy_buffers.buf = None
        try:
            with open(pre.path, "r+b", buffering=0) as fh:
                left = memoryview(header)
                while left:
                    left = left[fh.write(left) or 0:]
                read = 0
                view = memoryview(buf)
                while n := fh.readinto(buf):
                    new_hash.update(view[:n])
                    read += n
                if read != pre.payload_size:
                    raise SourceChanged(f"{pre.path}: the staged payload changed")
                if sync:
                    os.fsync(fh.fileno())
                else:
                    start_writeback(fh.fileno(), 0, len(header))
        finally:
            _copy_buffers.buf = buf
    except BaseException:
        pre.path.unlink(missing_ok=True)
        raise
    return Rewrapped(path=pre.path, sha256=new_hash.hexdigest(),
                     size=pre.header_size + pre.payload_size, plain_sha256=None,
                     source_sha256=pre.source_sha256, synced=sync)


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
