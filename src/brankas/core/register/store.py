"""The working store: the SOP's four folders under ``BRANKAS_HOME/arsip``.

``arsip/biasa/{pengiriman,penerimaan}/YYYY/<agenda>-<slug>.pdf`` and
``arsip/dikecualikan/{pengiriman,penerimaan}/YYYY/<agenda>.pdf.age``: an exempted
document's name carries its agenda number alone, never a word of its subject (the subject
of a secret letter is secret too). The letters of requests to send follow the same rule
under ``permintaan/YYYY/``. A document is written once: to a staging file in
``BRANKAS_HOME/tmp`` (ciphertext only, for exempted documents), fsynced, then renamed into
place. Plaintext of an exempted document exists only in memory buffers on its way through
the cipher. Every file is 0600 and every folder 0700 on POSIX (``fsutil``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

from brankas.core import crypto, fsutil
from brankas.core.config import Settings
from brankas.core.names import safe_component, slug
from brankas.core.terms import ARCHIVE_DIR, REQUESTS_DIR, Category, Direction, store_folders


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
    """Writes through to ``raw`` and hashes and counts what passes."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hash: Any = hashlib.sha256()  # None: count only (the caller hashes elsewhere)
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.hash is not None:
            self.hash.update(data)
        self.raw.write(data)
        n = len(data)
        self.size += n
        return n


class _StagingWriter(HashingWriter):
    """A HashingWriter onto a staging file that starts the file's writeback early."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__(raw)
        self.hint = fsutil.WritebackHint(raw)
        self.tail: _TailHasher | None = None  # hashes the file as it grows, instead
        self.discard = False  # set when staging failed: the file is being thrown away

    def write(self, data: Any) -> int:
        if self.discard:
            return len(data)
        n = super().write(data)
        if self.tail is not None:
            self.raw.flush()
            self.tail.wrote(n)
        else:
            self.hint.wrote(n)
        return n


# Big inputs are hashed beside the cipher, in helper threads: each hashlib call on a
# piece of several MiB runs without the GIL, while the cipher (which holds the GIL)
# keeps the main thread busy. Small inputs are not worth a thread.
PARALLEL_MIN = 32 * fsutil.CHUNK
_PIECE = 2 * fsutil.CHUNK


def _remaining(src: BinaryIO) -> int | None:
    """How many bytes ``src`` still holds, when that is cheap to know."""
    try:
        return os.fstat(src.fileno()).st_size - src.tell()
    except (AttributeError, OSError, ValueError):
        pass
    getbuffer = getattr(src, "getbuffer", None)
    if getbuffer is not None:
        with getbuffer() as view:
            return int(view.nbytes) - src.tell()
    return None


class _ReadAhead(io.RawIOBase):
    """Reads ``raw`` a few pieces ahead in a helper thread and hashes each piece there.
    The pieces live in a small ring of buffers, refilled only once the reading side has
    copied them out: what was hashed is exactly what was then read from here, and no
    memory is allocated per piece."""

    RING = 3

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(self.RING):
            self._free.put(bytearray(_PIECE))
        self._full: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._piece: bytearray | None = None
        self._view = memoryview(b"")
        self._pos = 0
        self._end = 0
        self._eof = False
        self._thread = threading.Thread(target=self._run, name="brankas-read", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        readinto = getattr(self.raw, "readinto", None)
        try:
            while not self._stop.is_set():
                buf = self._take_free()
                if buf is None:
                    break
                if readinto is not None:
                    n = readinto(buf) or 0
                else:
                    data = self.raw.read(_PIECE)
                    n = len(data)
                    buf[:n] = data
                if not n:
                    break
                self.hash.update(memoryview(buf)[:n])
                self._full.put((buf, n))
        except BaseException as exc:  # handed to the reading thread
            self._error = exc
        finally:
            self._full.put(None)

    def _take_free(self) -> bytearray | None:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Empty):
                return self._free.get(timeout=0.1)
        return None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._end:
            if self._eof:
                return 0
            if self._piece is not None:
                self._view.release()
                self._free.put(self._piece)  # copied out: the helper may refill it
                self._piece = None
            item = self._full.get()
            if item is None:
                self._eof = True
                if self._error is not None:
                    raise self._error
                return 0
            self._piece, self._end = item
            self._view = memoryview(self._piece)
            self._pos = 0
        n = min(len(buffer), self._end - self._pos)
        buffer[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        self.size += n
        return n

    def stop(self) -> None:
        """Stop the helper thread (at once if the reading was cut short) and wait for it."""
        self._stop.set()
        self._thread.join()
        self._view.release()


class _TailHasher:
    """Hashes a staging file as it grows, one step behind the writer, in a helper thread:
    each step is read back from the file and hashed in calls that run without the GIL.
    Each hashed step's writeback is started at once, so the final fsync is short."""

    STEP = 4 * fsutil.CHUNK

    def __init__(self, path: Path) -> None:
        self.hash = hashlib.sha256()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the thread
        self._written = 0
        self._done = 0
        self._final = False
        self._abort = False
        self._error: BaseException | None = None
        self._cv = threading.Condition()
        self._advise = hasattr(os, "posix_fadvise") and hasattr(os, "POSIX_FADV_DONTNEED")
        self._thread = threading.Thread(target=self._run, name="brankas-hash", daemon=True)
        self._thread.start()

    def wrote(self, n: int) -> None:
        """``n`` more bytes are in the file (flushed to the operating system)."""
        with self._cv:
            self._written += n
            if self._written - self._done >= self.STEP:
                self._cv.notify()

    def finish(self) -> str:
        with self._cv:
            self._final = True
            self._cv.notify()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.hash.hexdigest()

    def abort(self) -> None:
        with self._cv:
            self._abort = True
            self._cv.notify()
        self._thread.join()

    def _run(self) -> None:
        buf = bytearray(self.STEP)
        view = memoryview(buf)
        fd = self._file.fileno()
        try:
            while True:
                with self._cv:
                    while not (self._abort or self._final
                               or self._written - self._done >= self.STEP):
                        self._cv.wait()
                    if self._abort:
                        return
                    want = min(self.STEP, self._written - self._done)
                if want == 0:
                    return  # final, and all hashed
                start = self._done
                got = 0
                while got < want:
                    self._file.seek(start + got)
                    n = self._file.readinto(view[got:want]) or 0
                    if n == 0:
                        raise OSError(f"staging file shorter than written ({start + got})")
                    got += n
                self.hash.update(view[:want])
                self._done = start + want
                if self._advise:
                    try:
                        os.posix_fadvise(fd, start, want, os.POSIX_FADV_DONTNEED)
                    except OSError:
                        self._advise = False
        except BaseException as exc:  # handed to the writing thread
            self._error = exc
        finally:
            self._file.close()


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
        fsutil.make_private_dir(settings.archive / category.value / direction.value)
    fsutil.make_private_dir(settings.tmp)


