"""Backing up to an external disk, and checking disks: the rules behind the CLI and web.

A run (``backup_run``) copies, in this order, to the bag on the disk
(``brankas.core.disk.bag``):

1. every document file the disk lacks (``data/arsip/...``, exactly as in the archive),
   the key holders' passphrase-protected identities (``data/keys/``);
2. the run's folder ``data/backup/<folder>/``: the biasa register as CSV, the full
   register and the database snapshot encrypted to the key holders and the recovery key,
   and the public recipients;
3. last, the run's backup control list (``daftar-kontrol.csv`` and ``.json``).

The document list and the snapshot are read in one transaction, so the snapshot names
exactly the documents the run copies. A document is recorded as on a disk
(``BackupCopy``) only after the bag's checkpoint that lists it is durable on the disk.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import shutil
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from brankas import __version__
from brankas.core import processes
from brankas.core.access import Action
from brankas.core.disk import seal as diskseal
from brankas.core.disk import segments as diskseg
from brankas.core.disk.bag import (
    AddResult,
    Bag,
    FileOpener,
    Hooks,
    PayloadItem,
    open_or_create,
)
from brankas.core.disk.format import PROBLEMS_KEPT, read_medium, sha256_bytes, shown
from brankas.core.disk.layout import (
    ARCHIVE_DIR,
    CONTROL_CSV,
    CONTROL_FORMAT,
    CONTROL_JSON,
    KEYS_DIR,
    RECIPIENTS,
    REGISTER_BIASA,
    REGISTER_FULL,
    RUNS_DIR,
    SNAPSHOT,
)
from brankas.core.disk.state import Staged
from brankas.core.disk.verify import Expectations, VerifyReport, verify
from brankas.core.errors import BrankasError
from brankas.core.register import lock as archivelock
from brankas.core.terms import REQUESTS_DIR, Category
from brankas.web.accounts.models import Office, User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_record
from brankas.web.backup import custodyhook, healthhook, journal, registers, runfiles, sealing
from brankas.web.backup import segments as auditsegments
from brankas.web.backup.models import BackupCopy, BackupRun, Medium, MediumCheck
from brankas.web.backup.registerseq import register_seq as _register_seq  # s20: its own module
from brankas.web.backup.snapshot import DISK_MODELS, snapshot_write
from brankas.web.backup.versions import superseded_hashes
from brankas.web.consistency import one_view
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey, OfficeKey, SupersededFile
from brankas.web.keys.selectors import Purpose, Recipients, recipients_for
from brankas.web.keys.services import (
    anchor_files,
    key_file_name,
    office_key,
    office_keys_trusted,
    recipients_text,
)
from brankas.web.runtime import brankas_settings
from brankas.web.sendrequests.selectors import request_letters

Progress = Callable[[int, int, int, int], None]  # files_done, files_total, bytes_done, bytes_total



@dataclass
class BackupOutcome:
    run: BackupRun
    medium: Medium
    control: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        run = self.run
        return {
            "run": run.number, "status": run.status, "folder": run.folder,
            "medium": {"medium_id": self.medium.medium_id, "label": self.medium.label},
            "dest": run.dest, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "files_added": run.files_added, "bytes_added": run.bytes_added,
            "skipped": run.files_skipped, "files": run.disk_files, "bytes": run.disk_bytes,
            "categories": run.categories, "agendas": run.agendas, "verified": run.verified,
        }


# -- the disk and its medium record ----------------------------------------------------

def _open_disk(dest: Path, label: str | None, hooks: Hooks | None,
               recorded: Medium | None = None) -> Bag:
    office = Office.objects.get()
    default = label or f"DISK-{Medium.objects.count() + 1:02d}"
    known = recorded.lists if recorded is not None and isinstance(recorded.lists, dict) else None
    return open_or_create(dest, label=default, organization=office.name,
                          software=f"Brankas {__version__}", hooks=hooks, known_lists=known)


def medium_sync(dest: Path, medium_id: str, label: str, created: str) -> Medium:
    """The medium record of the disk at ``dest``, made on first sight; its mount point,
    capacity and free space as they are today."""
    now = timezone.now()
    medium, _ = Medium.objects.get_or_create(
        medium_id=medium_id,
        defaults={"label": label, "created_on_disk": created, "first_used_at": now,
                  "last_used_at": now},
    )
    medium.last_path = str(dest)[:500]
    medium.last_used_at = now
    try:
        usage = shutil.disk_usage(dest)
        medium.capacity_bytes, medium.free_bytes = usage.total, usage.free
    except OSError:
        pass
    medium.save()
    return medium


def _run_folder(number: int, started: Any) -> str:
    return f"{number:04d}_{started:%Y-%m-%dT%H%M%SZ}"


def _next_number() -> int:
    return (BackupRun.objects.aggregate(n=Max("number"))["n"] or 0) + 1


# -- the run -----------------------------------------------------------------------------

def backup_run(*, actor: User, dest: Path | str, label: str | None = None,
               on_progress: Progress | None = None, hooks: Hooks | None = None,
               on_start: Callable[[BackupRun], None] | None = None) -> BackupOutcome:
    """Copy to the disk at ``dest`` what it lacks; record the run as a control-list entry.
    Refused (``rewrap_running``) while the archive is being re-encrypted (a key grant or
    rekey replaces the files a run copies): the run holds the archive lock, shared."""
    require_audited(actor, Action.BACKUP, target=str(dest))
    try:
        held = archivelock.archive_lock(brankas_settings().tmp, archivelock.BACKUP, shared=True)
        held.__enter__()
    except BrankasError as exc:
        audit_record(actor=actor.username, action="backup.run", target=str(dest),
                     outcome="refused", detail={"error": exc.code})
        raise
    try:
        return _backup_run(actor=actor, dest=dest, label=label, on_progress=on_progress,
                           hooks=hooks, on_start=on_start)
    finally:
        held.__exit__(None, None, None)


def _backup_run(*, actor: User, dest: Path | str, label: str | None,
                on_progress: Progress | None, hooks: Hooks | None,
                on_start: Callable[[BackupRun], None] | None) -> BackupOutcome:
    dest = Path(dest).expanduser().absolute()
    try:
        known = read_medium(dest)
        recorded = None
        if known is not None:  # before anything is written: a disk in a safe is refused
            custodyhook.check_backup(known.medium_id)
            recorded = Medium.objects.filter(medium_id=known.medium_id).first()
            if recorded is not None:
                sealing.check_disk_is(dest, recorded)
        bag = _open_disk(dest, label, hooks, recorded)
    except BrankasError as exc:
        audit_record(actor=actor.username, action="backup.run", target=str(dest),
                     outcome="failed" if exc.kind != "conflict" else "refused",
                     detail={"error": exc.code})
        raise
    with bag:
        info = bag.medium
        medium = medium_sync(dest, info.medium_id, info.label, info.created)
        custodyhook.first_seen(medium=medium, actor=actor)
        # We hold the disk's lock: a run still "running" on it was interrupted.
        BackupRun.objects.filter(medium=medium, status=BackupRun.RUNNING).update(
            status=BackupRun.FAILED, error="interrupted", finished_at=timezone.now())
        started = timezone.now()
        with transaction.atomic():
            number = _next_number()
            run = BackupRun.objects.create(
                number=number, medium=medium, operator=actor, dest=str(dest)[:500],
                folder=_run_folder(number, started), started_at=started)
            audit_record(actor=actor.username, action="backup.start", target=str(number),
                         detail={"medium": medium.medium_id, "label": medium.label,
                                 "dest": str(dest)})
        if on_start is not None:
            on_start(run)
        try:
            control = _copy(bag, run, medium, actor, on_progress)
        except BaseException as exc:
            _fail(run, actor, exc)
            raise
    # s17 E: the disk's health and free space after the run (never fails the run)
    healthhook.after_use(medium=medium, dest=dest, actor=actor, source="backup", run=run)
    return BackupOutcome(run=run, medium=medium, control=control)


def _fail(run: BackupRun, actor: User, exc: BaseException) -> None:
    message = exc.message() if isinstance(exc, BrankasError) else repr(exc)
    code = exc.code if isinstance(exc, BrankasError) else type(exc).__name__
    BackupRun.objects.filter(pk=run.pk).update(
        status=BackupRun.FAILED, error=message[:2000], finished_at=timezone.now())
    run.refresh_from_db()
    audit_record(actor=actor.username, action="backup.run", target=str(run.number),
                 outcome="failed",
                 detail={"error": code, "medium": run.medium.medium_id,
                         "files_added": run.files_added, "agendas": len(run.agendas)})


# A document as the run's list spools it (``runfiles.Spool``, one JSON line each):
# what copying, recording and the control list need, nothing more.
_SPOOL_FIELDS = ("id", "agenda", "category", "direction", "classification", "stored_path",
                 "stored_size", "stored_sha256")


@dataclass
class _Sources:
    """What a run copies and seals, read in one transaction: the snapshot names exactly
    these documents, keys and letters. The documents are spooled to a file
    (``runfiles``), never held in memory: a run over 100,000 documents stays small."""

    docs: runfiles.Spool  # one list per document to plan, in _SPOOL_FIELDS order
    # The documents recorded on this disk and found there as listed (``Bag.settled``):
    # counted as skipped, never planned.
    settled: int
    # The documents this office's records say are on this disk (``BackupCopy``): a
    # no-change run checks their presence by folder listings, not a stat each.
    recorded: set[int]
    letters: list[tuple[str, int, str]]
    keys: list[HolderKey]
    office: Office
    seq: int  # the register's last audit entry (``_register_seq``)
    anchors: list[tuple[str, bytes]]
    last: sealing.LastSnapshot | None  # the disk's last sealed snapshot
    changed: bool  # a new snapshot (or journal part) and registers are written
    made: dict[str, runfiles.Written]  # the run's own files by name, written (when changed)
    snapshot: dict[str, Any]  # the seal's ``snapshot``: the chain current as of this run
    marks: dict[str, Any] | None  # where that snapshot stands (``journal.marks``)
    signing: OfficeKey
    # Whom this run encrypts to, read with the rest (never refused: the recovery key alone
    # still opens a disk).
    readers: dict[Purpose, Recipients]
    # The disk's sealed segments this run continues (``auditsegments.disk_segments``),
    # and the run's segment when it is made while the run copies (s23; s24: by a child
    # process), else None.
    listed: list[Any]
    early: auditsegments.EarlySegment | None


@dataclass
class _Sealed:
    """What the run's seal will name: its folder's files and the snapshot current as of
    the run (this run's, or the disk's last one on a no-change run)."""

    files: dict[str, str]
    snapshot: dict[str, Any]
    marks: dict[str, Any] | None


def _copy(bag: Bag, run: BackupRun, medium: Medium, actor: User,
          on_progress: Progress | None) -> dict[str, Any]:
    processes.steady_heap()  # s26: the manifest's growing tables leave no holes in the heap
    seals = sealing.disk_seals(bag, medium)
    # s27: what the run puts on the disk is written straight into its staging folder.
    with runfiles.RunFiles(brankas_settings().tmp, disk=bag) as files:
        src = _read_sources(bag, medium, seals, files, run)
        try:
            run_items = _run_folder_items(src, run)
            sealed = _sealed_so_far(src, run, run_items)
            carried = files.spool("carried.jsonl")
            result, counts = _copy_payload(bag, src, run, medium, run_items, carried,
                                           on_progress)
            carried.close()
            finished = timezone.now()
            head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
            made = _audit_segments(src, head, files)
            control = _control_list(src, run, medium, actor, result, counts, finished, head,
                                    len(made))
            final = _close_run(bag, src, seals, run, medium, control, carried, sealed,
                               head, finished, files, made)
        finally:
            if src.early is not None:  # a run that failed: its child stops (s23, s24)
                src.early.cancel()
        _record_completed(run, medium, actor, control, counts, result, final, finished,
                          bag.list_hashes())
    return control


def _read_sources(bag: Bag, medium: Medium, seals: diskseal.SealReport,
                  files: runfiles.RunFiles, run: BackupRun) -> _Sources:
    """The documents, letters, users, keys and anchors, and the snapshot and registers
    when they are due, in one consistent read; everything big is written to ``files``
    as it is read. The audit segment of the entries the disk lacks is started here, in a
    second process, when it is large (``auditsegments.early_segment``)."""
    in_transaction = connection.in_atomic_block  # a test's: no child (it sees no rows)
    # A failure after the segment's child started, up to and with the read's commit,
    # stops the child (else it waits for a head that never comes, its file open).
    with contextlib.ExitStack() as on_failure, one_view():  # one consistent read:
        # documents, keys, snapshot (web/consistency.py)
        docs = files.spool("documents.jsonl")
        all_there = True
        recorded = _recorded_on(medium)
        # The documents recorded on this disk that it lists as they are, in a folder that
        # holds them, are counted, not spooled: only the rest is planned and copied (a
        # run of 100 new documents on a disk of 100,000 plans 100).
        settle = bag.settled()
        settled = 0
        for row in _document_rows():
            if row[0] in recorded and settle(row[5], row[7], row[6]):
                settled += 1
                continue
            docs.add(row)
            all_there = all_there and bag.has(row[5])
        docs.close()
        del settle
        letters = list(request_letters())
        keys = list(HolderKey.objects.select_related("holder").order_by("id"))
        office = Office.objects.get()
        seq = _register_seq()
        anchors = anchor_files()
        last = sealing.last_snapshot(bag, medium, seals)
        changed = _needs_snapshot(bag, last.run if last else None, all_there, keys, anchors,
                                  seq) or not all(bag.has(path) for path, _s, _h in letters)
        readers = {purpose: recipients_for(purpose=purpose) for purpose in
                   (Purpose.REGISTER, Purpose.SNAPSHOT, Purpose.AUDIT_TAIL)}
        listed = auditsegments.disk_segments(bag, seals)
        first = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        early = auditsegments.early_segment(
            listed[-1].last if listed else 0, first or 0, files,
            readers[Purpose.AUDIT_TAIL].age(), in_transaction=in_transaction,
            listed=len(listed))
        if early is not None:
            on_failure.push(_cancel_on_failure(early))
        snapshot = last.statement if last else sealing.snapshot_statement(None, ())
        marks = last.marks if last else None
        made: dict[str, runfiles.Written] = {}
        if changed:
            made, snapshot, marks = _write_snapshot(files, readers, last, run, medium,
                                                    _stray_registers(seals, last, run))
        signing = office_key()
    return _Sources(docs=docs, settled=settled, recorded=recorded, letters=letters, keys=keys,
                    office=office,
                    seq=seq, anchors=anchors, last=last, changed=changed, made=made,
                    snapshot=snapshot, marks=marks, signing=signing, readers=readers,
                    listed=listed, early=early)


def _cancel_on_failure(early: auditsegments.EarlySegment) -> Callable[..., bool]:
    """An exit callback (``ExitStack.push``) that stops ``early`` when the block raised."""
    def on_exit(exc_type: type[BaseException] | None, *_exc: object) -> bool:
        if exc_type is not None:
            early.cancel()
        return False
    return on_exit


def _recorded_on(medium: Medium) -> set[int]:
    """The ids of the documents this office's records say are on the disk of ``medium``
    (``BackupCopy``), read through a plain cursor (100,000 ids: no queryset ``.iterator(``
    per row)."""
    meta = BackupCopy._meta
    quote = connection.ops.quote_name
    column = {f.name: str(f.column) for f in meta.concrete_fields}
    out: set[int] = set()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column['document'])} FROM {quote(meta.db_table)} "  # noqa: S608
                       f"WHERE {quote(column['medium'])} = %s", [medium.pk])
        while rows := cursor.fetchmany(5000):
            out.update(row[0] for row in rows)
    return out


def _document_rows() -> Iterator[tuple[Any, ...]]:
    """Every document's ``_SPOOL_FIELDS``, in id order, through a plain cursor (a run
    reads 100,000: these columns need no conversion, and a queryset's iterator costs
    more than the rest of the check of a document already on the disk). The same
    tuples as ``values_list(*_SPOOL_FIELDS)`` (``.iterator(`` of a queryset, in effect)."""
    meta = Document._meta
    quote = connection.ops.quote_name
    column = {f.name: str(f.column) for f in meta.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in _SPOOL_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {quote(meta.db_table)} "  # noqa: S608
                       f"ORDER BY {quote(column['id'])}")
        while rows := cursor.fetchmany(5000):
            yield from rows


def _journal_plan(last: sealing.LastSnapshot | None
                  ) -> dict[str, journal.Mode | None] | None:
    """What a journal part of this run holds per tracked table (``journal.modes``), or
    None when the run writes the whole snapshot: no sealed chain on the disk with its
    marks, a base too small to be worth a journal, or the chain at its length."""
    settings = brankas_settings()
    limit = min(settings.journal_max_parts, journal.MAX_PARTS_READ - 1)
    if last is None or last.base is None or last.marks is None or limit <= 0:
        return None
    base_bytes = last.marks.get("base_bytes")
    if type(base_bytes) is not int or base_bytes < settings.journal_min_bytes \
            or len(last.parts) >= limit:
        return None
    return journal.modes(last.marks)


def _stray_registers(seals: diskseal.SealReport, last: sealing.LastSnapshot | None,
                     run: BackupRun) -> bool:
    """Whether a run folder on the disk newer than the last snapshot this office recorded
    holds registers (a run cut short after its run files were written, or killed after
    its seal before the office recorded it): this run's register parts would repeat its
    rows, so the registers are written whole (the guides join them from the newest)."""
    if last is None:
        return False
    names = (f"/{REGISTER_BIASA}", f"/{journal.REGISTER_BIASA_PART}")
    return any(r.number > last.run.number and r.folder != run.folder
               and any(path.endswith(names) for path in r.files) for r in seals.runs)


def _write_snapshot(files: runfiles.RunFiles, readers: dict[Purpose, Recipients],
                    last: sealing.LastSnapshot | None, run: BackupRun, medium: Medium,
                    registers_whole: bool = False
                    ) -> tuple[dict[str, runfiles.Written], dict[str, Any], dict[str, Any]]:
    """The run's registers and the whole snapshot, or (``_journal_plan``) a journal part
    and the registers' added rows; the seal's ``snapshot`` naming the chain now current,
    and the marks (read in the same transaction as the rows)."""
    plan = _journal_plan(last)
    if plan is None or last is None or last.base is None or last.marks is None:
        made = _write_run_files(files, readers)
        marks = journal.marks(made[SNAPSHOT].size)
        base = journal.Ref(run.folder, made[SNAPSHOT].sha256)
        return made, sealing.snapshot_statement(base, ()), marks
    marks = journal.marks(int(last.marks["base_bytes"]))
    after = None if registers_whole else journal.registers_append(last.marks, plan)
    made = _write_run_files(files, readers, after=after, whole_snapshot=False)
    with files.write(journal.JOURNAL, recipients=readers[Purpose.SNAPSHOT].age()) as (
            out, done):
        journal.part_write(out, labels=DISK_MODELS, base=last.base,
                           previous=last.parts[-1] if last.parts else None,
                           run_folder=run.folder, medium_id=medium.medium_id,
                           table_modes=plan)
    made[journal.JOURNAL] = done[0]
    part = journal.Ref(run.folder, done[0].sha256)
    return made, sealing.snapshot_statement(last.base, (*last.parts, part)), marks


def _write_run_files(files: runfiles.RunFiles, readers: dict[Purpose, Recipients], *,
                     after: int | None = None,
                     whole_snapshot: bool = True) -> dict[str, runfiles.Written]:
    """The registers (biasa in the clear, the full one encrypted) and the database
    snapshot (encrypted), each written as it is read (inside the run's transaction).
    With ``after`` (a journal run), the registers' parts: the documents whose id is
    above it (``register-*-tambahan``). Without ``whole_snapshot`` (a journal run, whose
    part holds the database), no snapshot: a journal run whose registers are written
    whole (a document changed) does not write the whole snapshot beside its part."""
    users = dict(User.objects.values_list("id", "username"))
    made: dict[str, runfiles.Written] = {}
    biasa, full = ((REGISTER_BIASA, REGISTER_FULL) if after is None
                   else (journal.REGISTER_BIASA_PART, journal.REGISTER_FULL_PART))
    with files.write(biasa) as (out_biasa, done_biasa), \
            files.write(full, recipients=readers[Purpose.REGISTER].age()) as (out_full, done):
        registers.registers_write(out_biasa, out_full, _register_rows(after), users=users,
                                  zone=timezone.get_current_timezone(),
                                  db_zone=connection.timezone)
    made[biasa], made[full] = done_biasa[0], done[0]
    if not whole_snapshot:
        return made
    with files.write(SNAPSHOT, recipients=readers[Purpose.SNAPSHOT].age()) as (out, done):
        snapshot_write(out, labels=DISK_MODELS)  # the audit log goes in segments
    made[SNAPSHOT] = done[0]
    return made


def _register_rows(after: int | None) -> Iterator[tuple[Any, ...]]:
    """The documents' rows for the registers (``registers.REGISTER_ROW``), in register
    order (those whose id is above ``after``, a journal run's), as the database driver
    gives them (no ORM converter per value: ``registers_write`` takes them so), read
    2,000 at a time (a server-side cursor on PostgreSQL, as ``iterator()`` reads)."""
    from django.db.models import Case, F, TextField, Value, When

    qs = Document.objects.order_by("id")
    if after is not None:
        qs = qs.filter(id__gt=after)
    # s19: a biasa document's text, when read from the file the register holds now (never
    # an exempted one's, whatever a row from elsewhere says: s19 review)
    qs = qs.annotate(text_body=Case(
        When(category=Category.REGULAR.value, text__content_sha256=F("stored_sha256"),
             text__status="text", then=F("text__body")),
        default=Value(""), output_field=TextField()))
    sql, params = qs.values_list(*registers.REGISTER_ROW).query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(2000):
            yield from rows


def _payload_items(src: _Sources) -> Iterator[PayloadItem]:
    """The archive's files (each with its spooled row as ``ref``), the request letters,
    the holders' key files and the anchors; read from the spool one at a time."""
    home = str(brankas_settings().home)
    folders: dict[tuple[str, str], str] = {}  # one string per folder and classification
    for d in src.docs:
        doc_id, agenda, category, direction, classification, path, size, sha = d
        folder = folders.setdefault((category, direction),
                                    registers.folder_key(category, direction))
        classification = folders.setdefault((classification, ""), classification)
        # Small per item (a run may plan 100,000): the opener holds the path as text.
        yield PayloadItem(path, FileOpener(os.path.join(home, path)), size, sha,
                          (doc_id, agenda, folder, classification),
                          recorded=doc_id in src.recorded)
    # Letters of requests to send, kept under permintaan/ until they are registered.
    for path, size, sha in src.letters:
        yield _file_item(path, Path(home) / path, size, sha)
    for k in src.keys:
        yield _bytes_item(_key_path(k), bytes(k.protected_identity))
    for name, data in src.anchors:
        yield _bytes_item(_anchor_path(name), data)


def _run_folder_items(src: _Sources, run: BackupRun) -> list[PayloadItem]:
    """When a snapshot is due: the run's registers (biasa plain, full encrypted), the
    encrypted snapshot and the recipients, and the run recorded as carrying a snapshot."""
    if not src.changed:
        return []
    folder = f"{RUNS_DIR}/{run.folder}"
    run_items = [
        *(written.item(f"{folder}/{name}") for name, written in src.made.items()),
        _bytes_item(f"{folder}/{RECIPIENTS}",
                    recipients_text(src.readers[Purpose.SNAPSHOT].recovery,
                                    list(src.readers[Purpose.SNAPSHOT].keys))),
    ]
    BackupRun.objects.filter(pk=run.pk).update(snapshot=True, snapshot_seq=src.seq)
    return run_items


def _sealed_so_far(src: _Sources, run: BackupRun, run_items: list[PayloadItem]) -> _Sealed:
    files = {item.path: item.sha256 or "" for item in run_items}
    return _Sealed(files=files, snapshot=src.snapshot, marks=src.marks)


@dataclass
class _Counts:
    """What a run carried, counted per folder as its checkpoints commit (the documents
    themselves go to the ``carried`` spool), and their agenda numbers."""

    categories: dict[str, dict[str, Any]]
    agendas: list[str]
    # The documents' ids (recorded as on the disk by this run): 8 bytes each, not an int
    # object and a list slot (a full run carries 100,000).
    ids: array[int]

    @classmethod
    def empty(cls) -> _Counts:
        return cls({key: {"label": registers.folder_label(key), "files": 0, "bytes": 0}
                    for key in registers.FOLDER_KEYS}, [], array("q"))


def _copy_payload(bag: Bag, src: _Sources, run: BackupRun, medium: Medium,
                  run_items: list[PayloadItem], carried: runfiles.Spool,
                  on_progress: Progress | None) -> tuple[AddResult, _Counts]:
    """Copy what the disk lacks; record each document as on the disk once the checkpoint
    that lists it is durable and read back, and those the disk already had. Returns the
    bag's result and what this run carried (the documents in ``carried``)."""
    counts = _Counts.empty()

    def on_committed(copies: list[Staged]) -> None:
        """A checkpoint is durable on the disk: record the documents it listed."""
        new_docs = [c for c in copies if isinstance(c.ref, tuple)]
        if not new_docs:
            return
        with transaction.atomic():
            _copies_record([c.ref[0] for c in new_docs], medium.pk, run.pk)  # type: ignore[index]
            for c in new_docs:
                item = _carried(c)
                carried.add(item)
                folder = counts.categories[item["folder"]]
                folder["files"] += 1
                folder["bytes"] += item["bytes"]
                counts.agendas.append(item["agenda"])
                counts.ids.append(c.ref[0])  # type: ignore[index]
            BackupRun.objects.filter(pk=run.pk).update(agendas=counts.agendas)

    def items() -> Iterator[PayloadItem]:  # read twice: checked, then copied
        return itertools.chain(_payload_items(src), run_items)

    result = bag.add_files(items, on_progress=on_progress, on_committed=on_committed,
                           run=str(run.number))
    result = replace(result, skipped=result.skipped + src.settled)
    # Documents already on this disk (an earlier run, another instance, a killed run):
    # those the records do not yet say are on it (this run's copies are recorded).
    # Counted without a set of every id (a full run carries 100,000: a set of them is
    # 7 MiB held to the end of the run); the set is made only when some are left.
    known = src.recorded
    carried_ids = counts.ids
    new_ids = sum(1 for doc_id in carried_ids if doc_id not in known)
    if len(known) + new_ids >= src.docs.count + src.settled:  # every document is recorded
        del carried_ids[:]
        return result, counts
    known.update(carried_ids)
    del carried_ids[:]
    on_disk = (d[0] for d in src.docs if d[0] not in known)
    while batch := list(itertools.islice(on_disk, 2000)):
        _copies_record(batch, medium.pk, None)
    return result, counts


def _copies_record(document_ids: list[int], medium_id: int, run_id: int | None) -> None:
    """Record the documents as on the disk (``BackupCopy``; one already recorded is left
    as it is): INSERTs of many rows through the cursor, as ``bulk_create`` with
    ``ignore_conflicts`` makes them, without a model object per row (a full run records
    100,000). ``ON CONFLICT DO NOTHING`` is SQLite's (3.24+) and PostgreSQL's alike."""
    if not document_ids:
        return
    meta = BackupCopy._meta
    quote = connection.ops.quote_name
    column = {f.name: str(f.column) for f in meta.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in ("document", "medium", "run"))
    rows = max(1, min(2000, (connection.features.max_query_params or 6000) // 3))
    for i in range(0, len(document_ids), rows):
        part = document_ids[i:i + rows]
        values = ", ".join(["(%s, %s, %s)"] * len(part))
        params: list[int | None] = []
        for doc_id in part:
            params += (doc_id, medium_id, run_id)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values} "  # noqa: S608
                           "ON CONFLICT DO NOTHING", params)


def _control_list(src: _Sources, run: BackupRun, medium: Medium, actor: User,
                  result: AddResult, counts: _Counts, finished: Any,
                  head: Any, segments: int) -> dict[str, Any]:
    """The run's backup control list (daftar kontrol): counts and bytes per folder, the
    audit head; the documents carried are written from the ``carried`` spool as the
    control list goes to the disk (``"documents"`` here is an empty placeholder).
    ``segments``: the audit segments the run adds (none, one, or two: ``EarlySegment``)."""
    return {
        "format": CONTROL_FORMAT,
        "run": run.number,
        "office": src.office.name,
        "operator": {"username": actor.username, "full_name": actor.full_name,
                     "nip": actor.nip, "role": actor.role},
        "medium": {"medium_id": medium.medium_id, "label": medium.label},
        "dest": run.dest,
        "folder": run.folder,
        "started_at": run.started_at.isoformat(),
        "finished_at": finished.isoformat(),
        "categories": counts.categories,
        "documents": [],
        # and the control list (two), the audit segments, the seal
        "files_added": len(result.added) + 3 + segments,
        "bytes_added": result.bytes_added,
        "files_skipped": result.skipped,
        "verified": True,  # every copied file was read back from the disk and matched
        "snapshot": src.changed,  # False: nothing but sign-ins since this disk's last snapshot
        "audit_head": head,
        "software": f"Brankas {__version__}",
    }


def _audit_segments(src: _Sources, head: Any,
                    files: runfiles.RunFiles) -> list[tuple[diskseg.Segment, runfiles.Written]]:
    """The audit segments of the entries the disk lacks, up to ``head``, in the run's
    files: the child's (``EarlySegment``, made while the run copied) and a small one of
    the entries since; or one made here (a small run, or the child failed); none when
    the disk has them all."""
    listed = src.listed  # read with the sources (the disk's sealed segments do not move)
    after, head_seq = (listed[-1].last if listed else 0), (head["seq"] if head else 0)
    if src.early is not None:
        return src.early.finish(head_seq)
    if head_seq > after:
        return [auditsegments.segment_write(files, after, head_seq,
                                            src.readers[Purpose.AUDIT_TAIL].age())]
    return []


def _close_run(bag: Bag, src: _Sources, seals: diskseal.SealReport, run: BackupRun,
               medium: Medium, control: dict[str, Any], carried: runfiles.Spool,
               sealed: _Sealed, head: Any, finished: Any,
               files: runfiles.RunFiles,
               made: list[tuple[diskseg.Segment, runfiles.Written]]) -> AddResult:
    """The control list (CSV and JSON, the documents read from ``carried``), the audit
    segments ``made`` of the entries the disk lacks (``_audit_segments``) and the
    office's seal over the run's folder and the disk's segments, written to the disk
    together (one checkpoint: a run killed at any point leaves a segment on the disk
    only with its seal)."""
    folder = f"{RUNS_DIR}/{run.folder}"
    with files.write(CONTROL_CSV) as (out_csv, done_csv), \
            files.write(CONTROL_JSON) as (out_json, done_json):
        registers.control_write(out_csv, out_json, control, carried)
    closing = [done_csv[0].item(f"{folder}/{CONTROL_CSV}"),
               done_json[0].item(f"{folder}/{CONTROL_JSON}")]
    sealed.files.update({item.path: item.sha256 or "" for item in closing})
    listed = list(src.listed)
    for segment, written in made:
        closing.append(written.item(segment.path))
        listed.append(segment)
    seal = sealing.seal(seals, bag, src.signing, office=src.office.name, run=run,
                        medium=medium, files=sealed.files, snapshot=sealed.snapshot,
                        marks=sealed.marks, segments=listed,
                        head=head, finished=finished)
    closing.append(_bytes_item(f"{folder}/{diskseal.SEAL}", seal))
    control["bytes_added"] += sum(item.size or 0 for item in closing)
    # The control list, the segments and the seal go on the disk together (one
    # checkpoint, however long the segments take to copy).
    return bag.add_files(closing, run=str(run.number), checkpoint_seconds=float("inf"))


def _record_completed(run: BackupRun, medium: Medium, actor: User, control: dict[str, Any],
                      counts: _Counts, result: AddResult, final: AddResult,
                      finished: Any, lists: dict[str, Any]) -> None:
    with transaction.atomic():
        BackupRun.objects.filter(pk=run.pk).update(
            status=BackupRun.COMPLETED, finished_at=finished, categories=control["categories"],
            agendas=counts.agendas, files_added=control["files_added"],
            bytes_added=control["bytes_added"], files_skipped=result.skipped,
            disk_files=final.files, disk_bytes=final.bytes, verified=True, sealed=True)
        Medium.objects.filter(pk=medium.pk).update(
            files=final.files, bytes=final.bytes, last_backup_at=finished, lists=lists)
        audit_record(actor=actor.username, action="backup.run", target=str(run.number),
                     detail={"medium": medium.medium_id, "files_added": control["files_added"],
                             "bytes_added": control["bytes_added"],
                             "documents": len(counts.agendas), "skipped": result.skipped})
    counts.agendas.clear()  # in the run's row now: not held twice once it is read back
    run.refresh_from_db()
    medium.refresh_from_db()


def _key_path(key: HolderKey) -> str:
    return f"{KEYS_DIR}/{key_file_name(key)}"


def _anchor_path(name: str) -> str:
    return f"{KEYS_DIR}/{diskseal.ANCHORS_DIR}/{name}"


def _needs_snapshot(bag: Bag, last: BackupRun | None, docs_there: bool,
                    keys: list[HolderKey], anchors: list[tuple[str, bytes]], seq: int) -> bool:
    """Whether this run must write a new snapshot and registers: always, unless the disk
    already has every document (``docs_there``), key and anchor and a sealed snapshot
    that covers every audit entry but sign-ins and backup bookkeeping (a no-change run
    then writes only its control list and seal)."""
    if last is None or last.snapshot_seq != seq:
        return True
    return not (docs_there
                and all(bag.has(_key_path(k)) for k in keys)
                and all(bag.has(_anchor_path(name)) for name, _ in anchors))


def _carried(copy: Staged) -> dict[str, Any]:
    """A document copied (its item's ``ref``: id, agenda, folder, classification) as the
    control list names it."""
    ref: tuple[int, str, str, str] = copy.ref  # type: ignore[assignment]
    _id, agenda, folder, classification = ref
    return {"agenda": agenda, "folder": folder, "classification": classification,
            "file": copy.path, "bytes": copy.size, "sha256": copy.sha256}


def _file_item(path: str, source: Path, size: int, sha256: str) -> PayloadItem:
    return PayloadItem(path, lambda: open(source, "rb"), size, sha256)  # noqa: SIM115


def _bytes_item(path: str, data: bytes) -> PayloadItem:
    return PayloadItem(path, lambda: io.BytesIO(data), len(data), sha256_bytes(data))


# -- verification ------------------------------------------------------------------------

def check_record(check: MediumCheck, *, shown_mode: str, next_offset: int | None = None) -> None:
    """Save a verification or drill, and make it the disk's last check."""
    check.save()
    medium = check.medium
    if medium is None:
        return
    medium.last_verified_at = check.finished_at
    medium.last_verify_mode = shown_mode
    medium.last_verify_ok = check.ok
    if next_offset is not None:
        medium.sample_offset = next_offset
    medium.save()


def disk_expectations(medium: Medium | None) -> Expectations:
    """What the office's records say the disk of ``medium`` holds (None: a disk the records
    do not know: only the seals are checked, against the office's keys)."""
    known_runs = frozenset(BackupRun.objects.values_list("folder", flat=True))
    # Superseded versions (re-encrypted by a grant or rekey) stay on the disks that carried
    # them: known bytes, not strangers.
    known_files = frozenset(Document.objects.values_list("stored_sha256", flat=True)) | {
        sha for _path, _size, sha in request_letters()} | superseded_hashes()
    archive = (f"{ARCHIVE_DIR}/", f"{REQUESTS_DIR}/")
    if medium is None:
        return Expectations(office_keys=frozenset(office_keys_trusted()), runs_dir=RUNS_DIR,
                            known_runs=known_runs, known_files=known_files,
                            archive_prefixes=archive)
    copies = (Document.objects.filter(copies__medium=medium)
              .values_list("stored_path", "stored_sha256", "agenda"))
    sealed = BackupRun.objects.filter(medium=medium, sealed=True).values_list("folder",
                                                                              flat=True)
    documents = {p: (h, a) for p, h, a in copies}
    documents.update(_superseded_copies(medium))
    return Expectations(office_keys=frozenset(office_keys_trusted()), runs_dir=RUNS_DIR,
                        documents=documents,
                        sealed_runs=frozenset(sealed), known_runs=known_runs,
                        label=medium.label, known_files=known_files,
                        archive_prefixes=archive)


def _superseded_copies(medium: Medium) -> dict[str, tuple[str, str]]:
    """{path: (sha256, what)} of the older versions recorded as on the disk of ``medium``
    (they stay there: a disk is append-only)."""
    from brankas.web.sendrequests.models import SendRequest

    rows = list(SupersededFile.objects.filter(copies__medium=medium)
                .values_list("kind", "object_id", "path", "sha256"))
    agendas = dict(Document.objects.filter(
        pk__in=[i for k, i, _p, _h in rows if k == SupersededFile.DOCUMENT])
        .values_list("pk", "agenda"))
    letters = set(SendRequest.objects.filter(
        pk__in=[i for k, i, _p, _h in rows if k == SupersededFile.LETTER])
        .values_list("pk", flat=True))
    out = {}
    for kind, object_id, path, sha in rows:
        what = (agendas.get(object_id, f"#{object_id}") if kind == SupersededFile.DOCUMENT
                else f"letter of request {object_id}" if object_id in letters
                else f"letter #{object_id}")
        out[path] = (sha, f"{what} (older version)")
    return out


def problems_record(report: VerifyReport) -> dict[str, Any]:
    """A verification's problems as stored with the check: bounded (a prepared disk may name
    a million files or a line of 20 MB), with the full counts."""
    def cut(items: list[Any]) -> list[Any]:
        return [i if not isinstance(i, str) else shown(i, 300) for i in items[:PROBLEMS_KEPT]]

    return {"missing": cut(report.missing),
            "changed": cut([{k: shown(str(v), 300) for k, v in c.__dict__.items()}
                            for c in report.changed]),
            "unexpected": cut(report.unexpected), "tags": cut(report.tag_problems),
            "seals": cut(report.seal_problems), "register": cut(report.register_problems),
            "counts": {"missing": len(report.missing), "changed": len(report.changed),
                       "unexpected": len(report.unexpected)}}


def medium_verify(*, actor: User, dest: Path | str, mode: str = "full",
                  sample_percent: float = 10, on_progress: Progress | None = None
                  ) -> tuple[VerifyReport, Medium | None]:
    """Check the disk's fixity, its seals and what the records say is on it; record the
    result for its medium."""
    require_audited(actor, Action.VERIFY_DISK, target=str(dest))
    dest = Path(dest).expanduser().absolute()
    started = timezone.now()
    try:
        info = read_medium(dest)
    except BrankasError:
        info = None  # verify names the unreadable identity file among the problems
    medium = Medium.objects.filter(medium_id=info.medium_id).first() if info else None
    offset = medium.sample_offset if medium else 0
    try:
        report = verify(dest, mode=mode, sample_percent=sample_percent, sample_offset=offset,
                        on_progress=on_progress, expect=disk_expectations(medium))
    except BrankasError as exc:
        audit_record(actor=actor.username, action="backup.verify", target=str(dest),
                     outcome="failed", detail={"error": exc.code, "mode": mode})
        raise
    if info is not None and medium is not None:
        medium = medium_sync(dest, info.medium_id, info.label, info.created)
    with transaction.atomic():
        check = MediumCheck(
            medium=medium, kind=MediumCheck.VERIFY, mode=mode, actor=actor, dest=str(dest)[:500],
            started_at=started, finished_at=timezone.now(), ok=report.ok,
            files_checked=report.files_hashed if mode != "fast" else report.files_total,
            bytes_checked=report.bytes_hashed,
            problems=problems_record(report) if not report.ok else {})
        check_record(check, shown_mode=mode, next_offset=report.next_offset)
        audit_record(actor=actor.username, action="backup.verify",
                     target=medium.label if medium else str(dest),
                     outcome="ok" if report.ok else "problems",
                     detail={"mode": mode, "files_total": report.files_total,
                             "files_hashed": report.files_hashed,
                             "missing": len(report.missing), "changed": len(report.changed),
                             "unexpected": len(report.unexpected),
                             "seals": len(report.seal_problems),
                             "register": len(report.register_problems),
                             "medium": medium.medium_id if medium else None})
    # s17 E: the disk's health and free space after the verification
    healthhook.after_use(medium=medium, dest=dest, actor=actor, source="verify", check=check)
    return report, medium
