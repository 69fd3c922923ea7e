"""The run's side of the staging child (``disk.stagerproc``): start it, hand it a batch,
read its answer, stop it.

``Bag.add_files`` uses one for a run of many small files (``bag.stager_wanted``): a
thread of the run hands the child batch after batch and waits for each answer outside
the interpreter lock, while the run's main thread makes the checkpoints. A child that
cannot be started, dies, or answers what was not asked is given up (``StagerGone``): the
run stages the batch itself, as it does without one, and every later batch too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from brankas.core.disk import stagerproc
from brankas.core.processes import module_env

log = logging.getLogger(__name__)

CHILD_MODULE = "brankas.core.disk.stagerproc"
# Seconds a child whose input was closed has to end before it is killed.
STOP_WAIT = 10.0
# Seconds the child has to answer one batch (a few MiB staged or read back) before it is
# killed and given up (s25 review): a child stopped (SIGSTOP) or stuck while this process
# is not would otherwise hold the run, and its end on Ctrl-C, for ever. A disk that hangs
# the child hangs the run's own threads too: they take the batch over, and wait as before.
ANSWER_WAIT = 300.0


class StagerGone(Exception):  # noqa: N818 - a state, not an error shown to anyone
    """The child is gone or broken: stage in this process."""


@dataclass(frozen=True)
class Request:
    source: str  # the archive's file
    staged: str  # the new copy in the disk's staging folder
    size: int
    sha256: str  # expected, or ""


@dataclass(frozen=True)
class Answer:
    kind: str  # "ok", "src", "size", "sha" or "disk" (``stagerproc``)
    sha256: str = ""
    size: int = 0  # ok: the size; size: the bytes read
    errno: int = 0
    message: str = ""
    path: str = ""


def child_env() -> dict[str, str]:
    """A child's environment: this one, with this process's import path (a test or a
    tool may have extended ``sys.path``), and without the working folder in front of it
    (``processes.module_env``)."""
    return module_env(PYTHONPATH=os.pathsep.join(p for p in sys.path if p))


class Stager:
    """One staging child. ``stage`` may be called from any thread (one batch at a time)."""

    def __init__(self) -> None:
        # A frozen program's executable is the program, not an interpreter: given
        # ``-m ...`` it would start itself (s25 review).
        if not sys.executable or getattr(sys, "frozen", False):
            raise StagerGone("no interpreter to start")
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed by ``close``
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
                [sys.executable, "-m", CHILD_MODULE], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=self._err, env=child_env())
        except OSError as exc:
            self._err.close()
            raise StagerGone(str(exc)) from exc
        self._lock = threading.Lock()
        self.alive = True
        self.late = False  # killed by the watch: no answer in ANSWER_WAIT seconds
        self._deadline: float | None = None  # the answer asked for is due by then
        self._asked = 0  # batches asked for: each answer names its batch
        self._over = threading.Event()
        self._watch = threading.Thread(target=self._watching, name="brankas-stager-watch",
                                       daemon=True)
        self._watch.start()

    def stage(self, requests: list[Request]) -> list[Answer]:
        """The child's answers for ``requests``, in order, up to the first failure.
        ``StagerGone`` when it cannot answer (then it is stopped; the caller removes the
        staging paths it gave, some of which the child may have written)."""
        fields: list[bytes] = [stagerproc.STAGE]
        for r in requests:
            fields += (os.fsencode(r.source), os.fsencode(r.staged), str(r.size).encode(),
                       r.sha256.encode("ascii", "replace"))
        return self._answers(fields, len(requests), every=False)

    def read_back(self, copies: list[tuple[str, int]]) -> list[Answer]:
        """The child's read-back of each durable copy (its staging path and the size
        written): one answer each (``stagerproc.read_back_batch``). ``StagerGone`` when
        it cannot answer (then it is stopped)."""
        fields: list[bytes] = [stagerproc.READ_BACK]
        for path, size in copies:
            fields += (os.fsencode(path), str(size).encode())
        return self._answers(fields, len(copies), every=True)

    def _answers(self, fields: list[bytes], asked: int, *, every: bool) -> list[Answer]:
        """``answers`` of the child's reply to ``fields``; a malformed one gives it up."""
        got = answers(self._ask(fields), asked, every=every)
        if got is None:
            self.stop("a malformed answer")
            raise StagerGone("a malformed answer")
        return got

    def _ask(self, fields: list[bytes]) -> list[bytes]:
        """The fields of the child's answer to ``fields`` (the operation first). Each
        batch is numbered, and its answer must name it: a frame too many is never taken
        for the answer to the next batch."""
        with self._lock:
            if not self.alive:
                raise StagerGone("stopped")
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self._asked += 1
            number = str(self._asked).encode()
            self._deadline = time.monotonic() + ANSWER_WAIT
            try:
                self.proc.stdin.write(stagerproc.frame([fields[0], number, *fields[1:]]))
                self.proc.stdin.flush()
                reply = stagerproc.read_frame(self.proc.stdout)
            except (OSError, ValueError) as exc:
                self.stop(f"{type(exc).__name__}: {exc}")
                raise StagerGone(str(exc)) from exc
            finally:
                self._deadline = None
            if reply is None or self.late:
                why = f"no answer in {ANSWER_WAIT:g} s" if self.late else "no answer"
                self.stop(why)
                raise StagerGone(why)
            if reply[:1] != [number]:
                self.stop("an answer to another batch")
                raise StagerGone("an answer to another batch")
            return reply[1:]

    def _watching(self) -> None:
        """Kill the child when an answer is overdue: the read waiting for it then ends."""
        while not self._over.wait(min(1.0, ANSWER_WAIT / 4)):
            deadline = self._deadline
            if deadline is not None and time.monotonic() > deadline:
                self.late = True
                with contextlib.suppress(OSError):
                    self.proc.kill()
                return

    def stop(self, why: str) -> None:
        """Give the child up (killed): every later batch is staged in this process."""
        self.alive = False
        self._over.set()
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()
        err = ""
        with contextlib.suppress(OSError, ValueError):  # ValueError: closed meanwhile
            self._err.seek(0)
            err = self._err.read()[-2000:].decode("utf-8", "replace")
        log.warning("staging child given up (%s; exit %s): %s; staging in process",
                    why, self.proc.returncode, err)

    def close(self) -> None:
        """Stop the child: the end of its input ends it (killed if it does not). May be
        called while a thread still waits for an answer (the run interrupted): its input
        is closed first, the child ended, and only then its output and the watch (which
        until then kills a child whose answer is overdue: a stream is not closed while a
        thread writes or reads it)."""
        self.alive = False
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            with contextlib.suppress(OSError):
                self.proc.stdout.close()
        self._over.set()
        self._watch.join()
        self._err.close()


