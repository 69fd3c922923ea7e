"""The audit segment's lines from a plain database cursor, and the second process that
makes a large segment while the run copies (s24; ``segments.EarlySegment``).

No Django here: the lines are made from the rows of a DB-API cursor (Django's, in the
run's own process; a plain ``sqlite3`` or ``psycopg`` connection, in the child), with the
SQL the run's process builds from the model (``segments.query``) and hands over. The
child (``python -m brankas.web.backup.segmentproc``) imports no Django (the database
driver, ``pyrage`` and the standard library: about 21 MiB resident for the few seconds it
lives, beside a run of about 100 MiB then; the run's own peak, later, is higher). It reads its job
on its standard input; writes the entries ``after < seq <= first_head`` (the head the run
read with its sources) to its file, encrypted as they are read (``pyrage`` pulls the lines
piece by piece); closes it, answers with the file's size and SHA-256 (one line on its
standard output) and exits, a few seconds into the run's copy (s24: it does not wait for
the run's close; the run writes the entries since as a second, small segment itself). The
end of its standard input before it has answered (the run failed, stopped, or was
killed: the kernel closes the pipe of a killed process) removes its file and ends it at
once: it never writes anywhere but that one file of the run's staging folder, which
``runfiles.sweep_dead_runs`` removes anyway once the run's lock is free (a file the child
finished for a run killed later; on Windows, where a file open in the child cannot be
removed by it, that is how it goes too: with the run's files, or at the next run).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import json
import marshal
import os
import sys
import threading
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

NAMES = ("seq", "at", "actor", "action", "target", "outcome", "detail", "prev_hash", "hash")


def at_text_aware(tz: Any) -> Callable[[Any], str]:
    """An entry's time as ``audit_content`` writes it (``isoformat()`` of the aware time
    the ORM gives), from what a plain cursor gives: on SQLite a naive time in the
    connection's zone (or its text), on PostgreSQL an aware time in it."""
    def text(value: Any) -> str:
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return str(value.isoformat())
    return text


def _at_text_utc(value: Any) -> str:
    # SQLite keeps a time as the text of its naive UTC value (``YYYY-MM-DD
    # HH:MM:SS[.ffffff]``): read as text, it becomes the ISO text of the aware value.
    return f"{value.replace(' ', 'T', 1)}+00:00"


def detail_text(value: Any) -> str:
    """The detail's JSON text as the database holds it (one line), or encoded."""
    if isinstance(value, str) and "\n" not in value and "\r" not in value:
        return value
    if isinstance(value, str):
        value = json.loads(value)
    return json.dumps(value, ensure_ascii=False)


def lines_from(cursor: Any, query: dict[str, Any], after: int, head: int, batch: int,
               errors: tuple[type[BaseException], ...], tz: Any = None,
               param: str = "%s") -> Iterator[bytes]:
    """The entries ``after < seq <= head`` as segment lines, in pieces of ``batch`` rows
    (each piece one bytes object), read through ``cursor`` with ``query`` (table and
    quoted columns, ``segments.query``; ``param`` the driver's placeholder). ``errors``:
    what the driver raises for a detail SQLite's ``json()`` refuses (that piece and the
    rest are then made by Python). ``tz``: the connection's zone, for a time read as a
    datetime (unused when ``query["utc_text"]``)."""
    quoted = list(query["columns"])
    table, seq_col = query["table"], query["seq"]
    at_text: Callable[[Any], str] = at_text_aware(tz)
    if query["utc_text"]:
        quoted[1] = f"CAST({quoted[1]} AS TEXT)"
        at_text = _at_text_utc
    cols = ", ".join(quoted)
    where = (f"FROM {table} WHERE {seq_col} > {param} AND {seq_col} <= {param} "
             f"ORDER BY {seq_col} LIMIT {int(batch)}")  # the names are the model's, quoted
    sql = f"SELECT {cols} {where}"  # noqa: S608
    # s22: on SQLite in UTC, SQLite makes each line itself (``json_object``: the same
    # keys in the same order, text escaped as ``encode_basestring`` escapes it, the
    # detail's JSON minified by ``json()``; the column's CHECK holds it valid JSON):
    # 9 Python string calls an entry fewer, about 1 CPU-s of a full backup's 1,000,000.
    made_by_sqlite = None
    if query["sqlite_lines"] and query["utc_text"]:
        pairs = ", ".join(
            f"'{name}', " + (f"replace({col}, ' ', 'T') || '+00:00'" if name == "at"
                             else f"json({col})" if name == "detail" else col)
            for name, col in zip(NAMES, query["columns"], strict=True))
        made_by_sqlite = f"SELECT {seq_col}, json_object({pairs}) {where}"  # noqa: S608
    s = encode_basestring
    detail = detail_text
    while after < head:
        if made_by_sqlite is not None:
            try:
                cursor.execute(made_by_sqlite, [after, head])
                made = cursor.fetchall()
            except errors:
                # A detail ``json()`` refuses (its CHECK bypassed, or nested deeper
                # than this SQLite takes): this piece and the rest as before s22.
                made_by_sqlite = None
                continue
            if not made:
                return
            yield ("\n".join([line for _, line in made]) + "\n").encode("utf-8")
            after = made[-1][0]
            continue
        cursor.execute(sql, [after, head])
        rows = cursor.fetchall()
        if not rows:
            return
        yield "".join([
            f'{{"seq":{seq},"at":{s(at_text(at))},"actor":{s(actor)},'
            f'"action":{s(action)},"target":{s(target)},"outcome":{s(outcome)},'
            f'"detail":{detail(det)},"prev_hash":{s(prev)},"hash":{s(digest)}}}\n'
            for seq, at, actor, action, target, outcome, det, prev, digest in rows
        ]).encode("utf-8")
        after = rows[-1][0]


