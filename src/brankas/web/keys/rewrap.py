"""Re-encrypting stored files, crash-safe, one at a time (the engine under grant and rekey).

One step per file (``rewrap_file``; with many files, step 1 runs ahead in helper
processes, ``core.keyring.pool``, and ``keep_rewrapped`` does the rest in order):

1. the file is re-encrypted into a staging file in ``tmp/`` (``core.keyring.rewrap``:
   ciphertext only, hashed while written, fsynced). A rekey decrypts and encrypts again
   (fresh file key): the plaintext passed through memory only and is checked against the
   hash on record before anything is kept. A grant rewrites only the age header (the same
   file key for one more reader, ``header_only``; nothing decrypted): the file read is
   hashed as it is read and checked against the stored file's hash on record instead.
   A grant's worker threads only begin its writeback; the staging files of a group are
   fsynced together just before step 2 (``keep_rewrapped_many``), never later; one whose
   fsync fails is never published: it fails alone, as a failed stage does
   (``sync_staged``);
2. the staging file is published under the file's next version name
   (``<agenda>.v2.pdf.age``: backup disks are append-only) and its folder fsynced. A file
   already at that name, which no record names, was left by a killed run: it goes first;
3. one transaction: the record names the new file (path, hash, size, readers, version),
   the old file becomes a ``SupersededFile``, the document's ``BackupCopy`` rows move to
   ``SupersededCopy`` (the disks hold the old version), the job's counters move on and the
   audit log gets ``key.grant.file`` / ``key.rekey.file``;
4. the old file is unlinked (its folder is not fsynced: a superseded file that comes back
   after a power cut is removed by ``rewrap_cleanup`` at the next run).

A grant records its staged files several at a time (``keep_rewrapped_many``): step 2 for
each (their folders fsynced once, before any record names them), then step 3 for them all
in one transaction (a file whose record changed meanwhile is refused before anything of
it is written and left as it was; the others are recorded, their superseded files and
copies in a few statements for the group), then step 4 for each. A kill between those
steps leaves what it leaves for one file, for each file of the group.

A kill at any point leaves every record naming a complete file whose hash matches. The
only leftovers are an unreferenced next version (step 2 of the re-run removes it) and a
superseded file still in the archive (``rewrap_cleanup`` at the start of every run removes
it). Re-runs need no queue: they select the files whose readers still lack the target.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from brankas.core import fsutil
from brankas.core.errors import (
    BrankasError,
    Conflict,
    CryptoFailure,
    IntegrityFailure,
    InvalidInput,
    SetupError,
)
from brankas.core.keyring.rewrap import (
    Precopied,
    Rewrapped,
    SourceChanged,
    finish_precopied,
    precopy_payload,
    rewrap,
    rewrap_header,
)
from brankas.core.register import lock as archivelock
from brankas.core.register import store
from brankas.web.audit.services import AuditEntry, audit_record_many
from brankas.web.backup.models import BackupCopy
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey, RewrapJob, SupersededCopy, SupersededFile
from brankas.web.keys.selectors import Recipients
from brankas.web.runtime import brankas_settings
from brankas.web.sendrequests.models import SendRequest

DOCUMENT, LETTER = SupersededFile.DOCUMENT, SupersededFile.LETTER


@dataclass(frozen=True)
class RewrapProgress:
    """How far a grant or rekey got (the CLI's progress bar, the web's progress page)."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    current: str = ""  # the agenda or letter number being re-encrypted
    job_id: int = 0  # the RewrapJob row


OnProgress = Callable[[RewrapProgress], None]


@dataclass(frozen=True)
class StoredFile:
    """An exempted file as its record names it: a document or a request letter."""

    kind: str  # DOCUMENT or LETTER
    object_id: int
    number: str  # the agenda number, or P-00012 for a letter
    path: str  # relative to BRANKAS_HOME, '/'-separated
    sha256: str  # of the stored file
    size: int
    content_sha256: str  # of the plaintext
    recipients: tuple[str, ...]
    version: int


@dataclass
class FileOutcome:
    new_path: str
    new_sha256: str
    size: int


