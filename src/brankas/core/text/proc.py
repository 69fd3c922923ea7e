"""Child processes of the text engine: started in their own process group, killed with all
their children, their output read with a bound.

POSIX: a new session (``start_new_session``), killed with ``killpg``. Windows: a new
process group (``CREATE_NEW_PROCESS_GROUP``), killed with ``taskkill /T /F`` (the tree).
Every POSIX-only call (``killpg``, ``signal.SIGKILL``, ``resource``) sits behind an
``os.name`` check with the Windows way beside it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

EXIT_MEMORY = 3  # the text-layer reader (child.layer) ran out of its memory limit
TAIL_BYTES = 64 * 1024  # what is kept of a child's error output (its last bytes)


def spawn(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
          cwd: str | None = None, stdin: Any = subprocess.DEVNULL,
          stdout: Any = subprocess.DEVNULL,
          stderr: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own process group (raises ``OSError`` when it cannot start)."""
    extra: dict[str, Any] = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
        if os.name == "nt" else {"start_new_session": True})
    return subprocess.Popen(list(argv), stdin=stdin, stdout=stdout, stderr=stderr,
                            env=None if env is None else dict(env), cwd=cwd, **extra)


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``proc`` (started by ``spawn``) and every child it started."""
    if os.name == "nt":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                       capture_output=True, check=False)
        with contextlib.suppress(OSError):
            proc.kill()
    else:
        import signal

        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if os.name != "nt":  # wait (briefly) until the whole group is gone
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except OSError:
                break
            time.sleep(0.05)


class Reader:
    """Reads a child's pipe to its end in a thread, keeping at most ``limit`` bytes: its
    first (``tail=False``; ``overflow`` says more came) or its last (a child printing
    gigabytes costs neither memory nor disk)."""

    def __init__(self, pipe: IO[bytes], limit: int = TAIL_BYTES, *, tail: bool = True) -> None:
        self.pipe, self.limit, self.tail = pipe, limit, tail
        self.data, self.overflow = bytearray(), False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.pipe.read1(65536):  # type: ignore[attr-defined]
                if self.tail:
                    self.data += chunk
                    if len(self.data) > 2 * self.limit:
                        del self.data[:-self.limit]
                elif len(self.data) + len(chunk) > self.limit:
                    self.overflow = True
                    self.data += chunk[:self.limit - len(self.data)]
                else:
                    self.data += chunk

    def bytes(self) -> bytes:
        self.thread.join(timeout=5)
        return bytes(self.data[-self.limit:] if self.tail else self.data)

    def text(self) -> str:
        return self.bytes().decode("utf-8", errors="replace")