# -- the child ----------------------------------------------------------------------------

def _connect(database: dict[str, Any]) -> tuple[Any, tuple[type[BaseException], ...], str]:
    """A plain connection to the run's database (read only where the driver allows), the
    driver's error for a refused ``json()``, its placeholder."""
    if database["vendor"] == "sqlite":
        import sqlite3

        # Read only (no write, no checkpoint when it closes): the WAL lets it read beside
        # the run's own transaction. No type detection: the columns are read as stored.
        # A small page cache: the rows are read once, in order.
        lite = sqlite3.connect(_read_only_uri(database["path"]), uri=True,
                               timeout=float(database.get("timeout", 30)),
                               isolation_level=None, check_same_thread=False)
        lite.execute("PRAGMA cache_size = -256")
        return lite, (sqlite3.DatabaseError,), "?"
    import psycopg
    from psycopg.types.string import TextLoader

    conn = psycopg.connect(database["conninfo"], autocommit=True)
    conn.execute("SET TIME ZONE 'UTC'")
    conn.read_only = True
    conn.adapters.register_loader("jsonb", TextLoader)  # the detail's text, as Django reads it
    return conn, (psycopg.DatabaseError,), "%s"


def _read_only_uri(path: str) -> str:
    """``file:`` URI of the database file, opened read only."""
    return f"{Path(path).absolute().as_uri()}?mode=ro"


def _abandon(path: str) -> None:
    """The run is gone or stopped: remove the file, end now (whatever else runs)."""
    _remove(path)
    os._exit(3)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class _Watch:
    """The run's end of the pipe, watched by a thread of its own from the start: the end
    of the input before the child has answered (the run stopped, failed or was killed)
    removes the file and ends the child at once, mid-segment too. Once ``done`` the file
    is the run's: the input's end leaves it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._done = False
        threading.Thread(target=self._read, name="brankas-segment-watch", daemon=True).start()

    def _read(self) -> None:
        try:
            while os.read(0, 4096):  # the run sends nothing more: only the end counts
                pass
        except OSError:
            pass
        with self._lock:
            if not self._done:
                _abandon(self.path)

    def done(self) -> None:
        """The file is complete: from now on it is the run's (or its sweep's)."""
        with self._lock:
            self._done = True


class _Plain(io.RawIOBase):
    """The segment's plaintext, made as the cipher reads it: one piece of lines at a time,
    never more (no queue, no thread between the database and the cipher)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._piece = memoryview(b"")
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            while not self._piece:
                piece = next(self._pieces, None)
                if piece is None:
                    return 0
                self._piece = memoryview(piece)
        except BaseException as exc:  # pyrage loses it: ``run_child`` raises it again
            self.error = self.error or exc
            raise
        n = min(len(buffer), len(self._piece))
        buffer[:n] = self._piece[:n]
        self._piece = self._piece[n:]
        return n


