"""Helper processes that re-encrypt files side by side (a rekey of many files; a grant
rewrites only headers, ``keyring.agehdr``, in its own process and needs none).

The age library holds the interpreter's lock while it works, so one process re-encrypts
one file at a time on one core. A pool of helper processes (one per core, at most
``MAX_WORKERS``: memory) each runs ``keyring.rewrap.rewrap`` on the files it is given, into staging
files in ``tmp/`` (ciphertext only, fsynced): the plaintext exists only in a helper's
memory. The parent publishes and records each result, in the order the files were given.

A helper receives the identities once, on its standard input (never on its command line,
in its environment or in a file), then one JSON line per file (``src``, ``tmp``,
``recipients``), and answers one JSON line per file: the staged file (``path``,
``sha256``, ``size``, ``plain_sha256``) or ``error``. It exits when its standard input
closes (the parent ended, even killed): it never outlives the run. Run as
``python -m brankas.core.keyring.pool``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from brankas.core.keyring.rewrap import Rewrapped
from brankas.core.processes import module_env

# Each helper peaks near 32 MiB (Python, the age library, a few 1 MiB buffers); two keep a
# grant within 150 MiB in all with the parent's ~55 MiB, and use the two cores an office
# laptop has at least.
MAX_WORKERS = 2
IN_FLIGHT = 2  # files given to each helper ahead of the results read
T = TypeVar("T")


class RewrapFailed(Exception):
    """A helper could not re-encrypt a file (wrong identity, damaged file, full disk…)."""


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """A helper's loop (see the module's doc)."""
    from brankas.core import crypto
    from brankas.core.keyring.rewrap import rewrap

    first = json.loads(inp.readline())
    identities = [crypto.parse_identity(text) for text in first["identities"]]
    del first
    while True:
        line = inp.readline()
        if not line:
            return
        job = json.loads(line)
        try:
            done = rewrap(Path(job["src"]), Path(job["tmp"]), identities, job["recipients"])
            answer = {"path": str(done.path), "sha256": done.sha256, "size": done.size,
                      "plain_sha256": done.plain_sha256}
        except Exception as exc:  # noqa: BLE001 - told to the parent, which raises
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        try:
            out.write((json.dumps(answer) + "\n").encode("utf-8"))
            out.flush()
        except BrokenPipeError:
            return


# Secrets the parent may have been given in its environment: a helper needs none of them.
SECRET_ENV = frozenset({"BRANKAS_PASSPHRASE", "BRANKAS_PASSWORD", "BRANKAS_NEW_PASSWORD",
                        "BRANKAS_TOTP", "BRANKAS_SECRET_KEY"})


def helper_env() -> dict[str, str]:
    """The parent's environment without its secrets (a helper's is readable as long as it
    runs)."""
    return module_env({k: v for k, v in os.environ.items() if k not in SECRET_ENV})


class _Worker:
    def __init__(self, secret: bytes) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "brankas.core.keyring.pool"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=helper_env())
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.inp, self.out = self.proc.stdin, self.proc.stdout
        self.alive = True
        self.send(secret)

    def send(self, line: bytes) -> None:
        try:
            self.inp.write(line)
            self.inp.flush()
        except OSError:
            self.alive = False

    def result(self) -> Rewrapped:
        line = self.out.readline() if self.alive else b""
        if not line:
            self.alive = False
            raise RewrapFailed("the re-encrypting helper process stopped")
        answer = json.loads(line)
        if "error" in answer:
            raise RewrapFailed(answer["error"])
        return Rewrapped(path=Path(answer["path"]), sha256=answer["sha256"],
                         size=answer["size"], plain_sha256=answer["plain_sha256"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.inp.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def workers_for(files: int) -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, files))


class RewrapPool:
    """``workers`` helper processes holding ``identities``. ``run(items, src_of, tmp,
    recipients_of)`` yields ``(item, Rewrapped | exception)`` in the items' order while the
    helpers work ahead (the exception: ``RewrapFailed``, or what ``recipients_of`` raised
    for that item). A context manager: the helpers end with the block."""

    def __init__(self, identities: list[Any], workers: int) -> None:
        secret = (json.dumps({"identities": [str(i) for i in identities]}) + "\n").encode()
        self.workers: list[_Worker] = []
        try:
            for _ in range(workers):
                self.workers.append(_Worker(secret))
        except BaseException:
            self.close()
            raise

    def run(self, items: Iterable[T], *, src_of: Any, tmp: Path,
            recipients_of: Any) -> Iterator[tuple[T, Rewrapped | Exception]]:
        pending: deque[tuple[T, _Worker | None, Exception | None]] = deque()
        source = iter(items)
        turn = 0
        limit = IN_FLIGHT * len(self.workers)
        exhausted = False
        while True:
            while not exhausted and len(pending) < limit:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                alive = [w for w in self.workers if w.alive]
                if not alive:
                    pending.append((item, None, RewrapFailed("no re-encrypting helper left")))
                    continue
                worker = alive[turn % len(alive)]
                turn += 1
                try:
                    recipients = recipients_of(item)
                except Exception as exc:  # noqa: BLE001 - the caller's refusal, per item
                    pending.append((item, None, exc))
                    continue
                worker.send((json.dumps({"src": str(src_of(item)), "tmp": str(tmp),
                                         "recipients": recipients}) + "\n").encode())
                pending.append((item, worker, None))
            if not pending:
                return
            done, owner, early = pending.popleft()
            if owner is None:
                assert early is not None
                yield done, early
                continue
            try:
                result: Rewrapped | Exception = owner.result()
            except RewrapFailed as exc:
                result = exc
            yield done, result

    def close(self) -> None:
        for worker in self.workers:
            worker.close()

    def __enter__(self) -> RewrapPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    serve(sys.stdin.buffer, sys.stdout.buffer)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