@dataclass
class Failures:
    """Files that could not be re-encrypted (each stays as it was, and opens as before)."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, stored: StoredFile, exc: BaseException) -> None:
        detail = exc.message("en") if isinstance(exc, BrankasError) else repr(exc)
        self.items.append({"number": stored.number, "kind": stored.kind, "error": detail})


def exempted_documents() -> Iterator[StoredFile]:
    """Every encrypted document, in order (streamed)."""
    rows = (Document.objects.exclude(suite="").order_by("pk")
            .values_list("pk", "agenda", "stored_path", "stored_sha256", "stored_size",
                         "content_sha256", "recipients", "file_version"))
    for pk, agenda, path, sha, size, content, recipients, version in rows.iterator():
        yield StoredFile(DOCUMENT, pk, agenda, path, sha, size, content,
                         tuple(recipients or ()), version)


def encrypted_letters() -> Iterator[StoredFile]:
    """Every encrypted request letter, in order (streamed)."""
    rows = (SendRequest.objects.exclude(letter_suite="").exclude(letter_path="")
            .order_by("pk")
            .values_list("pk", "letter_path", "letter_stored_sha256", "letter_stored_size",
                         "letter_sha256", "letter_recipients", "letter_version"))
    for pk, path, sha, size, content, recipients, version in rows.iterator():
        yield StoredFile(LETTER, pk, store.letter_number(pk), path, sha, size, content,
                         tuple(recipients or ()), version)


# -- the lock and the start of a run ----------------------------------------------------

@contextlib.contextmanager
def archive_exclusive() -> Iterator[None]:
    """Hold the archive lock alone (no backup, no other grant or rekey meanwhile); a job
    still marked running was killed (it held this lock): it is marked failed, and its end
    audited (its start was; what it did before it was killed was, batch by batch)."""
    with archivelock.archive_lock(brankas_settings().tmp, archivelock.REWRAP):
        with transaction.atomic():
            killed = list(RewrapJob.objects.select_for_update()
                          .filter(state=RewrapJob.RUNNING).select_related("actor"))
            RewrapJob.objects.filter(pk__in=[j.pk for j in killed]).update(
                state=RewrapJob.FAILED, finished_at=timezone.now(),
                summary={"error": "interrupted"})
            audit_record_many([AuditEntry(
                actor=job.actor.username, action=f"key.{job.kind}",
                target="*", outcome="failed",
                detail={"stage": "interrupted", "job": job.pk, "error": "interrupted",
                        "files_done": job.files_done}) for job in killed])
        rewrap_cleanup()
        yield


def rewrap_cleanup() -> list[str]:
    """Remove what a killed run left in the archive: a superseded file still at its path
    (its record had already committed the new version). Never a file a record names.
    Run with the archive lock held. Returns the relative paths removed."""
    settings = brankas_settings()
    current_docs = set(Document.objects.filter(
        pk__in=SupersededFile.objects.filter(kind=DOCUMENT).values("object_id"))
        .values_list("stored_path", flat=True))
    current_letters = set(SendRequest.objects.filter(
        pk__in=SupersededFile.objects.filter(kind=LETTER).values("object_id"))
        .values_list("letter_path", flat=True))
    current = current_docs | current_letters
    removed: list[str] = []
    folders: set[Path] = set()
    for rel in SupersededFile.objects.values_list("path", flat=True).iterator():
        if rel in current:
            continue
        path = store.absolute(settings, rel)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:  # in use (Windows): tried again by the next run
            continue
        removed.append(rel)
        folders.add(path.parent)
    if folders:
        fsutil.fsync_paths(sorted(folders))
    return removed


# -- one file ---------------------------------------------------------------------------

def _referenced(kind: str, rel: str) -> bool:
    if kind == DOCUMENT:
        return Document.objects.filter(stored_path=rel).exists()
    return SendRequest.objects.filter(letter_path=rel).exists()


def rewrap_file(stored: StoredFile, *, identities: list[Any], readers: Recipients,
                job: RewrapJob, action: str, actor: str, detail: dict[str, Any],
                header_only: bool = False) -> FileOutcome:
    """Re-encrypt one stored file to ``readers`` in this process (steps 1 to 4 above);
    with ``header_only`` (a grant) only its age header is rewritten. Raises on failure,
    leaving the file and its record as they were."""
    staged = stage_file(stored, identities=identities, recipients=readers.age(),
                        header_only=header_only)
    return keep_rewrapped(stored, staged, readers=readers, job=job, action=action,
                          actor=actor, detail=detail)


@contextlib.contextmanager
def _named_failures(stored: StoredFile) -> Iterator[None]:
    """Step 1's failures as the grant and rekey name them: a ``BrankasError`` as it is, a
    source that changed while read as ``stored_file_changed``, anything else (pyrage's
    DecryptError, agehdr's AgeHeaderError: a damaged file, not a reader) as
    ``rewrap_failed``."""
    try:
        yield
    except BrankasError:
        raise
    except SourceChanged:
        raise IntegrityFailure("stored_file_changed", agenda=stored.number,
                               path=stored.path) from None
    except Exception as exc:
        raise CryptoFailure("rewrap_failed", name=stored.number, detail=str(exc)) from None


def stage_file(stored: StoredFile, *, identities: list[Any], recipients: list[str],
               header_only: bool = False, sync: bool = True) -> Rewrapped:
    """Step 1 alone: the file re-encrypted (or, ``header_only``, given a new header) to
    ``recipients`` into a staging file. Touches no database, so it may run in a worker
    thread ahead of the recording (a grant). Raises a ``BrankasError``; nothing is left.
    ``sync=False`` (a header rewrite): not fsynced yet, ``keep_rewrapped_many`` does it."""
    settings = brankas_settings()
    old = store.absolute(settings, stored.path)
    if not old.is_file():
        raise IntegrityFailure("stored_file_changed", agenda=stored.number, path=stored.path)
    with _named_failures(stored):
        if header_only:
            return rewrap_header(old, settings.tmp, identities, recipients,
                                 expected_sha256=stored.sha256, sync=sync)
        return rewrap(old, settings.tmp, identities, recipients)


def precopy_file(stored: StoredFile, *, header_size: int) -> Precopied:
    """Step 1's part that needs no key (a grant, while the granter's key is being
    unlocked): the stored file's payload copied into a staging file, after room for a new
    header of ``header_size`` bytes, the file hashed as it is read and checked against its
    record. Touches no database. Raises a ``BrankasError``; nothing is left."""
    settings = brankas_settings()
    old = store.absolute(settings, stored.path)
    if not old.is_file():
        raise IntegrityFailure("stored_file_changed", agenda=stored.number, path=stored.path)
    with _named_failures(stored):
        return precopy_payload(old, settings.tmp, header_size=header_size,
                               expected_sha256=stored.sha256)


def finish_file(stored: StoredFile, pre: Precopied, *, identities: list[Any],
                recipients: list[str], sync: bool = True) -> Rewrapped:
    """Step 1 completed for a file ``precopy_file`` copied: the new header for
    ``recipients`` written in front of the payload (the file key unwrapped with one of
    ``identities``), the staging file hashed and fsynced. Touches no database. Raises a
    ``BrankasError``; nothing is left."""
    with _named_failures(stored):
        return finish_precopied(pre, identities, recipients, sync=sync)


def keep_rewrapped(stored: StoredFile, staged: Rewrapped, *, readers: Recipients,
                   job: RewrapJob, action: str, actor: str,
                   detail: dict[str, Any]) -> FileOutcome:
    """Steps 2 to 4 for a file re-encrypted into ``staged`` (here or by a helper process of
    ``keyring.pool``): checked against the hash on record, published under its next
    version name, recorded, and the old file removed. On failure the staged file goes and
    the file and its record stay as they were."""
    (result,) = keep_rewrapped_many([(stored, staged, readers)], job=job, action=action,
                                    actor=actor, detail=detail)
    if isinstance(result, BrankasError):
        raise result
    return result


@dataclass
class _Published:
    index: int
    stored: StoredFile
    readers: Recipients
    new: Path
    version: int
    outcome: FileOutcome


def keep_rewrapped_many(items: list[tuple[StoredFile, Rewrapped, Recipients]], *,
                        job: RewrapJob, action: str, actor: str,
                        detail: dict[str, Any]) -> list[FileOutcome | BrankasError]:
    """``keep_rewrapped`` for several staged files at once (a grant's files staged ahead):
    each is checked and published, their folders are fsynced once, one transaction records
    them all (one file refused, written nothing of, leaves the others recorded) with
    their audit entries, and after the commit the old files are unlinked. A kill at any
    point leaves what one file's steps leave: records naming complete files whose hashes
    match, at most unreferenced next versions (removed by step 2 of the re-run) and
    superseded files still in the archive (``rewrap_cleanup``). Returns each file's
    outcome, or the ``BrankasError`` that left it (and its record) as it was."""
    settings = brankas_settings()
    results: list[FileOutcome | BrankasError | None] = [None] * len(items)
    published: list[_Published] = []
    recorded: list[_Published] = []
    committed = False
    pos = 0
    try:
        # Staged files not fsynced by their stage (``synced``) are fsynced here, together,
        # before any is published: nothing is named or recorded before it is durable. One
        # whose fsync failed fails alone (``sync_staged``), as in its stage.
        unsynced = sync_staged([(stored, staged) for stored, staged, _readers in items])
        for pos, (stored, staged, readers) in enumerate(items):
            try:
                if stored in unsynced:
                    raise unsynced[stored]
                if not _matches_record(stored, staged):
                    raise IntegrityFailure("stored_file_changed", agenda=stored.number,
                                           path=stored.path)
                version = stored.version + 1
                new_rel = store.versioned_path(stored.path, number=stored.number,
                                               version=version)
                new = store.absolute(settings, new_rel.as_posix())
                if new.exists() and not _referenced(stored.kind, new_rel.as_posix()):
                    new.unlink()  # left by a killed run, never recorded
                fsutil.publish(staged.path, new, sync_dir=False)
            except BrankasError as exc:
                staged.path.unlink(missing_ok=True)
                results[pos] = exc
                continue
            published.append(_Published(pos, stored, readers, new, version, FileOutcome(
                new_path=new_rel.as_posix(), new_sha256=staged.sha256, size=staged.size)))
        pos = len(items)
        if published:  # the new names are on the disk before any record names them
            fsutil.fsync_paths(sorted({p.new.parent for p in published}))
        with transaction.atomic():
            now = timezone.now()
            gone = _readers_gone(published)
            for p in published:
                try:  # refused before it writes anything: no savepoint needed
                    if p.index in gone:
                        raise gone[p.index]
                    _record_row(p.stored, p.outcome, readers=p.readers, version=p.version)
                except BrankasError as exc:
                    with contextlib.suppress(OSError):
                        p.new.unlink()
                    results[p.index] = exc
                    continue
                recorded.append(p)
            if recorded:
                _supersede([p.stored for p in recorded], job=job, now=now)
                RewrapJob.objects.filter(pk=job.pk).update(
                    files_done=F("files_done") + len(recorded),
                    bytes_done=F("bytes_done") + sum(p.stored.size for p in recorded))
                audit_record_many([AuditEntry(
                    actor=actor, action=action, target=p.stored.number, detail={
                        **detail, "kind": p.stored.kind, "version": p.version,
                        "old_path": p.stored.path, "old_sha256": p.stored.sha256,
                        "new_path": p.outcome.new_path, "new_sha256": p.outcome.new_sha256,
                        "readers": [r.fingerprint for r in p.readers.all()]})
                    for p in recorded])
        committed = True
    except BaseException:
        if not committed:  # nothing recorded: the staged and published files go
            for _stored, staged, _readers in items[pos + 1:]:
                staged.path.unlink(missing_ok=True)
            if pos < len(items):
                items[pos][1].path.unlink(missing_ok=True)
            for p in published:
                with contextlib.suppress(OSError):
                    p.new.unlink()
        raise
    for p in recorded:
        results[p.index] = p.outcome
        # Not fsynced: should the unlink be lost in a crash, the superseded file is back
        # and rewrap_cleanup removes it at the next run.
        with contextlib.suppress(OSError):  # in use (Windows): rewrap_cleanup removes it
            store.absolute(settings, p.stored.path).unlink()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def sync_staged(items: list[tuple[StoredFile, Rewrapped]]) -> dict[StoredFile, BrankasError]:
    """fsync together the staged files their stage did not fsync (``Rewrapped.synced``).
    A file whose fsync failed (the disk lost the write: EIO; full: ENOSPC; removed
    meanwhile) is not durable: its staging file is removed and its error returned, named
    as a failure of its stage is (``rewrap_failed``, ``disk_full``), so that it fails
    alone and stays as it was, as when each worker fsynced its own file. Touches no
    database (a grant runs it in a thread)."""
    unsynced = {staged.path: stored for stored, staged in items if not staged.synced}
    if not unsynced:
        return {}
    failures: dict[StoredFile, BrankasError] = {}
    for path, exc in fsutil.fsync_paths_each(list(unsynced)).items():
        path.unlink(missing_ok=True)
        stored = unsynced[path]
        if exc.errno == errno.ENOSPC:
            failures[stored] = SetupError("disk_full", path=str(path.parent))
        else:
            failures[stored] = CryptoFailure("rewrap_failed", name=stored.number,
                                             detail=str(exc))
    return failures


def _matches_record(stored: StoredFile, staged: Rewrapped) -> bool:
    """The file read was the one on record: its plaintext's hash (a full re-encryption)
    or its own hash as read (a header rewrite) matches the register."""
    if staged.plain_sha256 is None and staged.source_sha256 is None:
        return False
    if staged.plain_sha256 is not None and staged.plain_sha256 != stored.content_sha256:
        return False
    return staged.source_sha256 is None or staged.source_sha256 == stored.sha256


def _readers_gone(published: list[_Published]) -> dict[int, BrankasError]:
    """The readers of the files about to be recorded as they stand now, their keys' rows
    locked until the commit (a revocation committing meanwhile waits for it, or is seen
    here): a file staged for a key revoked since its readers were asked (the grantee's,
    or any reader's), or for a holder no longer active, is refused (``key_revoked``): it
    stays as it was, and a re-run asks its readers again. Inside the caller's transaction.
    Returns the refusals by the files' ``index``."""
    keys = {k.pk: k for p in published for k in p.readers.keys}
    if not keys:
        return {}
    rows = (HolderKey.objects.select_for_update(of=("self",)).filter(pk__in=sorted(keys))
            .order_by("pk").values_list("pk", "revoked_at", "holder__is_active"))
    current = {pk for pk, revoked_at, active in rows if revoked_at is None and active}
    gone: dict[int, BrankasError] = {}
    for p in published:
        for k in p.readers.keys:
            if k.pk not in current:
                gone[p.index] = InvalidInput("key_revoked", username=k.holder.username,
                                             fingerprint=k.fingerprint)
                break
    return gone


def _record_row(stored: StoredFile, outcome: FileOutcome, *, readers: Recipients,
                version: int) -> None:
    """Step 3's first part for one file, inside the caller's transaction: its record names
    the new file. Raises ``Conflict``, having written nothing, if the record changed
    meanwhile (the file is then left as it was; the others of its group are recorded)."""
    fingerprints = [r.fingerprint for r in readers.all()]
    if stored.kind == DOCUMENT:
        changed = Document.objects.filter(
            pk=stored.object_id, stored_path=stored.path,
            stored_sha256=stored.sha256).update(
            stored_path=outcome.new_path, stored_sha256=outcome.new_sha256,
            stored_size=outcome.size, recipients=fingerprints, file_version=version)
    else:
        changed = SendRequest.objects.filter(
            pk=stored.object_id, letter_path=stored.path,
            letter_stored_sha256=stored.sha256).update(
            letter_path=outcome.new_path, letter_stored_sha256=outcome.new_sha256,
            letter_stored_size=outcome.size, letter_recipients=fingerprints,
            letter_version=version)
    if changed != 1:  # changed meanwhile by someone else: nothing kept
        raise Conflict("rewrap_running", what=("perubahan lain", "another change"))


def _supersede(files: list[StoredFile], *, job: RewrapJob, now: Any) -> None:
    """Step 3's second part for the files just recorded (``_record_row``), together: each
    old file becomes a ``SupersededFile``, and the disks that hold it (a document's
    ``BackupCopy`` rows, a letter's completed runs) its ``SupersededCopy`` rows. A few
    statements for the group instead of several per file."""
    rows = [SupersededFile(kind=f.kind, object_id=f.object_id, path=f.path, sha256=f.sha256,
                           size=f.size, recipients=list(f.recipients), superseded_at=now,
                           job=job) for f in files]
    if connection.features.can_return_rows_from_bulk_insert:
        rows = SupersededFile.objects.bulk_create(rows)
    else:
        for row in rows:
            row.save(force_insert=True)
    documents = [f.object_id for f in files if f.kind == DOCUMENT]
    on_disks: dict[int, list[int]] = {}
    if documents:
        for document_id, medium_id in BackupCopy.objects.filter(
                document_id__in=documents).values_list("document_id", "medium_id"):
            on_disks.setdefault(document_id, []).append(medium_id)
    copies: list[SupersededCopy] = []
    for stored, row in zip(files, rows, strict=True):
        media = (on_disks.get(stored.object_id, []) if stored.kind == DOCUMENT
                 else letter_media(stored.object_id, before=now))
        copies += [SupersededCopy(superseded=row, medium_id=m) for m in media]
    if copies:
        SupersededCopy.objects.bulk_create(copies)
    if on_disks:
        BackupCopy.objects.filter(document_id__in=list(on_disks)).delete()


def letter_media(request_id: int, *, before: Any) -> list[int]:
    """The disks that hold the current version of a request letter: every completed backup
    run copies every letter its disk lacks, so a disk with a completed run started after
    that version was made holds it (letters have no per-disk copy records)."""
    from brankas.web.backup.models import BackupRun

    last = (SupersededFile.objects.filter(kind=LETTER, object_id=request_id,
                                          superseded_at__lt=before)
            .order_by("-superseded_at").values_list("superseded_at", flat=True).first())
    since = last or SendRequest.objects.filter(pk=request_id).values_list(
        "created_at", flat=True).get()
    return sorted(set(BackupRun.objects.filter(
        status=BackupRun.COMPLETED, started_at__gte=since, started_at__lt=before)
        .values_list("medium_id", flat=True)))