def answers(reply: list[bytes], asked: int, *, every: bool = False) -> list[Answer] | None:
    """The answers in ``reply`` (``stagerproc.stage_batch``: one per request up to the
    first failure and nothing after it; ``every``: ``read_back_batch``, one per request);
    None when it holds anything else."""
    if len(reply) % stagerproc.FIELDS_OUT:
        return None
    out: list[Answer] = []
    try:
        for i in range(0, len(reply), stagerproc.FIELDS_OUT):
            kind, a, b, c = (f.decode("utf-8", "replace")
                             for f in reply[i:i + stagerproc.FIELDS_OUT])
            if not every and out and out[-1].kind != "ok":
                return None  # an answer after a failure
            if kind == "ok":
                if len(a) != 64:
                    return None
                out.append(Answer("ok", sha256=a, size=int(b)))
            elif kind == "size" and not every:
                out.append(Answer("size", size=int(a)))
            elif (kind == "sha" and not every) or (kind in ("notfile", "moved") and every):
                out.append(Answer(kind))
            elif kind in ("src", "disk") and (kind == "disk" or not every):
                out.append(Answer(kind, errno=int(a), message=b, path=c))
            else:
                return None
    except ValueError:
        return None
    if every:
        return out if len(out) == asked else None
    if len(out) > asked or (len(out) < asked and (not out or out[-1].kind == "ok")):
        return None
    return out
