"""Registering, filing, encrypting and opening documents (SOP steps 1-5)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto, fsutil
from brankas.core.access import Action, require
from brankas.core.config import Settings
from brankas.core.errors import (
    AccessDenied,
    BrankasError,
    Conflict,
    CryptoFailure,
    IntegrityFailure,
)
from brankas.core.fsutil import copy_stream
from brankas.core.register import intake, store
from brankas.core.register.agenda import format_agenda
from brankas.core.register.metadata import DocumentInput
from brankas.core.terms import Category, Direction, category_of
from brankas.web.accounts.models import Office, User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import AuditEntry, audit_record, audit_record_many
from brankas.web.documents.models import AgendaCounter, Document
from brankas.web.documents.sealing import mask_names, seal_into
from brankas.web.documents.selectors import document_by_source, document_get, document_lookup
from brankas.web.keys.selectors import Purpose, Recipient, recipients_for
from brankas.web.keys.services import identities_unlock
from brankas.web.runtime import brankas_settings


@dataclass
class Pending:
    """A checked and staged document waiting for its agenda number."""

    meta: DocumentInput
    staged: store.Staged
    originals: list[dict[str, object]]
    source_sha256: str
    pages: int
    recipients: list[Recipient]
    form_opened_at: dt.datetime
    source: str
    duplicate_of: Document | None = None
    allow_duplicate: bool = False
    extra_detail: dict[str, object] = field(default_factory=dict)
    # Sealed fields carried as they are (a request's sealed subject: ``seal_into``).
    presealed: dict[str, Any] = field(default_factory=dict)
    # Whom the sealed fields go to when ``recipients`` are fingerprints only (a request's
    # letter registered as stored): ``recipients_for`` at registration.
    seal_recipients: list[Recipient] | None = None

    @classmethod
    def of_staged(cls, meta: DocumentInput, done: StagedFiles, *, recipients: list[Recipient],
                  form_opened_at: dt.datetime, source: str,
                  duplicate_of: Document | None = None, allow_duplicate: bool = False,
                  extra_detail: dict[str, object] | None = None) -> Pending:
        """A document whose files ``stage_files`` wrote (registration and import): the page
        count the form gave, else the file's."""
        return cls(meta=meta, staged=done.staged, originals=done.originals,
                   source_sha256=done.source_sha256, pages=meta.pages or done.pages,
                   recipients=recipients, form_opened_at=form_opened_at, source=source,
                   duplicate_of=duplicate_of, allow_duplicate=allow_duplicate,
                   extra_detail=extra_detail or {})


def _allocate_many(year: int, counts: Counter[Direction]) -> dict[Direction, int]:
    """Reserve ``counts[d]`` consecutive agenda numbers per direction; returns the first of
    each. Inside the caller's transaction (the counter rows are locked)."""
    first: dict[Direction, int] = {}
    for direction in sorted(counts, key=lambda d: d.value):
        counter, _ = AgendaCounter.objects.select_for_update().get_or_create(
            year=year, direction=direction.value
        )
        first[direction] = counter.last + 1
        counter.last += counts[direction]
        counter.save(update_fields=["last"])
    return first


@dataclass(frozen=True)
class StagedFiles:
    staged: store.Staged
    originals: list[dict[str, object]]
    source_sha256: str
    pages: int


def stage_files(
    files: list[intake.InputFile], *, recipients: list[Recipient], settings: Settings,
    sync: bool = True,
) -> StagedFiles:
    """Check the files and write them as one PDF, encrypted to ``recipients`` when given,
    to a staging file. No database access: import workers call it from their threads."""
    prepared = intake.prepare(
        files, limit_mb=settings.max_file_mb, max_image_pixels=settings.max_image_pixels
    )
    with prepared.open_pdf() as src:
        staged = store.stage(
            settings, src, recipients=[r.recipient for r in recipients] or None, sync=sync
        )
    hashes = prepared.original_hashes or [staged.content_sha256]
    originals: list[dict[str, object]] = [
        {"name": o.name, "kind": o.kind, "size": o.size, "sha256": h}
        for o, h in zip(prepared.originals, hashes, strict=True)
    ]
    return StagedFiles(staged, originals, intake.source_digest(hashes), prepared.pages)


def document_stage(
    *,
    meta: DocumentInput,
    files: list[intake.InputFile],
    form_opened_at: dt.datetime | None = None,
    source: str = "cli",
    allow_duplicate: bool = False,
) -> Pending:
    """Check the files and write them, encrypted when exempted, to a staging file."""
    settings = brankas_settings()
    exempted = category_of(meta.classification) is Category.EXEMPTED
    # Refuse before reading anything when an exempted document could not be encrypted.
    recipients = recipients_for(purpose=Purpose.DOCUMENT).all() if exempted else []
    done = stage_files(files, recipients=recipients, settings=settings)
    existing = document_by_source(done.source_sha256)
    if existing is not None and not allow_duplicate:
        store.discard(done.staged)
        raise Conflict("duplicate_document", agenda=existing.agenda)
    return Pending.of_staged(meta, done, recipients=recipients,
                             form_opened_at=form_opened_at or timezone.now(), source=source,
                             duplicate_of=existing, allow_duplicate=allow_duplicate)


