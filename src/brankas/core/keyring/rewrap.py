"""Re-encrypting one stored file to new readers (a grant, a rekey), without Django.

``rewrap`` decrypts the file with the identities at hand and encrypts it again, as one
stream (``crypto.reencrypt_stream``), into a staging file in ``tmp/``: ciphertext only,
hashed while it is written, fsynced before this returns. The caller publishes it under
the file's next version name and records it; the file read is never changed.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brankas.core import crypto, fsutil
from brankas.core.register.store import HashingWriter


@dataclass(frozen=True)
class Rewrapped:
    path: Path  # the staging file (``tmp/*.part``), fsynced; the caller publishes it
    sha256: str  # of the new file as stored
    size: int
    plain_sha256: str  # of the plaintext that passed through (compare with the record)


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
