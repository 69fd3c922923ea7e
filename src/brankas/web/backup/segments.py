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
import json
import queue
import threading
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connection, transaction
from django.utils.dateparse import parse_datetime

from brankas.core.disk import format as fmt
from brankas.core.disk import fs as diskfs
from brankas.core.disk import seal as diskseal
from brankas.core.disk import segments as seg
from brankas.core.disk.reader import BagReader
from brankas.core.errors import BrankasError, SetupError
from brankas.web.audit.models import AuditEvent, AuditSequence
from brankas.web.backup import runfiles

if TYPE_CHECKING:  # the disk's writer (~6 ms of imports): not for an offsite push (s20)
    from brankas.core.disk.bag import Bag

BATCH = 5000
# s22: on SQLite (UTC) each line is made by SQLite (``lines``); False: by Python, as on
# PostgreSQL (the review's differential test compares the two; a switch back if needed).
SQLITE_LINES = True
# s23: a run whose segment holds at least this many entries makes it in a thread of its
# own while the documents are copied (``EarlySegment``); a smaller one at the close.
EARLY_ENTRIES = 20_000
# Its pieces and buffers are smaller than the close's: it runs beside the snapshot and the
# copy, whose own peaks it must not add much to (the run's peak stays under 150 MiB).
EARLY_BATCH = 1000
EARLY_BUFFER = 256 << 10
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


def _at_text(tz: Any) -> Callable[[Any], str]:
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


def _detail(value: Any) -> str:
    """The detail's JSON text as the database holds it (one line), or encoded."""
    if isinstance(value, str) and "\n" not in value and "\r" not in value:
        return value
    if isinstance(value, str):
        value = json.loads(value)
    return json.dumps(value, ensure_ascii=False)


def lines(after: int, head: int, batch: int = BATCH) -> Iterator[bytes]:
    """The entries ``after < seq <= head`` as segment lines, in pieces of ``batch`` rows
    (each piece one bytes object)."""
    meta = AuditEvent._meta
    table = connection.ops.quote_name(meta.db_table)
    names = ("seq", "at", "actor", "action", "target", "outcome", "detail", "prev_hash", "hash")
    columns = {f.name: str(f.column) for f in meta.concrete_fields}
    quoted = [connection.ops.quote_name(columns[n]) for n in names]
    at_text = _at_text(connection.timezone)
    tz = connection.timezone
    if connection.vendor == "sqlite" and tz is not None and (
            tz.utcoffset(None) == datetime.timedelta(0)):
        # SQLite keeps a time as the text of its naive UTC value (``YYYY-MM-DD
        # HH:MM:SS[.ffffff]``): read as text (no converter), it becomes the ISO text of
        # the aware value by two string operations, not three datetime ones.
        quoted[1] = f"CAST({quoted[1]} AS TEXT)"

        def at_text(value: Any) -> str:
            return f"{value.replace(' ', 'T', 1)}+00:00"
    cols = ", ".join(quoted)
    seq_col = connection.ops.quote_name(columns["seq"])
    where = (f"FROM {table} WHERE {seq_col} > %s AND {seq_col} <= %s "
             f"ORDER BY {seq_col} LIMIT {int(batch)}")  # the names are the model's, quoted
    sql = f"SELECT {cols} {where}"  # noqa: S608
    # s22: on SQLite in UTC, SQLite makes each line itself (``json_object``: the same
    # keys in the same order, text escaped as ``encode_basestring`` escapes it, the
    # detail's JSON minified by ``json()``; the column's CHECK holds it valid JSON):
    # 9 Python string calls an entry fewer, about 1 CPU-s of a full backup's 1,000,000.
    made_by_sqlite = None
    if SQLITE_LINES and quoted[1].startswith("CAST("):
        pairs = ", ".join(
            f"'{name}', " + (f"replace({col}, ' ', 'T') || '+00:00'" if name == "at"
                             else f"json({col})" if name == "detail" else col)
            for name, col in zip(names, quoted, strict=True))
        made_by_sqlite = f"SELECT {seq_col}, json_object({pairs}) {where}"  # noqa: S608
    s = encode_basestring
    detail_text = _detail
    with connection.cursor() as cursor:
        while after < head:
            if made_by_sqlite is not None:
                try:
                    cursor.execute(made_by_sqlite, [after, head])
                    made = cursor.fetchall()
                except DatabaseError:
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
                f'"detail":{detail_text(detail)},"prev_hash":{s(prev)},"hash":{s(digest)}}}\n'
                for seq, at, actor, action, target, outcome, detail, prev, digest in rows
            ]).encode("utf-8")
            after = rows[-1][0]


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


class _Cancelled(Exception):
    """The run stopped before its close: the early segment is thrown away."""


class EarlySegment:
    """The run's segment made while the run copies (s23): the entries ``after < seq <=
    first_head`` (in the database before the run read its sources: an entry never
    changes once written) read and encrypted in a thread of its own, through its own
    database connection, into the run's files; at the close (``finish``) the entries up
    to the run's head are added to the same stream and the file is complete. Nothing
    goes to the disk from here: the segment is copied in the closing checkpoint with the
    control list and the seal, as before. ``cancel`` stops it (a run that fails)."""

    def __init__(self, files: runfiles.RunFiles, after: int, first_head: int,
                 recipients: list[str]) -> None:
        self.after = after
        self.first_head = first_head
        self._files = files
        self._recipients = recipients
        self._head: queue.Queue[int | None] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._done: list[runfiles.Written] = []
        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._make, name="brankas-segment",
                                        daemon=True)
        self._thread.start()

    def _make(self) -> None:
        try:
            with self._files.write(EARLY_NAME, recipients=self._recipients,
                                   buffer=EARLY_BUFFER) as (out, done):
                for piece in lines(self.after, self.first_head, EARLY_BATCH):
                    if self._stop.is_set():
                        raise _Cancelled
                    out.write(piece)
                head = self._head.get()
                if head is None:
                    raise _Cancelled
                for piece in lines(self.first_head, head, EARLY_BATCH):
                    out.write(piece)
            self._done.extend(done)
        except BaseException as exc:  # handed to ``finish``
            self._failure.append(exc)
        finally:
            connection.close()  # this thread's own connection

    def finish(self, head: int) -> tuple[seg.Segment, runfiles.Written]:
        """The segment of ``after < seq <= head`` (``head`` at least ``first_head``), once
        complete; the thread's error, if it had one."""
        if head < self.first_head:
            raise ValueError("the run's head is before the segment's")
        self._head.put(head)
        self._thread.join()
        if self._failure:
            raise self._failure[0]
        written = self._done[0]
        path = seg.segment_path(self.after + 1, head)
        return seg.Segment(path, self.after + 1, head, written.sha256), written

    def cancel(self) -> None:
        """Stop the thread and wait for it (its file is removed with the run's files)."""
        if not self._thread.is_alive():
            return
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._head.put_nowait(None)
        self._thread.join()


EARLY_NAME = "audit-segment.jsonl.age"


def early_segment(after: int, first_head: int, files: runfiles.RunFiles,
                  recipients: list[str], *, in_transaction: bool) -> EarlySegment | None:
    """An ``EarlySegment`` when the entries the disk lacks are many (``EARLY_ENTRIES``)
    and the run was not started inside a transaction (``in_transaction``: a test's; a
    thread of its own would not see its rows); otherwise None (made at the close)."""
    if first_head - after < max(EARLY_ENTRIES, 1) or in_transaction:
        return None
    return EarlySegment(files, after, first_head, recipients)


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