@dataclass(frozen=True)
class Committed:
    """``documents``: one per pending, in order; None where the same file was registered
    meanwhile by someone else (``raced`` maps its source hash to that agenda)."""

    documents: list[Document | None]
    raced: dict[str, str]


def documents_commit(*, actor: User, pendings: list[Pending]) -> Committed:
    """Number, record, audit and file a batch of staged documents in one transaction:
    either every record and file lands, or none does.

    Durability comes before any record: the staged files are fsynced (several at once),
    renamed into their SOP folders, and each folder fsynced once, all before the commit.
    """
    action = Action.IMPORT if any(p.source == "import" for p in pendings) else Action.REGISTER
    require_audited(actor, action)
    settings = brankas_settings()
    placed: list[Path] = []
    try:
        fsutil.fsync_paths(p.staged.path for p in pendings)
        with transaction.atomic():
            raced: dict[str, str] = {}
            for digest, agenda in (
                Document.objects.filter(
                    source_sha256__in={p.source_sha256 for p in pendings if not p.allow_duplicate}
                )
                .order_by("registered_at", "pk")
                .values_list("source_sha256", "agenda")
            ):
                raced.setdefault(digest, agenda)
            fresh = [p for p in pendings if p.allow_duplicate or p.source_sha256 not in raced]
            office = Office.objects.get()
            now = timezone.now()
            year = timezone.localdate(now).year
            next_seq = _allocate_many(year, Counter(p.meta.direction for p in fresh))
            docs: list[Document] = []
            for p in fresh:
                seq = next_seq[p.meta.direction]
                next_seq[p.meta.direction] += 1
                docs.append(_new_document(actor, p, office, year=year, seq=seq, now=now))
            Document.objects.bulk_create(docs)
            audit_record_many([_register_entry(actor, doc, p) for doc, p in zip(docs, fresh,
                                                                                strict=True)])
            finals = [store.absolute(settings, doc.stored_path) for doc in docs]
            folders = list(dict.fromkeys(final.parent for final in finals))
            for folder in folders:
                fsutil.make_private_dir(folder)
            for final, p in zip(finals, fresh, strict=True):
                try:
                    fsutil.publish(p.staged.path, final, sync_dir=False, make_parent=False)
                except FileExistsError:
                    _set_aside_orphan(actor, final)
                    fsutil.publish(p.staged.path, final, sync_dir=False, make_parent=False)
                placed.append(final)
            fsutil.fsync_paths(folders)  # the new names are on disk before the records
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        for p in pendings:
            store.discard(p.staged)
        raise
    taken = {id(p) for p in fresh}
    for p in pendings:
        if id(p) not in taken:
            store.discard(p.staged)
    if action is Action.REGISTER and docs:  # s19: the text read by a job (an import: one)
        from brankas.web.text.services import text_queue_registered

        transaction.on_commit(lambda: text_queue_registered(actor=actor, documents=docs))
    made = iter(docs)
    return Committed(
        documents=[next(made) if id(p) in taken else None for p in pendings], raced=raced
    )


def _new_document(
    actor: User, p: Pending, office: Office, *, year: int, seq: int, now: dt.datetime
) -> Document:
    agenda = format_agenda(office.agenda_format, seq=seq, year=year, direction=p.meta.direction)
    category = category_of(p.meta.classification)
    rel = store.relative_path(
        category=category, direction=p.meta.direction, year=year, agenda=agenda,
        subject=p.meta.subject,
    )
    doc = Document(
        agenda=agenda,
        year=year,
        seq=seq,
        direction=p.meta.direction.value,
        classification=p.meta.classification.value,
        category=category.value,
        number=p.meta.number,
        doc_date=p.meta.doc_date,
        subject=p.meta.subject,
        correspondent=p.meta.correspondent,
        pages=p.pages,
        attachments=p.meta.attachments,
        notes=p.meta.notes,
        registered_by=actor,
        form_opened_at=p.form_opened_at,
        registered_at=now,
        source=p.source,
        originals=p.originals,
        source_sha256=p.source_sha256,
        content_sha256=p.staged.content_sha256,
        content_size=p.staged.content_size,
        stored_path=rel.as_posix(),
        stored_sha256=p.staged.stored_sha256,
        stored_size=p.staged.stored_size,
        suite=p.staged.suite or "",
        recipients=[r.fingerprint for r in p.recipients],
        duplicate_of=p.duplicate_of,
    )
    if category is Category.EXEMPTED:  # the register fields sealed (issue 16)
        seal_into(doc, {"subject": p.meta.subject, "notes": p.meta.notes,
                        "attachments": p.meta.attachments,
                        "correspondent": p.meta.correspondent},
                  p.recipients if p.seal_recipients is None else p.seal_recipients,
                  presealed=p.presealed)
        if doc.any_sealed:  # the original files' names too (their names: subjects)
            doc.originals = mask_names(doc.originals)
    return doc