def file_name(*, number: str, subject: str, exempted: bool, version: int = 1) -> str:
    """The stored file's name: ``<number>-<slug of the subject>.pdf`` for a biasa file,
    ``<number>.pdf.age`` for an exempted one (its subject appears in no file name).

    An exempted file re-encrypted (a grant, a rekey) is a new version under a new name,
    ``<number>.v2.pdf.age``, ``.v3``…: backup disks are append-only and take it as a new
    file beside the old one."""
    if exempted:
        tag = f".v{version}" if version > 1 else ""
        return safe_component(number, max_len=100) + tag + ".pdf" + crypto.EXTENSION
    return safe_component(f"{number}-{slug(subject, max_len=50)}", max_len=100) + ".pdf"


def relative_path(
    *, category: Category, direction: Direction, year: int, agenda: str, subject: str
) -> PurePosixPath:
    name = file_name(number=agenda, subject=subject, exempted=category is Category.EXEMPTED)
    return PurePosixPath(ARCHIVE_DIR, category.value, direction.value, f"{year:04d}", name)


def letter_path(*, number: int, year: int, subject: str, exempted: bool,
                version: int = 1) -> PurePosixPath:
    """Where the letter of request to send ``number`` is kept: ``permintaan/YYYY/P-NNNNN…``."""
    name = file_name(number=letter_number(number), subject=subject, exempted=exempted,
                     version=version)
    return PurePosixPath(REQUESTS_DIR, f"{year:04d}", name)


def letter_number(number: int) -> str:
    """A request letter's number as its file name carries it (``P-00012``)."""
    return f"P-{number:05d}"


def versioned_path(relative: str | PurePosixPath, *, number: str,
                   version: int) -> PurePosixPath:
    """The exempted file ``relative`` (of the agenda or letter ``number``) under the name of
    its version ``version``, in the same folder."""
    return PurePosixPath(relative).with_name(
        file_name(number=number, subject="", exempted=True, version=version))


