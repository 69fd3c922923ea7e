"""The files a backup run makes before it copies them to the disk, and its lists.

A run over 100,000 documents must not hold them in memory (about 1 KB each: a register
row, a snapshot object, a control-list entry). What the run makes (the database
snapshot, the registers, the control list) is written piece by piece to files in the
instance's staging folder (``BRANKAS_HOME/tmp``, private to the owner), encrypted as it
is written when it must be (``crypto.encrypting_writer``: plaintext of a snapshot or
full register never reaches a file) and hashed on the way; the bag then copies those
files like any document. The list of documents the run copies, and of those it carried,
are spooled there too, one JSON line each, and read back one at a time. Every file is
removed when the run ends, whatever the outcome (a killed run's are swept as stale
staging files).
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from brankas.core import crypto, fsutil
from brankas.core.disk.bag import PayloadItem
from brankas.core.register.store import HashingWriter

BUFFER = 1 << 20


@dataclass(frozen=True)
class Written:
    """A finished file: where it is, its size and SHA-256 (as it will be on the disk)."""

    path: Path
    size: int
    sha256: str

    def item(self, payload_path: str, ref: Any = None) -> PayloadItem:
        path = self.path
        return PayloadItem(payload_path, lambda: open(path, "rb"), self.size,  # noqa: SIM115
                           self.sha256, ref)


class RunFiles:
    """A run's working files in ``folder`` (made private if missing); ``close`` (or the
    end of the ``with`` block) removes them all."""

    def __init__(self, folder: Path) -> None:
        fsutil.make_private_dir(folder)
        self.folder = folder
        self._prefix = f"backup-{uuid.uuid4().hex[:12]}-"
        self._paths: list[Path] = []

    def __enter__(self) -> RunFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for path in self._paths:
            with contextlib.suppress(OSError):
                path.unlink()
        self._paths.clear()

    def _new(self, name: str) -> tuple[Path, IO[bytes]]:
        # ``.part``: a run killed before it removes them leaves staging files that the
        # next ``brankas serve`` sweeps (``store.sweep_staging``).
        path = self.folder / f"{self._prefix}{name}.part"
        self._paths.append(path)
        return path, fsutil.open_private(path, buffering=0)

    @contextlib.contextmanager
    def write(self, name: str, *, recipients: list[str] | None = None
              ) -> Iterator[tuple[IO[bytes], list[Written]]]:
        """Write the file ``name``: yields a binary stream and a list that holds the
        ``Written`` record once the block ends. With ``recipients`` the bytes written
        are encrypted to them on the way (age); the record describes the ciphertext."""
        path, raw = self._new(name)
        done: list[Written] = []
        with raw:
            hashed = HashingWriter(raw)  # type: ignore[arg-type]
            buffered = io.BufferedWriter(hashed, buffer_size=BUFFER)
            if recipients:
                with crypto.encrypting_writer(buffered, recipients) as out:
                    yield out, done
            else:
                yield buffered, done
            buffered.flush()
        done.append(Written(path, hashed.size, hashed.hash.hexdigest()))

    def spool(self, name: str) -> Spool:
        path, raw = self._new(name)
        return Spool(path, io.BufferedWriter(raw, buffer_size=BUFFER))  # type: ignore[arg-type]


class Spool:
    """A list written once, one JSON value a line, and read back lazily (any number of
    times) once ``close``d."""

    def __init__(self, path: Path, out: IO[bytes]) -> None:
        self.path = path
        self._out: IO[bytes] | None = out
        self.count = 0

    def add(self, value: Any) -> None:
        assert self._out is not None, "the spool is closed"
        self._out.write(json.dumps(value, ensure_ascii=False,
                                   separators=(",", ":")).encode("utf-8") + b"\n")
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
        with open(self.path, "rb") as fh:
            for line in fh:
                yield json.loads(line)