class _Out(io.RawIOBase):
    """The file as written: its SHA-256 and size taken on the way (``HashingWriter``)."""

    def __init__(self, out: Any, sha256: Any) -> None:
        self._out = out
        self.hash = sha256()
        self.size = 0
        self.error: BaseException | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        try:
            self._out.write(data)
        except BaseException as exc:
            self.error = self.error or exc
            raise
        self.hash.update(data)
        n = len(data)
        self.size += n
        return n


def run_child(job: dict[str, Any]) -> dict[str, Any]:
    """Make the segment ``job`` describes; the file's size and SHA-256. The same bytes as
    ``runfiles.RunFiles.write`` with recipients makes in the run's process (age STREAM
    through ``pyrage.encrypt_io``, as ``crypto.encrypt_stream`` calls it: the child does
    not import ``brankas.core.crypto``, whose imports cost 3.6 MB resident)."""
    import pyrage
    from pyrage import x25519

    path = job["path"]
    # Private, never an existing file (``fsutil.open_private``): a file there is not this
    # child's, and is neither written nor removed (``main``); the watch starts once the
    # file is the child's.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 int(job.get("mode", 0o600)))  # s27: on the backup disk, as its copies are
    watch = _Watch(path)
    conn, errors, param = _connect(job["database"])
    cursor = conn.cursor()
    query = job["query"]
    batch, after, first = int(job["batch"]), int(job["after"]), int(job["first_head"])
    utc = datetime.timezone.utc  # noqa: UP017 - the name works on every version

    def pieces() -> Iterator[bytes]:
        yield from lines_from(cursor, query, after, first, batch, errors, utc, param)

    recipients = [x25519.Recipient.from_str(r) for r in job["recipients"]]
    with open(fd, "wb", buffering=int(job["buffer"])) as raw:
        plain, out = _Plain(pieces()), _Out(raw, hashlib.sha256)
        try:
            pyrage.encrypt_io(plain, out, recipients)
        except Exception:
            original = plain.error or out.error
            if original is not None:
                raise original from None
            raise
    conn.close()
    watch.done()
    return {"size": out.size, "sha256": out.hash.hexdigest()}


def main() -> int:
    import signal

    # Ctrl-C in a terminal reaches the whole process group: the run decides (it closes
    # this process's input, or reads its answer).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job = read_job(sys.stdin.buffer)
    if job is None:
        return 3
    try:
        result = run_child(job)
    except FileExistsError:
        raise  # a file at its path before it: not its own, left as it is
    except BaseException:
        _remove(job["path"])
        raise
    try:
        os.write(1, f"{result['size']} {result['sha256']}\n".encode("ascii"))
    except OSError:  # the run is gone: nobody will copy the file
        _abandon(job["path"])
    # Ends now, its input still open (the thread reading it would hold the buffer's
    # lock at the interpreter's shutdown): the run reads the answer at its close.
    os._exit(0)


# The run and its child speak in lines and ``marshal`` (the same interpreter on both
# ends, through a private pipe): the job (its length on a line, then its bytes), the
# answer ("SIZE SHA256"). The run keeps the child's input open
# (it sends nothing more) until it has read the answer: its end, before, stops the child.

def job_bytes(job: dict[str, Any]) -> bytes:
    data = marshal.dumps(job)
    return b"%d\n" % len(data) + data


def read_job(stream: Any) -> dict[str, Any] | None:
    line = stream.readline().strip()
    if not line.isdigit():
        return None
    data = stream.read(int(line))
    job = marshal.loads(data)  # noqa: S302 - the run's own, through its private pipe
    return job if isinstance(job, dict) else None


def read_answer(out: bytes) -> tuple[int, str] | None:
    """The child's answer: the file's size and SHA-256, or None when it is not one."""
    parts = out.split()
    if len(parts) != 2 or not parts[0].isdigit() or len(parts[1]) != 64:
        return None
    try:
        int(parts[1], 16)
    except ValueError:
        return None
    return int(parts[0]), parts[1].decode("ascii")


if __name__ == "__main__":
    sys.exit(main())
