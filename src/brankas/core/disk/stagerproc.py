"""The second process that stages a backup's small files while the run checkpoints
(s25; ``disk.stager.Stager`` starts it, ``Bag.add_files`` feeds it).

A full backup of 100,000 one-page PDFs spent most of its time on one core: for each file
an open, a read and a close of the archive's file, a SHA-256, and a create, a write and a
close of its copy in the disk's staging folder, a few dozen microseconds of Python around
each; the checkpoints (the sync, the read-back, the renames into ``data/``, the lists)
waited for them on the same interpreter lock. This child does the staging on the other
core: exactly what ``Bag._stage_whole`` does, file for file, and nothing else.

It imports the standard library's ``os``, ``hashlib`` and ``stat`` only (about 10 MiB
resident). It reads batches on its standard input and answers each on its standard
output, in frames of a 4-byte big-endian length and a body of fields joined by NUL (no
path holds a NUL: POSIX and Windows refuse it in names). A batch's first fields are its
operation (``STAGE`` or ``READ_BACK``) and its number; its answer's first field is that
number (a frame too many is never taken for the answer to the next batch):

- a batch: for each file its source path, its staging path, its size and its expected
  SHA-256 (hex, or empty);
- the answer: for each file, in order, up to the first that failed (nothing after it is
  staged), four fields: ``ok``, the SHA-256, the size, ``""``; or ``src`` (the source
  could not be read: errno, message), ``size`` (a size other than expected: the bytes
  read, at most one more than expected), ``sha`` (another SHA-256 than expected), or
  ``disk`` (the copy could not be written: errno, message, path), the failed copy
  removed.

It never writes anywhere but the staging paths it is given, each created new
(``O_EXCL``: nothing there is replaced or followed). The end of its input (the run
finished, failed or was killed: the kernel closes the pipe of a killed process) ends it;
copies it staged for a run that never took them are swept with the disk's staging folder
at the next run (``BagState.recover``), as the copies of a killed run always were.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from typing import IO

_CREATE = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
           | getattr(os, "O_CLOEXEC", 0))
# O_NONBLOCK: a FIFO put where an archive file was opens at once, and is refused below.
_READ = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
         | getattr(os, "O_NONBLOCK", 0))
READ_BACK_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
              | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
# What ``os.open`` with O_NOFOLLOW says of a link (ELOOP; EMLINK on FreeBSD), a socket or
# a FIFO with no writer (as ``disk.fs.open_file`` tells them).
NOT_A_FILE = {errno.ELOOP, errno.EMLINK, errno.ENXIO, errno.EOPNOTSUPP}
STAGE = b"S"
READ_BACK = b"R"
SEP = b"\0"
FIELDS_IN = 4
FIELDS_OUT = 4
# A frame is at most this long (a batch of small files is a few KiB): a longer length
# is a broken stream, never a reason to allocate.
MAX_FRAME = 16 << 20


def frame(fields: list[bytes]) -> bytes:
    body = SEP.join(fields)
    return len(body).to_bytes(4, "big") + body


def read_frame(stream: IO[bytes]) -> list[bytes] | None:
    """The fields of the next frame; None at the end of the stream (or a cut frame)."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    if size > MAX_FRAME:
        return None
    body = stream.read(size)
    if len(body) < size:
        return None
    return body.split(SEP) if body else []


