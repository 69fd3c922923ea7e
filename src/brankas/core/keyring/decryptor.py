"""A helper process that decrypts while this one encrypts: the other half of
``age -d | age -r``, for re-encrypting many files (a grant, a rekey).

The age library holds the interpreter's lock while it works, so decrypting in one thread
and encrypting in another runs one after the other. A second process runs them side by
side, as ``age -d FILE | age -r …`` does. The helper receives the identities once, on its
standard input (never on its command line, in its environment or in a file); then, for
each file named on its standard input, it decrypts the file and sends the plaintext back
through its standard output, a pipe of the operating system: plaintext lives only in
memory and in the kernel's pipe buffer, never on disk. It also sends the plaintext's
SHA-256 and size, computed on its side.

Frames from the helper: one type byte, a 4-byte big-endian length, the payload.
``D`` data, ``E`` the end of a file (JSON ``{"sha256", "size"}``), ``X`` a failure (the
message, UTF-8). The helper exits when its standard input closes (its parent ended, even
killed): it never outlives the grant.

Run as ``python -m brankas.core.keyring.decryptor``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, BinaryIO

PIECE = 1 << 20
_HEADER = struct.Struct(">cI")


class DecryptFailed(Exception):
    """The helper could not decrypt a file (wrong identity, damaged or truncated file)."""


class _FrameWriter(io.RawIOBase):
    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.size = 0
        self.discard = False  # the file failed: a late flush of its buffer goes nowhere

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.discard:
            return len(data)
        view = memoryview(data)
        self.hash.update(view)
        self.size += len(view)
        self.out.write(_HEADER.pack(b"D", len(view)))
        self.out.write(view)
        return len(view)


def _send(out: BinaryIO, kind: bytes, payload: bytes) -> None:
    out.write(_HEADER.pack(kind, len(payload)))
    out.write(payload)
    out.flush()


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """The helper's loop: identities first (a count line, then one per line), then one
    file path per line (JSON string); ends at the end of ``inp``."""
    from brankas.core import crypto

    count = int(inp.readline())
    identities = [crypto.parse_identity(inp.readline().decode("ascii")) for _ in range(count)]
    while True:
        line = inp.readline()
        if not line:
            return
        path = json.loads(line)
        writer = _FrameWriter(out)
        try:
            with open(path, "rb", buffering=0) as raw:
                src = io.BufferedReader(raw, buffer_size=PIECE)
                buffered = io.BufferedWriter(writer, buffer_size=PIECE)
                crypto.decrypt_stream(src, buffered, identities)  # type: ignore[arg-type]
                buffered.flush()
        except BrokenPipeError:
            return
        except Exception as exc:  # noqa: BLE001 - told to the parent, which raises
            writer.discard = True
            _send(out, b"X", f"{type(exc).__name__}: {exc}".encode())
            continue
        _send(out, b"E", json.dumps({"sha256": writer.hash.hexdigest(),
                                     "size": writer.size}).encode())


class _Plain(io.RawIOBase):
    """One file's plaintext, read from the helper's frames."""

    def __init__(self, pipe: BinaryIO) -> None:
        self.pipe = pipe
        self.left = 0
        self.done = False
        self.sha256 = ""
        self.size = 0

    def readable(self) -> bool:
        return True

    def _exact(self, n: int) -> bytes:
        data = self.pipe.read(n)
        if data is None or len(data) != n:
            raise DecryptFailed("the decrypting helper stopped")
        return data

    def readinto(self, buffer: Any) -> int:
        while self.left == 0:
            if self.done:
                return 0
            kind, length = _HEADER.unpack(self._exact(_HEADER.size))
            if kind == b"D":
                self.left = length
            elif kind == b"E":
                end = json.loads(self._exact(length))
                self.sha256, self.size, self.done = end["sha256"], end["size"], True
                return 0
            elif kind == b"X":
                self.done = True
                raise DecryptFailed(self._exact(length).decode("utf-8", "replace"))
            else:
                raise DecryptFailed("the decrypting helper sent something unexpected")
        n = self.pipe.readinto(memoryview(buffer)[:min(len(buffer), self.left)])  # type: ignore[attr-defined]
        if not n:
            raise DecryptFailed("the decrypting helper stopped")
        self.left -= n
        return n

    def drain(self) -> None:
        """Read the rest of this file's frames (after the reader gave up on it), so the
        next file starts at a frame boundary."""
        buf = bytearray(PIECE)
        try:
            while self.readinto(buf):
                pass
        except DecryptFailed:
            pass


class Decryptor:
    """The helper process, for one run of many files. ``open(path)`` gives a reader of that
    file's plaintext; read it to its end (then ``sha256`` and ``size`` are set), one file
    at a time. A context manager: the helper ends with the block."""

    def __init__(self, identities: list[Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "brankas.core.keyring.decryptor"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin
        self._out = io.BufferedReader(self.proc.stdout, buffer_size=PIECE)  # type: ignore[type-var]
        _grow_pipe(self.proc.stdout.fileno())
        secret = f"{len(identities)}\n" + "".join(f"{i}\n" for i in identities)
        self._in.write(secret.encode("ascii"))
        self._in.flush()
        self._current: _Plain | None = None

    def open(self, path: Path) -> _Plain:
        if self._current is not None and not self._current.done:
            self._current.drain()
        self._in.write((json.dumps(str(path)) + "\n").encode("utf-8"))
        self._in.flush()
        self._current = _Plain(self._out)  # type: ignore[arg-type]
        return self._current

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()  # type: ignore[union-attr]

    def __enter__(self) -> Decryptor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _grow_pipe(fd: int) -> None:
    """A bigger pipe (Linux: 1 MiB instead of 64 KiB) lets the helper run further ahead."""
    setsize = getattr(__import__("fcntl"), "F_SETPIPE_SZ", None) if os.name == "posix" else None
    if setsize is None:
        return
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, setsize, PIECE)


def main() -> None:
    serve(sys.stdin.buffer, sys.stdout.buffer)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
