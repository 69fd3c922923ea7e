"""The audit log written to a backup disk as sealed segments, and read back by recover
(the layout and its checks: ``brankas.core.disk.segments``).

A run writes the entries the disk lacks, after the last segment the disk's newest
authentic seal names (when that segment is still on the disk as sealed and this database
holds the same entry at its end), straight from the database: rows read 5,000 at a time
by sequence number through a plain cursor (no model object per entry), each line made
with the C JSON string encoder and written in large pieces, encrypted as written. A full
backup writes the whole log this way; a backup of 100 documents writes the few hundred
entries since the last run.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connection, transaction
from django.utils.dateparse import parse_datetime

from brankas.core.disk import format as fmt
from brankas.core.disk import fs as diskfs
from brankas.core.disk import seal as diskseal
from brankas.core.disk import segments as seg
from brankas.core.disk.reader import BagReader
from brankas.core.disk.stager import child_env
from brankas.core.errors import BrankasError, SetupError
from brankas.web.audit.models import AuditEvent, AuditSequence
from brankas.web.backup import runfiles, segmentproc

if TYPE_CHECKING:  # the disk's writer (~6 ms of imports): not for an offsite push (s20)
    from brankas.core.disk.bag import Bag

log = logging.getLogger(__name__)

BATCH = 5000
# s22: on SQLite (UTC) each line is made by SQLite (``lines``); False: by Python, as on
# PostgreSQL (the review's differential test compares the two; a switch back if needed).
SQLITE_LINES = True
# s23: a run whose segment holds at least this many entries makes it while the documents
# are copied (``EarlySegment``; s24: in a second process); a smaller one at the close.
EARLY_ENTRIES = 20_000
# Its pieces and buffer (the child's file) are smaller than the close's: the child runs
# beside the snapshot and the copy, and its resident size (about 21 MiB) adds to the
# run's while it lives: the first seconds of the run, when the run holds about 95-110 MiB
# (the process tree's peak, bench/proc.py, is the run's own at the end of the copy).
EARLY_BATCH = 500
EARLY_BUFFER = 64 << 10
# Recover loads at most 2,000 entries or this many bytes of their lines at once (a line
# may be 1 MiB: 2,000 of them would be 2 GiB held before the file's SHA-256 is known).
BATCH_BYTES = 4 << 20


def disk_segments(bag: Bag, seals: diskseal.SealReport) -> list[seg.Segment]:
    """The sealed segments on the disk a run may continue from: those the newest
    authentic run names, when they make a whole log on the disk and this database holds
    the entry they end with (same hash). Otherwise none: the run writes the log whole."""
    newest = next((r for r in reversed(seals.authentic)
                   if r.seal is not None and seg.STATEMENT_KEY in r.seal.statement), None)
    if newest is None or newest.seal is None:
        return []
    try:
        segments = seg.from_statement(newest.seal.statement[seg.STATEMENT_KEY])
    except ValueError:
        return []
    head = newest.seal.statement.get("audit_head")
    if not segments or seg.list_problems(segments, head, bag.entries) or not isinstance(
            head, dict):
        return []
    if len(segments) >= seg.MAX_SEGMENTS:
        return []  # one more would pass the bound: the run writes the log whole again
    if not all(_still_there(bag, s) for s in segments):
        return []  # a segment gone, cut short or not a file: the run writes the log whole
    last = segments[-1]
    if not AuditEvent.objects.filter(seq=last.last, hash=head["hash"]).exists():
        return []  # this database's log is not the one on the disk
    return segments


def _still_there(bag: Bag, segment: seg.Segment) -> bool:
    """Whether a sealed segment is on the disk as the manifest says: a regular file of the
    size recorded, reached through real folders (an ``lstat``, as for a document; the
    full check of its bytes is ``verify``'s)."""
    try:
        st = diskfs.stat_file(bag.dest, f"{fmt.DATA}/{segment.path}")
    except (OSError, BrankasError):
        return False
    return st.st_size == bag.sizes.get(segment.path)


def query() -> dict[str, Any]:
    """The audit table and its columns as the segment's SQL names them (quoted by this
    connection), for ``segmentproc.lines_from`` in this process or in the child."""
    meta = AuditEvent._meta
    quote = connection.ops.quote_name
    columns = {f.name: str(f.column) for f in meta.concrete_fields}
    tz = connection.timezone
    utc = tz is not None and tz.utcoffset(None) == datetime.timedelta(0)
    return {"table": quote(meta.db_table),
            "columns": [quote(columns[n]) for n in segmentproc.NAMES],
            "seq": quote(columns["seq"]),
            # SQLite keeps a time as the text of its naive UTC value: read as text (no
            # converter), two string operations make the ISO text of the aware value.
            "utc_text": connection.vendor == "sqlite" and utc,
            "sqlite_lines": SQLITE_LINES}


def lines(after: int, head: int, batch: int = BATCH) -> Iterator[bytes]:
    """The entries ``after < seq <= head`` as segment lines, in pieces of ``batch`` rows
    (each piece one bytes object), through this process's connection."""
    spec = query()
    with connection.cursor() as cursor:
        yield from segmentproc.lines_from(cursor, spec, after, head, batch,
                                          (DatabaseError,), connection.timezone)


def segment_write(files: runfiles.RunFiles, after: int, head: int,
                  recipients: list[str]) -> tuple[seg.Segment, runfiles.Written]:
    """Write the segment of the entries ``after < seq <= head`` (encrypted to
    ``recipients``) to the run's files."""
    path = seg.segment_path(after + 1, head)
    with files.write(path.rsplit("/", 1)[1], recipients=recipients) as (out, done):
        for piece in lines(after, head):
            out.write(piece)
    written = done[0]
    return seg.Segment(path, after + 1, head, written.sha256), written


class EarlySegment:
    """The run's segment made while the run copies (s23 in a thread, s24 in a second
    process: the thread held the interpreter lock against the snapshot and the copy). The
    child (``segmentproc``) reads the entries ``after < seq <= first_head`` (in the
    database before the run read its sources: an entry never changes once written)
    through its own plain connection, encrypts them into the run's files on the other
    core, answers with the file's size and SHA-256 and exits, a few seconds into the
    copy (s24, second version: it does not wait for the close, where its idle size added
    to the run's peak). At the close (``finish``) the run takes that file as a complete
    segment and writes the entries since (``first_head < seq <= head``, a few dozen) as a
    second, small one itself (``segment_write``): a full backup adds two segments to the
    disk's list, an incremental run one. Nothing goes to the disk from here: the
    segments are copied in the closing checkpoint with the control list and the seal.
    The child failing or killed: ``finish`` makes one segment of everything in this
    process, as a small run does. ``cancel`` stops it (a run that fails); a run killed
    closes the child's input, and the child, if it has not answered yet, removes its
    file and ends (a file it finished is swept with the run's staging folder)."""

    def __init__(self, files: runfiles.RunFiles, after: int, first_head: int,
                 recipients: list[str], database: dict[str, Any]) -> None:
        self.after = after
        self.first_head = first_head
        self._files = files
        self._recipients = recipients
        self.path = files.path(EARLY_NAME)
        self.fell_back = False  # ``finish`` made the segment here: the child failed
        job = {"database": database, "query": query(), "after": after,
               "first_head": first_head, "recipients": recipients, "path": str(self.path),
               "batch": EARLY_BATCH, "buffer": EARLY_BUFFER,
               # On the backup disk (s27): made as the disk's other copies are.
               "mode": 0o666 if files.on_disk else 0o600}
        # Its errors to a file, not a pipe: the run reads the answer only at its close,
        # and a child stopped on a full pipe would never end.
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed by ``_reap``
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
                [sys.executable, "-m", CHILD_MODULE], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=self._err, env=child_env())
        except BaseException:
            self._err.close()
            raise
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(segmentproc.job_bytes(job))
            self.proc.stdin.flush()
        except OSError:
            pass  # the child already gone: ``finish`` makes the segment here

    def finish(self, head: int) -> list[tuple[seg.Segment, runfiles.Written]]:
        """The segments of ``after < seq <= head`` (``head`` at least ``first_head``):
        the child's up to ``first_head`` and, when entries were added since, a second
        made here; or one made here of them all when the child failed."""
        if head < self.first_head:
            raise ValueError("the run's head is before the segment's")
        try:
            if not self._wait():
                log.warning("audit segment child stalled (its file unchanged for %s s): "
                            "killed", STALL_SECONDS)
                self.proc.kill()
                self.proc.wait()
            out, err = self._reap()
        except BaseException:
            self.cancel()
            raise
        written = self._result(out)
        if written is None:
            log.warning("audit segment child failed (exit %s): %s; made in process",
                        self.proc.returncode, err.decode("utf-8", "replace")[-2000:])
            with contextlib.suppress(OSError):
                self.path.unlink()  # what the child left (332 MB at 1,000,000 entries)
            self.fell_back = True
            return [segment_write(self._files, self.after, head, self._recipients)]
        path = seg.segment_path(self.after + 1, self.first_head)
        made = [(seg.Segment(path, self.after + 1, self.first_head, written.sha256), written)]
        if head > self.first_head:
            made.append(segment_write(self._files, self.first_head, head, self._recipients))
        return made

    def _wait(self) -> bool:
        """Wait for the child to end while its file grows; False when it has not grown for
        ``STALL_SECONDS`` (the child stopped or stuck)."""
        size = -1
        while True:
            try:
                self.proc.wait(timeout=STALL_SECONDS)
                return True
            except subprocess.TimeoutExpired:
                pass
            try:
                now = self.path.stat().st_size
            except OSError:
                now = -1
            if now == size:
                return False
            size = now

    def _reap(self) -> tuple[bytes, bytes]:
        """The child's answer (its standard output to its end: the child has exited) and
        its errors; its input is closed only then (its end, before, stops the child)."""
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.wait()
        self._close_streams()
        self._err.seek(0)
        err = self._err.read()
        self._err.close()
        return out, err

    def _result(self, out: bytes) -> runfiles.Written | None:
        """The child's file as it reports it, when it ended well and the file is there at
        the size it reports."""
        answer = segmentproc.read_answer(out)
        if self.proc.returncode != 0 or answer is None:
            return None
        size, sha = answer
        try:
            on_disk = self.path.stat().st_size
        except OSError:
            return None
        return (runfiles.Written(self.path, size, sha, on_disk=self._files.on_disk)
                if size == on_disk else None)

    def _close_streams(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def cancel(self) -> None:
        """Stop the child and wait for it (it removes its file unless it had finished it;
        the run's files go too)."""
        if self.proc.returncode is None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()  # its end of input: the child removes its file, ends
            try:
                self.proc.wait(timeout=CANCEL_WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_streams()
        self._err.close()


EARLY_NAME = "audit-segment.jsonl.age"
CHILD_MODULE = "brankas.web.backup.segmentproc"
CANCEL_WAIT = 10.0  # seconds a cancelled child has to end before it is killed
# At the close, a child still running whose file has not grown for this long is stopped
# or stuck (SIGSTOP, a debugger, a hung read): killed, and the segment made here; the
# run never waits for it for ever, holding the disk's lock.
STALL_SECONDS = 60.0


def child_database(in_transaction: bool) -> dict[str, Any] | None:
    """How the child reaches this database with a plain connection, or None when it
    cannot see what this process sees (a test's transaction, a database in memory, a
    zone other than UTC) and the segment is made at the close."""
    if in_transaction:
        return None
    tz = connection.timezone
    if tz is None or tz.utcoffset(None) != datetime.timedelta(0):
        return None
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if not name or name == ":memory:" or name.startswith("file:") or not os.path.isfile(
                name):
            return None
        return {"vendor": "sqlite", "path": name,
                "timeout": connection.settings_dict.get("OPTIONS", {}).get("timeout", 30)}
    if connection.vendor == "postgresql":
        from psycopg.conninfo import make_conninfo

        connection.ensure_connection()
        info = connection.connection.info
        return {"vendor": "postgresql",
                "conninfo": make_conninfo(info.dsn, password=info.password or None)}
    return None


def early_segment(after: int, first_head: int, files: runfiles.RunFiles,
                  recipients: list[str], *, in_transaction: bool,
                  listed: int = 0) -> EarlySegment | None:
    """An ``EarlySegment`` when the entries the disk lacks are many (``EARLY_ENTRIES``)
    and the child can see them (``child_database``: not inside a transaction, a test's,
    whose rows another connection does not see); otherwise None (made at the close).
    ``listed``: the disk's segments the run continues; an early segment adds two, which
    must not pass ``MAX_SEGMENTS`` (one made at the close does not)."""
    if first_head - after < max(EARLY_ENTRIES, 1) or listed + 2 > seg.MAX_SEGMENTS:
        return None
    database = child_database(in_transaction)
    if database is None or not sys.executable:
        return None
    try:
        return EarlySegment(files, after, first_head, recipients, database)
    except OSError as exc:  # no interpreter to start (an embedded one): at the close
        log.warning("audit segment child not started: %s; made at the close", exc)
        return None


# -- recover ------------------------------------------------------------------------------

def recover_problems(reader: BagReader, run: diskseal.RunSeal) -> tuple[list[seg.Segment],
                                                                         list[str]]:
    """The segments the sealed ``run`` names and what is wrong with them on the disk
    (before anything is loaded)."""
    assert run.seal is not None
    try:
        segments = seg.from_statement(run.seal.statement[seg.STATEMENT_KEY])
    except ValueError as exc:
        return [], [str(exc)]
    return segments, seg.list_problems(segments, run.seal.statement.get("audit_head"),
                                       reader.entries)


def segments_load(reader: BagReader, segments: list[seg.Segment], identities: list[Any],
                  head: dict[str, Any], on_entry: Callable[[int], None] | None = None) -> int:
    """Load the audit log from ``segments`` into the (empty) log of the database just
    loaded from a snapshot, in one transaction: each file read as the office sealed it
    (SHA-256 checked as it is read; the entries are kept only when it matches), decrypted
    as a stream, each entry checked to be the next one (a break in its hash chain is
    loaded as sealed, for ``audit verify`` to report), the last the sealed head.
    Returns the number of entries; raises ``recover_audit_unusable`` (nothing loaded)."""
    # A break in the sealed log is loaded as sealed; ``audit verify`` reports it.
    chain = seg.Chain(breaks_allowed=True)
    batch: list[AuditEvent] = []
    held = [0]  # bytes of the lines in ``batch``: the disk decides how long they are

    def flush() -> None:
        AuditEvent.objects.bulk_create(batch)
        batch.clear()
        held[0] = 0

    def on_line(line: bytes) -> None:
        row = chain.take(line)
        at = parse_datetime(row["at"])
        if at is None:
            raise seg.ChainBroken(f"entry {row['seq']}: not a time")
        batch.append(AuditEvent(seq=row["seq"], at=at, actor=row["actor"],
                                action=row["action"], target=row["target"],
                                outcome=row["outcome"], detail=row["detail"],
                                prev_hash=row["prev_hash"], hash=row["hash"]))
        held[0] += len(line)
        if len(batch) >= 2000 or held[0] >= BATCH_BYTES:
            flush()
            if on_entry is not None:
                on_entry(chain.seq)

    current = ""
    try:
        with transaction.atomic():
            if AuditEvent.objects.exists():
                raise seg.ChainBroken("the log is not empty")
            for s in segments:
                current = s.path
                sink = seg.Lines(on_line)
                reader.decrypt_to(s.path, sink, identities, limit=seg.SEGMENT_LIMIT)
                sink.close()
                if chain.seq != s.last:
                    raise seg.ChainBroken(f"it ends at entry {chain.seq}, not {s.last}")
                flush()
            if (chain.seq, chain.prev) != (head.get("seq"), head.get("hash")):
                raise seg.ChainBroken("the log does not end at the sealed head")
            counter, _ = AuditSequence.objects.get_or_create(id=1)
            if counter.last < chain.seq:
                AuditSequence.objects.filter(id=1).update(last=chain.seq)
    except seg.ChainBroken as exc:
        raise SetupError("recover_audit_unusable", path=str(reader.dest),
                         detail=f"data/{current}: {exc}"[:500]) from None
    except BrankasError as exc:
        raise SetupError("recover_audit_unusable", path=str(reader.dest),
                         detail=f"data/{current}: {exc.message()}"[:500]) from None
    except Exception:  # noqa: BLE001 - pyrage: not encrypted to these identities, damaged
        raise SetupError("recover_audit_unusable", path=str(reader.dest),
                         detail=f"data/{current}: does not open with this key") from None
    return chain.seq