def open_regular(path: str | bytes) -> int:
    """A descriptor of the regular file ``path``, read-only; anything else there (a FIFO,
    a device, a folder) is refused without waiting for it (``OSError``)."""
    fd = os.open(path, _READ)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fsdecode(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_source(path: bytes, size: int) -> bytes:
    """At most ``size + 1`` bytes of the regular file ``path``: a file that has grown (to
    any size) is told by its length, never held. Usually one read: asked for one byte
    more than it should hold, a regular file gives fewer only at its end."""
    fd = open_regular(path)
    try:
        first = os.read(fd, size + 1)
        if len(first) == size or not first:
            return first
        parts = [first]
        total = len(first)
        while total <= size and (chunk := os.read(fd, size + 1 - total)):
            parts.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    return b"".join(parts)


def _write_new(path: bytes, data: bytes) -> None:
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _text(value: object) -> bytes:
    return str(value).replace("\0", " ").encode("utf-8", "replace")


def stage_one(source: bytes, staged: bytes, size: int, sha256: bytes) -> list[bytes]:
    """Stage one file: the answer's four fields."""
    try:
        data = _read_source(source, size)
    except OSError as exc:
        return [b"src", _text(exc.errno or 0), _text(exc.strerror or exc), b""]
    if len(data) != size:
        return [b"size", _text(len(data)), b"", b""]
    digest = hashlib.sha256(data).hexdigest().encode("ascii")
    if sha256 and digest != sha256.lower():
        return [b"sha", b"", b"", b""]
    try:
        _write_new(staged, data)
    except OSError as exc:
        if exc.errno != errno.EEXIST:  # never remove what was there before
            try:  # noqa: SIM105 - no contextlib: the child imports what it needs only
                os.unlink(staged)
            except OSError:
                pass
        return _disk(exc, staged)
    return [b"ok", digest, _text(size), b""]


def stage_batch(fields: list[bytes]) -> list[bytes]:
    """The answer to one batch to stage (``fields`` as the module docstring gives them)."""
    out: list[bytes] = []
    for i in range(0, len(fields) - FIELDS_IN + 1, FIELDS_IN):
        source, staged, size, sha256 = fields[i:i + FIELDS_IN]
        answer = stage_one(source, staged, int(size), sha256)
        out += answer
        if answer[0] != b"ok":
            break
    return out


def _open_copy(staged: bytes) -> int | None:
    """A descriptor of the durable copy ``staged``, its cached pages dropped
    and asked for again (the disk reads them all meanwhile); None when its name holds a
    link or anything but a regular file (``bag._open_read_back``)."""
    try:
        fd = os.open(staged, READ_BACK_FLAGS)
    except OSError as exc:
        if exc.errno in NOT_A_FILE:
            return None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return None
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
            except OSError:
                pass
    except BaseException:
        os.close(fd)
        raise
    return fd


def _hash_copy(fd: int, staged: bytes, written: int) -> list[bytes]:
    """The read-back answer of the open copy ``fd`` (``written``: the size staged): its
    SHA-256 and length, read from its start in one read (at most
    one byte past ``written``); ``moved`` when its name no longer holds the file read."""
    parts = [os.read(fd, written + 1)]
    total = len(parts[0])
    while parts[-1] and total <= written and (chunk := os.read(fd, written + 1 - total)):
        parts.append(chunk)
        total += len(chunk)
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    try:
        now = os.lstat(staged)
    except OSError:  # the name is gone: a mismatch, as ``bag._same_file`` says
        return [b"moved", b"", b"", b""]
    held = os.fstat(fd)
    if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
        return [b"moved", b"", b"", b""]
    return [b"ok", hashlib.sha256(data).hexdigest().encode("ascii"), _text(len(data)), b""]


def read_back_batch(fields: list[bytes]) -> list[bytes]:
    """The answer to one batch to read back: for each staged copy (its path and the size
    written), ``ok`` with the SHA-256 and length read from the disk, ``notfile`` (a link
    or anything but a regular file there), ``moved`` (the name no longer holds the file
    read), or ``disk`` (errno, message, path): every copy is answered. Each copy is
    first opened and its pages dropped and asked for again, then each is read."""
    out: list[list[bytes]] = []
    opened: list[tuple[int, int, bytes, int]] = []  # answer index, fd, path, written
    try:
        for i in range(0, len(fields) - 1, 2):
            staged, written = fields[i], int(fields[i + 1])
            try:
                got = _open_copy(staged)
            except OSError as exc:
                out.append(_disk(exc, staged))
                continue
            if got is None:
                out.append([b"notfile", b"", b"", b""])
                continue
            opened.append((len(out), got, staged, written))
            out.append([])
        for index, fd, staged, written in opened:
            try:
                out[index] = _hash_copy(fd, staged, written)
            except OSError as exc:
                out[index] = _disk(exc, staged)
    finally:
        for _, fd, _, _ in opened:
            os.close(fd)
    return [field for answer in out for field in answer]


def _disk(exc: OSError, path: bytes) -> list[bytes]:
    return [b"disk", _text(exc.errno or 0), _text(exc.strerror or exc), _text(os.fsdecode(path))]


def main() -> int:
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while (fields := read_frame(inp)) is not None:
        op, number, fields = (fields[0], fields[1], fields[2:]) if len(fields) > 1 else (
            b"", b"", [])
        if op == STAGE and not len(fields) % FIELDS_IN:
            answer = stage_batch(fields)
        elif op == READ_BACK and not len(fields) % 2:
            answer = read_back_batch(fields)
        else:
            return 2
        out.write(frame([number, *answer]))
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
