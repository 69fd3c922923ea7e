"""The sign-off chain: creating reports, each transition, signing, and checking a PDF.

Every transition records who, when and the note (``ReportStep``) and is audited. A signed
step (submit, forward, approve, acknowledge) renders the PDF as it is after the step,
records its SHA-256, and signs a statement naming that hash with the signer's Ed25519
key (``brankas.core.reports.signing``). The approval's PDF is kept byte for byte: it is the
report's final form, and ``report_verify`` recognises exactly those bytes.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from brankas import __version__
from brankas.core.access import Action
from brankas.core.audit import head as audithead
from brankas.core.chains.report import REPORT, STATE_WORDS, STEP_WORDS, State, Step, is_frozen
from brankas.core.errors import Conflict, CryptoFailure, InvalidInput
from brankas.core.printing.dates import datetime_id, zone_word
from brankas.core.printing.pdf import Signature
from brankas.core.reports import signing as reportsign
from brankas.core.reports.periods import Kind, parse_period
from brankas.core.reports.render import ReportMeta, report_pdf, report_xlsx
from brankas.web.accounts import office as office_paper
from brankas.web.accounts.models import Office, User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_record
from brankas.web.reports.models import Report, ReportStep, SignerKey
from brankas.web.reports.selectors import (
    report_figures,
    report_get,
    report_lookup,
    report_steps,
)

MAX_NOTE = 2000
MAX_SUMMARY = 20000


def _text(value: str, field: tuple[str, str], limit: int) -> str:
    value = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n").strip())
    if len(value) > limit:
        raise InvalidInput("field_too_long", field=field, limit=limit)
    return value


def _data_hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- signer keys -----------------------------------------------------------------------

def signer_key(*, actor: User, passphrase: str) -> SignerKey:
    """The signer's active key; the first signing makes it, protected by ``passphrase``
    (which every later signing must give)."""
    if not passphrase:
        raise CryptoFailure("signing_passphrase_required")
    key = SignerKey.objects.filter(holder=actor, retired_at__isnull=True).first()
    if key is None:
        pair = reportsign.generate(passphrase)
        key = SignerKey.objects.create(holder=actor, public=pair.public,
                                       fingerprint=pair.fingerprint,
                                       protected_private=pair.protected_private,
                                       created_at=timezone.now())
        audit_record(actor=actor.username, action="report.signer_key.create",
                     target=actor.username, detail={"fingerprint": key.fingerprint})
    return key


# -- rendering ---------------------------------------------------------------------------

def _number_text(report: Report) -> str:
    code = "BU" if report.kind == Kind.BACKUP.value else "BRT"
    text = f"{report.number:03d}/LAP-{code}/{report.period}"
    return text + (f"/v{report.version}" if report.version > 1 else "")


def _when(value) -> str:  # type: ignore[no-untyped-def]
    return datetime_id(timezone.localtime(value))


def _last(steps: list[ReportStep], step: Step) -> ReportStep | None:
    found = [s for s in steps if s.step == step.value]
    return found[-1] if found else None


def _signature(heading: str, step: ReportStep | None, fallback: User | None) -> Signature:
    user = step.actor if step else fallback
    if user is None:
        return Signature(heading=heading, name="....................", position="", nip="")
    signed = (f"ditandatangani secara elektronik {_when(step.at)}" if step else "")
    return Signature(heading=heading, name=user.display(), position=user.position,
                     nip=user.nip, signed=signed)


# Where the approved report's verification line sends a reader on the web (the verify
# page's title in the menu, and its address), beside the command.
VERIFY_PAGE = "Laporan > Periksa keaslian PDF laporan (alamat /reports/verify)"


def _meta(report: Report, steps: list[ReportStep], *,
          verification: list[tuple[str, str]] | None = None, keywords: str = "") -> ReportMeta:
    office = Office.objects.get()
    period = parse_period(report.period)
    kop = office_paper.letterhead(office)
    submit, forward, approve, acknowledge = (
        _last(steps, s) for s in (Step.SUBMIT, Step.FORWARD, Step.APPROVE, Step.ACKNOWLEDGE))
    frozen = is_frozen(report.state)
    signed_at = approve.at if approve else timezone.now()
    head = f"Kepala {office.department}" if office.department else "Kepala Dinas"
    people = {u.username: u.display() for u in User.objects.all()}
    return ReportMeta(
        kind=Kind(report.kind), office=kop.first, letterhead=kop.lines, contact=kop.contact,
        logo=kop.logo, sop=office_paper.sop_citation(office),
        time_zone=zone_word(timezone.localtime(signed_at)), people=people,
        verify_page=VERIFY_PAGE,
        number=_number_text(report), period_label=period.label, version=report.version,
        corrects=_number_text(report.corrects) if report.corrects else "",
        draft_marking="" if frozen else "KONSEP - BELUM DISAHKAN",
        place_date=office_paper.place_date(office, signed_at),
        signatures=[
            _signature("Dibuat oleh,\nSandiman", submit, report.created_by),
            _signature("Diperiksa oleh,\nKepala Seksi", forward, None),
            _signature("Disahkan oleh,\nKepala Bidang", approve, None),
            # The Kadis acknowledges after the approval, over the approved bytes: the
            # approved PDF leaves the block to be signed by hand (dots), a later rendering
            # (the XLSX, a report not yet frozen) fills it once acknowledged.
            _signature(f"Mengetahui,\n{head}", acknowledge, None),
        ],
        summary=report.summary if State(report.state) not in (State.DRAFT,
                                                              State.SUBMITTED) else "",
        verification=verification or [],
        footer=(f"Laporan {_number_text(report)} - Brankas {__version__} - "
                f"data {report.data_sha256[:16]}"),
        extra_facts=[("Status", "disahkan" if frozen else "konsep"),
                     ("Data dikumpulkan", report.data.get("gathered_at", "-"))],
        keywords=keywords,
    )


def _who(user: User) -> str:
    return f"{user.display()} (NIP {user.nip})" if user.nip else user.display()


def _verification(report: Report, steps: list[ReportStep], head: Any,
                  approver: User, at) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    lines = [("Hash data laporan (SHA-256)", report.data_sha256)]
    for s in steps:
        if s.signature:
            key = reportsign.fingerprint(s.signer_public)
            lines.append((f"{STEP_WORDS[Step(s.step)][0].capitalize()}",
                          f"{_who(s.actor)}, {_when(s.at)}, kunci "
                          f"{key}, PDF {s.pdf_sha256[:16]}"))
    lines.append(("Disahkan", f"{_who(approver)}, {_when(at)}"))
    if head:
        lines.append((audithead.HEAD_LABEL, audithead.printed(head["seq"], head["hash"])))
    return lines


def report_render(report: Report) -> bytes:
    """The PDF as it is now: the approved bytes once frozen, else rendered afresh."""
    if report.final_pdf:
        return bytes(report.final_pdf)
    return report_pdf(_meta(report, report_steps(report)), report.data)


def report_export(*, actor: User, number: int, fmt: str, via: str = "",
                  target: str = "") -> bytes:
    """The report as PDF or XLSX (view-reports), audited as ``report.export``; ``via`` and
    ``target`` describe a refusal."""
    report = report_get(actor=actor, number=number, via=via, target=target)
    if fmt == "pdf":
        data = report_render(report)
    elif fmt == "xlsx":
        data = report_xlsx(_meta(report, report_steps(report)), report.data)
    else:
        raise InvalidInput("field_invalid", field="--format", detail=("pdf atau xlsx",
                                                                      "pdf or xlsx"))
    audit_record(actor=actor.username, action="report.export", target=str(report.number),
                 detail={"format": fmt})
    return data


def report_preview(*, actor: User, number: int, via: str = "", target: str = "") -> bytes:
    """The PDF shown in the report's page (its preview frame): audited as one
    ``report.view``, not as an export (``report_export`` is for downloads)."""
    report = report_get(actor=actor, number=number, via=via, target=target)
    data = report_render(report)
    audit_record(actor=actor.username, action="report.view", target=str(report.number),
                 detail={"preview": True, "via": via})
    return data


# -- creating --------------------------------------------------------------------------

def report_create(*, actor: User, kind: str, period: str, runs: list[int] | None = None,
                  corrects: int | None = None) -> Report:
    """A new draft with its figures gathered now; ``corrects``: a new version of an
    approved report (same kind and period), which refers to the old one."""
    require_audited(actor, Action.REPORT_DRAFT)
    try:
        kind_value = Kind(kind)
    except ValueError:
        raise InvalidInput("report_kind_invalid", value=kind) from None
    parsed = parse_period(period)
    today = timezone.localdate()
    if parsed.start > today:
        raise InvalidInput("report_period_future", period=parsed.text,
                           today=today.strftime("%d/%m/%Y"))
    old = None
    if corrects is not None:
        old = report_get(actor=actor, number=corrects)
        if not is_frozen(old.state):
            from brankas.core.errors import Conflict

            raise Conflict("report_correction_invalid", number=old.number)
    with transaction.atomic():
        last = Report.objects.select_for_update().order_by("-number").first()
        data = report_figures(kind_value, parsed, runs or None)
        report = Report.objects.create(
            number=(last.number + 1) if last else 1, kind=kind_value.value,
            period=parsed.text, runs=sorted(runs or []), created_by=actor,
            created_at=timezone.now(), data=data, data_sha256=_data_hash(data),
            version=(old.version + 1) if old else 1, corrects=old)
        audit_record(actor=actor.username, action="report.create", target=str(report.number),
                     detail={"kind": report.kind, "period": report.period,
                             "corrects": old.number if old else None})
    return report


# -- the transitions ---------------------------------------------------------------------

@dataclass
class _Outcome:
    report: Report
    step: ReportStep
    extra: dict[str, Any] = field(default_factory=dict)


def _advance(*, actor: User, number: int, step: Step, note: str = "", passphrase: str = "",
             summary: str | None = None) -> Report:
    seen = report_lookup(number)  # the step's own role check comes first, and is audited
    needed = REPORT.transition(seen.state, step, number=seen.number).action
    require_audited(actor, needed, target=str(seen.number))  # before the transaction
    _one_signature_each(actor, seen, step)
    try:
        return _advance_locked(actor=actor, seen=seen, step=step, note=note,
                               passphrase=passphrase, summary=summary)
    except CryptoFailure as exc:
        # A wrong signing passphrase is audited as a wrong document passphrase is (after
        # the step's transaction is rolled back, so that the entry stays).
        if exc.code == "signing_passphrase_wrong":
            audit_record(actor=actor.username, action=f"report.{step.value}",
                         target=str(seen.number), outcome="failed",
                         detail={"error": exc.code})
        raise


def _advance_locked(*, actor: User, seen: Report, step: Step, note: str, passphrase: str,
                    summary: str | None) -> Report:
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=seen.pk)
        if report.state != seen.state:  # it moved on meanwhile
            raise Conflict("report_step_invalid", number=report.number,
                           state=STATE_WORDS[State(report.state)], step=STEP_WORDS[step])
        row = REPORT.check(role=actor.role, state=report.state, step=step,
                           number=report.number)
        target = row.to_state
        note = _text(note, ("catatan", "note"), MAX_NOTE)
        if row.needs_reason and not note:
            raise InvalidInput("report_note_required")
        key = signer_key(actor=actor, passphrase=passphrase) if row.signed else None
        # A wrong passphrase stops here, before anything changes.
        private = reportsign.unlock(bytes(key.protected_private), passphrase) if key else None
        if step is Step.SUBMIT:  # the figures as they are when the Sandiman submits
            data = report_figures(Kind(report.kind), parse_period(report.period),
                                  report.runs or None)
            report.data, report.data_sha256 = data, _data_hash(data)
        if summary is not None:
            report.summary = _text(summary, ("ringkasan eksekutif", "summary"), MAX_SUMMARY)
        if step is Step.FORWARD and not report.summary.strip():
            raise InvalidInput("report_summary_required")
        now = timezone.now()
        previous = report.state
        report.state = target.value
        report.return_note = note if step is Step.RETURN else ""
        record = ReportStep(report=report, step=step.value, from_state=previous,
                            to_state=target.value, actor=actor, at=now, note=note)
        steps = [*report_steps(report), record]
        if step is Step.APPROVE:
            head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
            report.audit_seq = head["seq"] if head else None
            report.audit_hash = head["hash"] if head else ""
            verification = _verification(report, steps, head, actor, now)
            # The head also goes into the document information (audit verify --against).
            keywords = audithead.keywords(head["seq"], head["hash"]) if head else ""
            pdf = report_pdf(_meta(report, steps, verification=verification,
                                   keywords=keywords), report.data)
            report.final_pdf, report.final_sha256 = pdf, reportsign.sha256(pdf)
        elif step is Step.ACKNOWLEDGE:
            pdf = bytes(report.final_pdf or b"")
        elif key is not None:
            pdf = report_pdf(_meta(report, steps), report.data)
        if key is not None and private is not None:
            record.pdf_sha256 = reportsign.sha256(pdf)
            message = reportsign.statement(
                report=report.number, version=report.version, kind=report.kind,
                period=report.period, step=step.value, signer=actor.username,
                at=now.isoformat(), pdf_sha256=record.pdf_sha256,
                data_sha256=report.data_sha256)
            record.statement = message.decode("utf-8")
            record.signature = reportsign.sign(private, message)
            record.signer_public = key.public
        report.save()
        record.save()
        audit_record(actor=actor.username, action=f"report.{step.value}",
                     target=str(report.number),
                     detail={"from": previous, "to": target.value, "note": note,
                             "pdf_sha256": record.pdf_sha256,
                             "signer_key": key.fingerprint if key else None})
    return report


def _one_signature_each(actor: User, report: Report, step: Step) -> None:
    """Each signed step of a report is another person's (the four people of the chain):
    a user given another role (issue 14) signs no second step of a report they signed
    already. Signing the same step again (after a return) is theirs. Refused, audited."""
    row = REPORT.find(report.state, step)
    if row is None or not row.signed:
        return
    earlier = (ReportStep.objects.filter(report=report, actor=actor)
               .exclude(signature="").exclude(step=step.value)
               .order_by("at", "id").first())
    if earlier is None:
        return
    refused = Conflict("report_signer_twice", number=report.number,
                       username=actor.username, step=STEP_WORDS[Step(earlier.step)])
    audit_record(actor=actor.username, action=f"report.{step.value}",
                 target=str(report.number), outcome="failed",
                 detail={"error": refused.code, "signed": earlier.step})
    raise refused


def report_submit(*, actor: User, number: int, passphrase: str, note: str = "") -> Report:
    """Submit (or resubmit) to the Kasi; ``note``: the Sandiman's reply to a return, kept
    with the step and shown in the history."""
    return _advance(actor=actor, number=number, step=Step.SUBMIT, passphrase=passphrase,
                    note=note)


def report_refresh(*, actor: User, number: int) -> Report:
    """Gather a draft's figures again (after a return, when the records changed), so that
    its preview shows what the submission will sign; audited with the old and new hashes."""
    require_audited(actor, Action.REPORT_DRAFT, target=str(number))
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_lookup(number).pk)
        if report.state != State.DRAFT.value:
            raise Conflict("report_refresh_not_draft", number=report.number)
        data = report_figures(Kind(report.kind), parse_period(report.period),
                              report.runs or None)
        old = report.data_sha256
        report.data, report.data_sha256 = data, _data_hash(data)
        report.save(update_fields=["data", "data_sha256"])
        audit_record(actor=actor.username, action="report.refresh", target=str(report.number),
                     detail={"from": old[:16], "to": report.data_sha256[:16],
                             "changed": old != report.data_sha256})
    return report


def report_return(*, actor: User, number: int, note: str) -> Report:
    return _advance(actor=actor, number=number, step=Step.RETURN, note=note)


def report_forward(*, actor: User, number: int, summary: str, passphrase: str,
                   note: str = "") -> Report:
    return _advance(actor=actor, number=number, step=Step.FORWARD, summary=summary,
                    passphrase=passphrase, note=note)


def report_approve(*, actor: User, number: int, passphrase: str, note: str = "") -> Report:
    return _advance(actor=actor, number=number, step=Step.APPROVE, passphrase=passphrase,
                    note=note)


def report_acknowledge(*, actor: User, number: int, passphrase: str, note: str = "") -> Report:
    return _advance(actor=actor, number=number, step=Step.ACKNOWLEDGE, passphrase=passphrase,
                    note=note)


# -- checking a PDF ----------------------------------------------------------------------

@dataclass(frozen=True)
class SignatureCheck:
    step: str
    signer: str
    name: str
    at: str
    key: str
    ok: bool


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    sha256: str
    report: int | None = None
    number: str = ""
    state: str = ""
    reason: str = ""
    signatures: tuple[SignatureCheck, ...] = ()
    superseded_by: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "sha256": self.sha256, "report": self.report,
                "number": self.number, "state": self.state, "reason": self.reason,
                "superseded_by": list(self.superseded_by),
                "signatures": [s.__dict__ for s in self.signatures]}


def report_verify(*, actor: User, pdf: bytes) -> VerifyResult:
    """Whether ``pdf`` is, byte for byte, an approved report, and who signed it when: its
    SHA-256 must be a recorded approved PDF's, and every recorded signature must check
    with the signer's public key and name the hash of what that signer saw."""
    require_audited(actor, Action.VIEW_REPORTS)
    digest = reportsign.sha256(pdf)
    report = Report.objects.filter(final_sha256=digest).first()
    if report is None:
        return VerifyResult(False, digest, reason="not_approved_or_altered")
    checks = []
    ok = True
    for s in report_steps(report):
        if not s.signature:
            continue
        fields = json.loads(s.statement)
        good = (reportsign.check(s.signer_public, s.statement.encode("utf-8"), s.signature)
                and fields.get("pdf_sha256") == s.pdf_sha256
                and fields.get("report") == report.number
                and fields.get("signer") == s.actor.username
                and SignerKey.objects.filter(holder=s.actor, public=s.signer_public).exists())
        if s.step in (Step.APPROVE.value, Step.ACKNOWLEDGE.value):
            good = good and s.pdf_sha256 == digest
        ok = ok and good
        checks.append(SignatureCheck(s.step, s.actor.username, s.actor.display(),
                                     s.at.isoformat(), reportsign.fingerprint(s.signer_public),
                                     good))
    audit_record(actor=actor.username, action="report.verify", target=str(report.number),
                 outcome="ok" if ok else "failed", detail={"sha256": digest})
    return VerifyResult(ok, digest, report.number, _number_text(report), report.state,
                        "" if ok else "signature_invalid", tuple(checks),
                        tuple(report.corrections.values_list("number", flat=True)))