def exempted_name_pattern(number: str) -> re.Pattern[str]:
    """The names an exempted file of ``number`` may have: ``<number>.pdf.age`` and the
    versions ``<number>.vN.pdf.age`` (N ≥ 2)."""
    stem = re.escape(safe_component(number, max_len=100))
    return re.compile(stem + r"(?:\.v[1-9][0-9]*)?\.pdf" + re.escape(crypto.EXTENSION))


def stage(
    settings: Settings, src: BinaryIO, *, recipients: list[str] | None, sync: bool = True
) -> Staged:
    """Write ``src`` to a staging file, encrypted to ``recipients`` when given.

    With ``sync=False`` the staging file is not fsynced here: the caller must make it
    durable (``fsutil.fsync_paths``) before it is placed and recorded."""
    parallel = (_remaining(src) or 0) >= PARALLEL_MIN
    with fsutil.staged_file(settings.tmp, sync=sync) as (path, fh):
        reader: HashingReader | _ReadAhead = _ReadAhead(src) if parallel else HashingReader(src)
        writer = _StagingWriter(fh)
        try:
            if recipients:
                if parallel:
                    writer.hash = None
                    writer.tail = _TailHasher(path)
                # The cipher pulls 8 KiB and pushes 64 KiB at a time through Python calls;
                # 1 MiB buffers (C code) on both sides make those calls cheap and run the
                # hashing wrappers and the system calls once per MiB. The bytes hashed are
                # still exactly the bytes encrypted and the bytes written.
                buffered_in = io.BufferedReader(reader, buffer_size=fsutil.CHUNK)
                buffered_out = io.BufferedWriter(writer, buffer_size=fsutil.CHUNK)
                try:
                    crypto.encrypt_stream(buffered_in, buffered_out, recipients)
                    buffered_out.flush()
                except BaseException:
                    writer.discard = True  # the buffer's last flush, when freed, goes nowhere
                    raise
                stored_sha256 = (
                    writer.tail.finish() if writer.tail is not None else writer.hash.hexdigest()
                )
            else:
                # Stored as is: the bytes written are the bytes read, hashed once.
                writer.hash = None
                fsutil.copy_stream(reader, writer)  # type: ignore[arg-type]
                stored_sha256 = ""
        except BaseException:
            if writer.tail is not None:
                writer.tail.abort()
            raise
        finally:
            if isinstance(reader, _ReadAhead):
                reader.stop()
    content_sha256 = reader.hash.hexdigest()
    return Staged(
        path=path,
        content_sha256=content_sha256,
        content_size=reader.size,
        stored_sha256=stored_sha256 or content_sha256,
        stored_size=writer.size,
        suite=crypto.SUITE if recipients else None,
    )


def place(
    settings: Settings, staged: Staged, relative: PurePosixPath, *, sync_dir: bool = True
) -> Path:
    """Move a staged file to its place in the archive. With ``sync_dir=False`` the caller
    fsyncs the folder (``fsutil.fsync_paths``) before the record commits."""
    final = settings.home.joinpath(*relative.parts)
    fsutil.publish(staged.path, final, sync_dir=sync_dir)
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


STALE_STAGING_SECONDS = 24 * 3600
DRILL_PREFIX = "drill-"  # a restore drill's temporary folder under tmp/


def sweep_staging(settings: Settings, *, older_than: float = STALE_STAGING_SECONDS) -> list[Path]:
    """Remove staging files (``*.part``) left in ``tmp/`` by killed processes.

    Only files untouched for ``older_than`` seconds go: a registration in progress in
    another process writes its staging file continuously. Files moved aside from the
    archive (``orphan-*``) are kept for a person to look at. Returns what was removed."""
    import time

    removed: list[Path] = []
    cutoff = time.time() - older_than
    try:
        entries = list(settings.tmp.glob("*.part"))
    except OSError:
        return removed
    for path in entries:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:  # gone meanwhile, or in use (Windows)
            continue
    # A drill killed mid-way leaves its folder (documents restored for the check, an
    # instance its recover built): real folders of our name only, never through a link.
    import shutil

    from brankas.core.disk import fs as diskfs

    try:
        drills = [p for p in settings.tmp.glob(DRILL_PREFIX + "*")
                  if diskfs.lkind(p) == "dir" and p.stat().st_mtime < cutoff]
    except OSError:
        drills = []
    for path in drills:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
