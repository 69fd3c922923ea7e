"""Requests to send a secret message: recording, the assignment chain, the letter,
registering it as an outgoing document, and sending (the SOP's records 1-5 and after).

Every transition is one transaction that writes the request, a ``RequestStep`` and an audit
entry. The letter goes through the registration's intake and encryption path
(``documents.services.stage_files``): an exempted letter is encrypted in memory, only its
ciphertext reaches ``tmp/`` and ``permintaan/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto, fsutil
from brankas.core.access import Action
from brankas.core.chains.base import Transition
from brankas.core.chains.request import REQUEST, State, Step, is_closed
from brankas.core.errors import (
    BrankasError,
    Conflict,
    CryptoFailure,
    IntegrityFailure,
    InvalidInput,
    NotFound,
)
from brankas.core.register import intake, metadata, store
from brankas.core.register.metadata import DocumentInput
from brankas.core.sealing import SEALED_LABEL
from brankas.core.terms import (
    Direction,
    Urgency,
    is_exempted,
    parse_urgency,
)
from brankas.web.accounts.models import User
from brankas.web.accounts.selectors import office_get
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.documents.models import Document
from brankas.web.documents.sealing import mask_names, seal_into, sealed_fields
from brankas.web.documents.selectors import document_by_source
from brankas.web.documents.services import (
    Pending,
    document_stage,
    documents_commit,
    stage_files,
)
from brankas.web.keys.selectors import Purpose, Recipient, recipients_for
from brankas.web.keys.services import identities_unlock
from brankas.web.runtime import brankas_settings
from brankas.web.sendrequests.models import RequestStep, SendRequest
from brankas.web.sendrequests.selectors import request_lookup


def _urgency(value: str | Urgency) -> Urgency:
    try:
        return parse_urgency(str(value))
    except ValueError:
        raise InvalidInput("urgency_invalid", value=value) from None


def _text(value: str | None, field: str, *, required: bool = False, multiline: bool = False
          ) -> str:
    return metadata.clean_text(value, field, required=required, multiline=multiline)


def _step(req: SendRequest, *, kind: Step, actor: User, from_state: str, note: str = "",
          assignee: User | None = None, at: dt.datetime | None = None,
          detail: dict[str, object] | None = None) -> RequestStep:
    step = RequestStep.objects.create(
        request=req, kind=kind.value, from_state=from_state, to_state=req.state, actor=actor,
        assignee=assignee, note=note, at=at or timezone.now(),
    )
    audit_record(
        actor=actor.username,
        action=f"request.{kind.value}",
        target=str(req.pk),
        detail={"from": from_state, "to": req.state,
                "assignee": assignee.username if assignee else None,
                "note": note, **(detail or {})},
    )
    return step


def _locked(number: int) -> SendRequest:
    """The request, its row locked for this transaction."""
    try:
        return SendRequest.objects.select_for_update().get(pk=number)
    except (SendRequest.DoesNotExist, ValueError):
        raise NotFound("request_not_found", number=number) from None


def _wrong_state(req: SendRequest, step: Step) -> BrankasError:
    """The chain's refusal of ``step`` in the request's (current) state."""
    return REQUEST.refusal(State(req.state), step, number=req.pk)


def _check(req: SendRequest, actor: User, step: Step) -> Transition[State, Step]:
    """``REQUEST.check``: the step is open from the request's state, the actor's role may
    take it, and the request waits for the actor (the chain's holder rule)."""
    return REQUEST.check(role=actor.role, state=req.state, step=step,
                         assignee=req.assignee_id, user=actor.pk, number=req.pk,
                         holder=req.assignee.username if req.assignee else None)


def _move(req: SendRequest, state: State, assignee: User | None, now: dt.datetime) -> str:
    before = req.state
    req.state = state.value
    req.assignee = assignee
    req.state_since = now
    if is_closed(state):
        req.closed_at = now
    return before


# ------------------------------------------------------------------ the letter

def _letter_name(req: SendRequest, exempted: bool) -> PurePosixPath:
    return store.letter_path(number=req.pk, year=timezone.localdate(req.created_at).year,
                             subject=req.subject, exempted=exempted)


LETTER_FIELDS = ("letter_originals", "letter_source_sha256", "letter_sha256", "letter_size",
                 "letter_pages", "letter_stored_sha256", "letter_stored_size", "letter_suite",
                 "letter_recipients")


def _attach(req: SendRequest, files: list[intake.InputFile]) -> store.Staged:
    """Check the letter and stage it, encrypted to every key holder and the recovery key
    when the request is exempted. The caller places it (``_place``) inside its transaction."""
    settings = brankas_settings()
    exempted = is_exempted(req.classification)
    # Refuse before reading anything when an exempted letter could not be encrypted.
    recipients = recipients_for(purpose=Purpose.LETTER).all() if exempted else []
    done = stage_files(files, recipients=recipients, settings=settings)
    # A sealed request keeps no file name in plain text (a name often is the subject).
    req.letter_originals = mask_names(done.originals) if req.any_sealed else done.originals
    req.letter_source_sha256 = done.source_sha256
    req.letter_sha256 = done.staged.content_sha256
    req.letter_size = done.staged.content_size
    req.letter_pages = done.pages
    req.letter_stored_sha256 = done.staged.stored_sha256
    req.letter_stored_size = done.staged.stored_size
    req.letter_suite = done.staged.suite or ""
    req.letter_recipients = [r.fingerprint for r in recipients]
    return done.staged


@contextmanager
def _undone_on_failure(staged: store.Staged | None) -> Iterator[list[Path]]:
    """Yield a list for the letter file placed under ``permintaan/``; if the block fails
    (the transaction rolled back), that file and the staged copy are removed: no orphan."""
    placed: list[Path] = []
    try:
        yield placed
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        if staged is not None:
            store.discard(staged)
        raise


def _place(req: SendRequest, staged: store.Staged) -> Path:
    """Move the staged letter under ``permintaan/`` (the request has its number by now)."""
    settings = brankas_settings()
    rel = _letter_name(req, bool(req.letter_suite))
    final = store.absolute(settings, rel.as_posix())
    fsutil.publish(staged.path, final)
    req.letter_path = rel.as_posix()
    return final


# ------------------------------------------------------------------ record 1

def request_create(
    *,
    actor: User,
    subject: str,
    classification: str,
    addressee: str,
    urgency: str = Urgency.BIASA.value,
    requester_unit: str = "",
    requester_name: str = "",
    notes: str = "",
    requested_at: dt.datetime | None = None,
    files: list[intake.InputFile] | None = None,
    via: str = "cli",
) -> SendRequest:
    """Record a request to the Kadis to send a letter or message (record 1). It then waits
    for the Kadis. The letter may come with it, or later when the Sandiman receives it."""
    require_audited(actor, Action.REQUEST_CREATE)
    now = timezone.now()
    # Left empty, the request is the recording official's own (their unit is the office).
    office = office_get()
    requester_unit = requester_unit or (office.department or office.name if office else "")
    requester_name = requester_name or actor.display()
    req = SendRequest(
        requester_unit=_text(requester_unit, "requester_unit", required=True),
        requester_name=_text(requester_name, "requester_name", required=True),
        subject=_text(subject, "subject", required=True),
        classification=metadata.parse_class(classification).value,
        addressee=_text(addressee, "addressee", required=True),
        urgency=_urgency(urgency).value,
        notes=_text(notes, "notes", multiline=True),
        requested_at=requested_at or now,
        created_by=actor,
        created_at=now,
        state=State.SUBMITTED.value,
        state_since=now,
    )
    if is_exempted(req.classification) and sealed_fields() & {"subject", "notes",
                                                              "correspondent"}:
        seal_into(req, {"subject": req.subject, "notes": req.notes,
                        "correspondent": req.addressee},
                  recipients_for(purpose=Purpose.LETTER).all())
    staged = _attach(req, files) if files else None
    with _undone_on_failure(staged) as placed, transaction.atomic():
        req.save()
        if staged is not None:
            placed.append(_place(req, staged))
            req.save(update_fields=["letter_path"])
        _step(req, kind=Step.CREATE, actor=actor, from_state="", at=now,
              detail={"classification": req.classification, "urgency": req.urgency,
                      "letter": req.letter_path or None,
                      "letter_sha256": req.letter_stored_sha256 or None, "via": via})
    return req


# ------------------------------------------------------------------ records 2-4, returns

def request_assign(*, actor: User, number: int, assignee_username: str, note: str = "",
                   via: str = "cli") -> SendRequest:
    """The holder assigns the next in the chain: the Kadis a Kabid, the Kabid a Kasi, the
    Kasi a Sandiman. Nobody else assigns, and nobody skips a link."""
    note = _text(note, "note", multiline=True)
    seen = request_lookup(number)
    step = REQUEST.transition(seen.state, Step.ASSIGN, number=seen.pk)
    require_audited(actor, step.action)  # outside the transaction, so the refusal stays
    with transaction.atomic():
        req = _locked(number)
        if REQUEST.find(req.state, Step.ASSIGN) != step:  # moved on meanwhile
            raise _wrong_state(req, Step.ASSIGN)
        _check(req, actor, Step.ASSIGN)
        to_role = step.assigns.value if step.assigns else ""
        assignee = User.objects.filter(username=assignee_username.strip(), is_active=True,
                                       role=to_role).first()
        if assignee is None:
            raise InvalidInput("request_assignee_invalid", username=assignee_username,
                               role=to_role)
        now = timezone.now()
        before = _move(req, step.to_state, assignee, now)
        req.save()
        _step(req, kind=Step.ASSIGN, actor=actor, from_state=before, note=note,
              assignee=assignee, at=now, detail={"via": via})
    return req


def request_return(*, actor: User, number: int, note: str, via: str = "cli") -> SendRequest:
    """Give the request back to whoever held it before, with the reason (shown to them).
    The Kadis gives it back to the requester, which closes it."""
    require_audited(actor, REQUEST.action(Step.RETURN))
    note = _text(note, "note", multiline=True)
    if REQUEST.needs_reason(Step.RETURN) and not note:
        raise InvalidInput("request_note_required")
    with transaction.atomic():
        req = _locked(number)
        target = _check(req, actor, Step.RETURN).to_state
        previous: User | None = None
        if REQUEST.holder(target) is not None:
            # The previous holder is who made the assignment out of the target state.
            last = (req.steps.filter(kind=Step.ASSIGN.value, from_state=target.value)
                    .select_related("actor").order_by("-at", "-pk").first())
            previous = last.actor if last is not None else None
            if previous is not None and (not previous.is_active
                                         or previous.role != REQUEST.holder(target)):
                previous = None  # they left or hold another role: any user of the role
        now = timezone.now()
        before = _move(req, target, previous, now)
        if target is State.AT_KASI:
            req.received_at = None  # the letter goes back with it
        req.save()
        _step(req, kind=Step.RETURN, actor=actor, from_state=before, note=note,
              assignee=previous, at=now, detail={"via": via})
    return req


# ------------------------------------------------------------------ record 5

def request_receive(*, actor: User, number: int, files: list[intake.InputFile] | None = None,
                    note: str = "", via: str = "cli") -> SendRequest:
    """The Sandiman records receiving the letter to be sent (record 5), attaching its scan
    if the request came without one."""
    require_audited(actor, REQUEST.action(Step.RECEIVE))
    note = _text(note, "note", multiline=True)
    req = request_lookup(number)
    step = _check(req, actor, Step.RECEIVE)
    if files and req.has_letter:
        raise Conflict("request_attachment_exists", number=req.pk)
    staged = _attach(req, files) if files else None  # outside the write lock: may be big
    with _undone_on_failure(staged) as placed, transaction.atomic():
        fresh = _locked(number)
        if fresh.state != req.state or (staged and fresh.has_letter):
            raise _wrong_state(fresh, Step.RECEIVE)
        _check(fresh, actor, Step.RECEIVE)
        if staged is not None:
            for name in LETTER_FIELDS:
                setattr(fresh, name, getattr(req, name))
            placed.append(_place(fresh, staged))
        now = timezone.now()
        before = _move(fresh, step.to_state, actor, now)
        fresh.received_at = now
        fresh.save()
        _step(fresh, kind=Step.RECEIVE, actor=actor, from_state=before, note=note, at=now,
              detail={"letter": fresh.letter_path or None,
                      "letter_sha256": fresh.letter_stored_sha256 or None, "via": via})
    return fresh


# ------------------------------------------------------------------ into the register

def _letter_pending(req: SendRequest, meta: DocumentInput, *, form_opened_at: dt.datetime,
                    source: str, allow_duplicate: bool) -> Pending:
    """The request's stored letter as a staged document, byte for byte: an exempted letter
    stays the ciphertext made when it was attached (the Sandiman holds no key, and none is
    needed), checked against its hash on the way."""
    settings = brankas_settings()
    src_path = store.absolute(settings, req.letter_path)
    if not src_path.is_file():
        raise IntegrityFailure("request_attachment_changed", number=req.pk, path=req.letter_path)
    with fsutil.staged_file(settings.tmp) as (path, fh):
        writer = store.HashingWriter(fh)
        with open(src_path, "rb") as src:
            fsutil.copy_stream(src, writer)  # type: ignore[arg-type]
    if writer.hash.hexdigest() != req.letter_stored_sha256:
        path.unlink(missing_ok=True)
        raise IntegrityFailure("request_attachment_changed", number=req.pk, path=req.letter_path)
    staged = store.Staged(path=path, content_sha256=req.letter_sha256,
                          content_size=req.letter_size, stored_sha256=req.letter_stored_sha256,
                          stored_size=req.letter_stored_size, suite=req.letter_suite or None)
    existing = document_by_source(req.letter_source_sha256)
    if existing is not None and not allow_duplicate:
        store.discard(staged)
        raise Conflict("duplicate_document", agenda=existing.agenda)
    return Pending(
        meta=meta, staged=staged, originals=list(req.letter_originals),
        source_sha256=req.letter_source_sha256, pages=meta.pages or req.letter_pages,
        # Only the fingerprints are recorded with the document (who can open it).
        recipients=[Recipient(fp, "", "") for fp in req.letter_recipients],
        form_opened_at=form_opened_at, source=source, duplicate_of=existing,
        allow_duplicate=allow_duplicate,
        seal_recipients=(recipients_for(purpose=Purpose.DOCUMENT).all()
                         if req.letter_recipients else None),
    )


def request_register(
    *,
    actor: User,
    number: int,
    doc_number: str,
    doc_date: str | dt.date,
    correspondent: str | None = None,
    pages: int | str | None = None,
    attachments: str = "",
    notes: str = "",
    files: list[intake.InputFile] | None = None,
    form_opened_at: dt.datetime | None = None,
    allow_duplicate: bool = False,
    source: str = "cli",
) -> Document:
    """Register the request's letter as an outgoing document and link the two. Direction,
    classification and subject come from the request, the correspondent defaults to its
    addressee. Without ``files`` the letter attached to the request is registered as it is
    stored (see ``_letter_pending``); with them, the scan given now (e.g. the signed letter)."""
    require_audited(actor, REQUEST.action(Step.REGISTER))
    req = request_lookup(number)
    step = _check(req, actor, Step.REGISTER)
    # A sealed subject (and addressee) goes to the document as it is sealed: the Sandiman
    # holds no key (issue 16); the document's column gets the label, then is emptied.
    presealed = {name: entry for name, entry in req.sealed.items()
                 if name == "subject" or (name == "correspondent" and correspondent in (None, ""))}
    meta = metadata.build(
        direction=Direction.OUTGOING.value, classification=req.classification,
        number=doc_number, doc_date=doc_date,
        subject=SEALED_LABEL if "subject" in presealed else req.subject,
        correspondent=(correspondent if correspondent not in (None, "") else
                       SEALED_LABEL if "correspondent" in presealed else req.addressee),
        attachments=attachments, notes=notes, pages=pages,
    )
    opened = form_opened_at or timezone.now()
    if files:
        pending = document_stage(meta=meta, files=files, form_opened_at=opened, source=source,
                                 allow_duplicate=allow_duplicate)
    elif req.has_letter:
        pending = _letter_pending(req, meta, form_opened_at=opened, source=source,
                                  allow_duplicate=allow_duplicate)
    else:
        raise InvalidInput("request_no_letter", number=req.pk)
    pending.extra_detail["request"] = req.pk
    pending.presealed = presealed
    with transaction.atomic():
        fresh = _locked(number)
        if fresh.state != req.state or fresh.document_id is not None:
            store.discard(pending.staged)
            raise _wrong_state(fresh, Step.REGISTER)
        committed = documents_commit(actor=actor, pendings=[pending])
        doc = committed.documents[0]
        if doc is None:
            raise Conflict("duplicate_document", agenda=committed.raced[pending.source_sha256])
        now = timezone.now()
        before = _move(fresh, step.to_state, actor, now)
        fresh.document = doc
        fresh.save()
        _step(fresh, kind=Step.REGISTER, actor=actor, from_state=before, at=now,
              detail={"agenda": doc.agenda, "reused_letter": not files})
    return doc


# ------------------------------------------------------------------ sending

def request_send(*, actor: User, number: int, channel: str, reference: str,
                 sent_at: dt.datetime | None = None, note: str = "", via: str = "cli"
                 ) -> SendRequest:
    """Record when and through what channel the message went, and its reference number;
    the request is then closed. Its letter must be in the register first."""
    require_audited(actor, REQUEST.action(Step.SEND))
    channel = _text(channel, "channel", required=True)
    reference = _text(reference, "reference", required=True)
    note = _text(note, "note", multiline=True)
    with transaction.atomic():
        req = _locked(number)
        step = _check(req, actor, Step.SEND)  # not sent before it is in the register
        now = timezone.now()
        before = _move(req, step.to_state, None, now)
        req.sent_at = sent_at or now
        req.channel = channel
        req.reference = reference
        req.save()
        _step(req, kind=Step.SEND, actor=actor, from_state=before, note=note, at=now,
              detail={"channel": channel, "reference": reference,
                      "sent_at": req.sent_at.isoformat(), "via": via})
    return req


# ------------------------------------------------------------------ reading the letter

def request_letter_open(*, actor: User, number: int, dst: BinaryIO,
                        passphrase: str | None = None, via: str = "cli") -> SendRequest:
    """Write the request's letter (PDF) to ``dst``: a Biasa letter for anyone who sees
    requests, an exempted one only for a key holder with their own key and passphrase, as
    for documents. Audited, refusals included."""
    req = request_lookup(number)
    settings = brankas_settings()
    try:
        require_audited(actor, Action.REQUEST_VIEW, via=via)
        if not req.has_letter:
            raise InvalidInput("request_no_letter", number=req.pk)
        path = store.absolute(settings, req.letter_path)
        if not path.is_file():
            raise IntegrityFailure("request_attachment_changed", number=req.pk,
                                   path=req.letter_path)
        writer = store.HashingWriter(dst)
        with open(path, "rb") as src:
            if req.letter_encrypted:
                require_audited(actor, Action.OPEN_EXEMPTED)
                if not passphrase:
                    raise CryptoFailure("passphrase_missing")
                identities = identities_unlock(user=actor, fingerprints=list(req.letter_recipients),
                                               passphrase=passphrase, agenda=f"P-{req.pk}")
                try:
                    crypto.decrypt_stream(src, writer, identities)  # type: ignore[arg-type]
                except Exception as exc:
                    raise CryptoFailure("decrypt_failed", agenda=f"P-{req.pk}",
                                        detail=str(exc)) from None
            else:
                fsutil.copy_stream(src, writer)  # type: ignore[arg-type]
        if writer.hash.hexdigest() != req.letter_sha256:
            raise IntegrityFailure("request_attachment_changed", number=req.pk,
                                   path=req.letter_path)
    except BrankasError as exc:
        audit_record(actor=actor.username, action="request.letter_open", target=str(req.pk),
                     outcome="denied" if exc.kind in {"denied", "crypto"} else "failed",
                     detail={"error": exc.code, "via": via,
                             "classification": req.classification})
        raise
    audit_record(actor=actor.username, action="request.letter_open", target=str(req.pk),
                 detail={"via": via, "classification": req.classification,
                         "sha256": req.letter_sha256})
    return req