def _register_entry(actor: User, doc: Document, p: Pending) -> AuditEntry:
    return AuditEntry(
        actor=actor.username,
        action="document.register",
        target=doc.agenda,
        detail={
            "classification": doc.classification,
            "direction": doc.direction,
            "stored_path": doc.stored_path,
            "stored_sha256": doc.stored_sha256,
            "source": p.source,
            "duplicate_of": p.duplicate_of.agenda if p.duplicate_of else None,
            **p.extra_detail,
        },
    )


def _set_aside_orphan(actor: User, final: Path) -> None:
    """A file already at a new record's path belongs to no record: stored paths are unique
    and this transaction holds the write lock, so it is left over from an attempt killed
    between filing and committing. Move it out of the archive (into the staging folder,
    never deleted; audited) so the new record can be filed."""
    settings = brankas_settings()
    fsutil.make_private_dir(settings.tmp)
    moved = settings.tmp / f"orphan-{uuid.uuid4().hex[:8]}-{final.name}"
    final.rename(moved)
    audit_record(
        actor=actor.username,
        action="archive.orphan_set_aside",
        target=final.relative_to(settings.home).as_posix(),
        detail={"moved_to": moved.relative_to(settings.home).as_posix(),
                "sha256": store.file_sha256(moved)},
    )


def document_register(
    *,
    actor: User,
    meta: DocumentInput,
    files: list[intake.InputFile],
    form_opened_at: dt.datetime | None = None,
    source: str = "cli",
    allow_duplicate: bool = False,
) -> Document:
    require_audited(actor, Action.REGISTER)
    pending = document_stage(
        meta=meta,
        files=files,
        form_opened_at=form_opened_at,
        source=source,
        allow_duplicate=allow_duplicate,
    )
    committed = documents_commit(actor=actor, pendings=[pending])
    doc = committed.documents[0]
    if doc is None:  # the same file was registered while this one was being checked
        raise Conflict("duplicate_document", agenda=committed.raced[pending.source_sha256])
    return doc


def document_view(*, actor: User, agenda: str, via: str, target: str = "") -> Document:
    """A register entry as its page or ``brankas show`` shows it: the ``view`` check, and
    the ``document.view`` entry in the audit log."""
    doc = document_get(actor=actor, agenda=agenda, via=via, target=target)
    audit_record(actor=actor.username, action="document.view", target=doc.agenda,
                 detail={"via": via})
    return doc


def document_open(
    *, actor: User, agenda: str, dst: BinaryIO, passphrase: str | None = None, via: str = "cli",
    inline: bool = False,
) -> Document:
    """Write the document's PDF to ``dst``. Exempted documents are decrypted with the
    actor's own key; ``dst`` holds a complete, authenticated PDF only if this returns.
    ``inline`` (the browser's PDF view, without a passphrase) refuses an exempted document:
    it opens only from its page, with a key holder's passphrase."""
    doc = document_lookup(agenda)
    settings = brankas_settings()
    action = Action.OPEN_EXEMPTED if doc.exempted else Action.OPEN_REGULAR
    try:
        if inline and doc.exempted:
            raise AccessDenied("exempted_via_pdf")
        require(actor.role, action)
        path = store.absolute(settings, doc.stored_path)
        if not path.is_file():
            raise IntegrityFailure("stored_file_changed", agenda=agenda, path=doc.stored_path)
        if doc.exempted:
            if not passphrase:
                raise CryptoFailure("passphrase_missing")
            identities = identities_unlock(
                user=actor, fingerprints=list(doc.recipients), passphrase=passphrase, agenda=agenda
            )
            writer = store.HashingWriter(dst)
            with open(path, "rb") as src:
                try:
                    crypto.decrypt_stream(src, writer, identities)  # type: ignore[arg-type]
                except Exception as exc:
                    raise CryptoFailure("decrypt_failed", agenda=agenda, detail=str(exc)) from None
            digest = writer.hash.hexdigest()
        else:
            writer = store.HashingWriter(dst)
            with open(path, "rb") as src:
                copy_stream(src, writer)  # type: ignore[arg-type]
            digest = writer.hash.hexdigest()
        if digest != doc.content_sha256:
            raise IntegrityFailure("stored_file_changed", agenda=agenda, path=doc.stored_path)
    except BrankasError as exc:
        audit_record(
            actor=actor.username,
            action="document.open",
            target=agenda,
            outcome="denied" if exc.kind in {"denied", "crypto"} else "failed",
            detail={"error": exc.code, "via": via, "classification": doc.classification},
        )
        raise
    audit_record(
        actor=actor.username,
        action="document.open",
        target=agenda,
        detail={"via": via, "classification": doc.classification, "sha256": digest},
    )
    return doc

