"""The reports rendered for a realistic generated month, and the sign-off chain through
the services: figures checked in the PDF's text (pypdf), the role rules, frozen approved
reports and corrections, and ``report_verify`` refusing a one-byte change."""

from __future__ import annotations

import io
import re
import statistics
import zipfile

import pytest
from pypdf import PdfReader

from brankas.core.errors import AccessDenied, Conflict, CryptoFailure, InvalidInput
from brankas.core.terms import DIRECTION_LABELS, Classification, Direction
from brankas.web.audit.models import AuditEvent
from brankas.web.reports.models import Report, ReportStep
from brankas.web.reports.selectors import report_inbox
from brankas.web.reports.services import (
    report_acknowledge,
    report_approve,
    report_create,
    report_export,
    report_forward,
    report_return,
    report_submit,
    report_verify,
)
from tests.web.reports.conftest import MONTH, SIGNING

SUMMARY = "Penerimaan berita naik.\n\nSeluruh disk tersimpan di brankas dan utuh."


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_messages_report_prints_the_counts_and_hides_exempted_subjects(office, month) -> None:  # type: ignore[no-untyped-def]
    report = report_create(actor=office.users["operator"], kind="messages", period=MONTH)
    text = text_of(report_export(actor=office.users["operator"], number=report.number,
                                 fmt="pdf"))
    assert "PEMERINTAH KABUPATEN BOLAANG MONGONDOW" in text
    assert "LAPORAN HASIL PENERIMAAN DAN PENGIRIMAN BERITA" in text
    assert "Mei 2026" in text and "001/LAP-BRT/2026-05" in text
    c = month.counts
    for cls, label in (("biasa", "Biasa"), ("rahasia", "Rahasia")):
        incoming, outgoing = c.get(("penerimaan", cls), 0), c.get(("pengiriman", cls), 0)
        assert f"{label} {incoming} {outgoing} {incoming + outgoing} " in text
    total_in = sum(n for (d, _), n in c.items() if d == "penerimaan")
    assert f"Jumlah {total_in} {120 - total_in} 120 50" in text
    # every document of the month is listed; a regular one with its subject ...
    biasa = next(d for d in month.may if d.classification == Classification.BIASA.value)
    assert biasa.agenda in text and f"Perihal {biasa.agenda} umum" in text
    # ... an exempted one with only agenda, date, classification and correspondent
    secret = next(d for d in month.may if d.classification == Classification.RAHASIA.value)
    assert secret.agenda in text and secret.correspondent in text
    assert "RAHASIA-ISI" not in text and "(dikecualikan)" in text
    assert "KONSEP - BELUM DISAHKAN" in text


def test_the_office_may_allow_the_subject_of_exempted_documents(office, month, settings) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    settings.BRANKAS = dataclasses.replace(
        settings.BRANKAS, report_exempted_fields=frozenset({"agenda", "date", "subject"}))
    report = report_create(actor=office.users["operator"], kind="messages", period=MONTH)
    secret = next(d for d in month.may if d.classification == Classification.RAHASIA.value)
    row = next(r for r in report.data["entries"] if r[0] == secret.agenda)
    assert row[5] == secret.subject and row[6] == "(dikecualikan)"  # correspondent hidden


def test_backup_report_prints_categories_disks_safes_checks_and_control_list(office, month) -> None:  # type: ignore[no-untyped-def]
    report = report_create(actor=office.users["operator"], kind="backup", period=MONTH)
    text = text_of(report_export(actor=office.users["operator"], number=report.number,
                                 fmt="pdf"))
    assert "LAPORAN HASIL BACK UP DATA" in text
    carried = [d for d in month.may if d.registered_at.day <= 28]
    regular_out = sum(1 for d in carried if d.category == "biasa" and d.direction == "pengiriman")
    assert f"biasa/pengiriman {regular_out} " in text
    assert f"Jumlah {len(carried)} " in text
    assert "DISK-A" in text and "DISK-B" in text
    assert "Brankas-Utama (Ruang Sandi lt. 2)" in text  # where the disks are kept
    assert "utuh (penuh, 29 Mei 2026 09.00)" in text  # in words, as Indonesians write it
    assert "Lampiran: Daftar Kontrol Back Up" in text
    assert carried[0].agenda in text and carried[-1].agenda in text
    assert report.data["control_list"][-1][0] == str(len(carried))
    # a report of chosen runs only
    chosen = report_create(actor=office.users["operator"], kind="backup", period=MONTH,
                           runs=[2])
    assert chosen.data["run_numbers"] == [2]


def test_mutu_baku_from_the_records_own_timestamps(office, month) -> None:  # type: ignore[no-untyped-def]
    report = report_create(actor=office.users["operator"], kind="messages", period=MONTH)
    rows = {r[0]: r for r in report.data["key"]["mutu_baku"]}
    number, _, standard, count, median, worst, over, automatic = rows[1]
    assert (standard, count) == (10, len(month.form_minutes))
    assert median == statistics.median(month.form_minutes)
    assert worst == max(month.form_minutes)
    assert over == sum(1 for m in month.form_minutes if m > 10)
    assert rows[6][3:7] == [4, statistics.median(month.run_minutes), 14.0, 1]
    assert rows[7][3:7] == [4, statistics.median(month.store_minutes), 12.0, 1]
    assert rows[3][7] is True  # done by Brankas inside the registration
    text = text_of(report_export(actor=office.users["operator"], number=report.number,
                                 fmt="pdf"))
    assert "Mutu Baku" in text


@pytest.mark.slow  # the whole chain, signed at each step (about 2 s)
def test_the_chain_with_a_return_then_approval_and_verification(office, month) -> None:  # type: ignore[no-untyped-def]
    u = office.users
    report = report_create(actor=u["operator"], kind="messages", period=MONTH)
    n = report.number
    assert list(report_inbox(actor=u["operator"])) == [report]
    report_submit(actor=u["operator"], number=n, passphrase=SIGNING["operator"])
    assert list(report_inbox(actor=u["kasi"])) == [Report.objects.get()]
    returned = report_return(actor=u["kasi"], number=n, note="Lampiran daftar kontrol kurang")
    assert returned.state == "draft" and returned.return_note == "Lampiran daftar kontrol kurang"
    assert list(report_inbox(actor=u["operator"])) == [returned]
    report_submit(actor=u["operator"], number=n, passphrase=SIGNING["operator"])
    with pytest.raises(InvalidInput):
        report_forward(actor=u["kasi"], number=n, summary=" ", passphrase=SIGNING["kasi"])
    report_forward(actor=u["kasi"], number=n, summary=SUMMARY, passphrase=SIGNING["kasi"])
    with pytest.raises(AccessDenied):  # a Sandiman cannot approve
        report_approve(actor=u["operator"], number=n, passphrase=SIGNING["operator"])
    report_return(actor=u["kabid"], number=n, note="Periksa angka disk")
    assert Report.objects.get().state == "submitted"  # back with the Kasi
    report_forward(actor=u["kasi"], number=n, summary=SUMMARY, passphrase=SIGNING["kasi"])
    with pytest.raises(CryptoFailure):
        report_approve(actor=u["kabid"], number=n, passphrase="salah")
    head = AuditEvent.objects.order_by("-seq").first()
    approved = report_approve(actor=u["kabid"], number=n, passphrase=SIGNING["kabid"])
    assert approved.state == "approved" and approved.audit_seq == head.seq
    done = report_acknowledge(actor=u["kadis"], number=n, passphrase=SIGNING["kadis"])
    assert done.state == "acknowledged"

    steps = list(ReportStep.objects.filter(report=done).values_list("step", "actor__username",
                                                                     "note"))
    assert [s[:2] for s in steps] == [
        ("submit", "operator"), ("return", "kasi"), ("submit", "operator"),
        ("forward", "kasi"), ("return", "kabid"), ("forward", "kasi"),
        ("approve", "kabid"), ("acknowledge", "kadis")]
    assert steps[1][2] == "Lampiran daftar kontrol kurang"
    actions = list(AuditEvent.objects.filter(action__startswith="report.").values_list(
        "action", flat=True))
    assert actions.count("report.return") == 2 and "report.approve" in actions

    with zipfile.ZipFile(io.BytesIO(report_export(actor=u["kadis"], number=n,
                                                  fmt="xlsx"))) as z:
        assert "Penerimaan berita naik." in z.read("xl/sharedStrings.xml").decode()
    pdf = report_export(actor=u["kadis"], number=n, fmt="pdf")
    assert pdf == bytes(done.final_pdf)
    text = text_of(pdf)
    assert "RINGKASAN EKSEKUTIF" in text and "Penerimaan berita naik." in text
    assert "Jumlah berita : 120 (periode sebelumnya 50; perubahan +70 (+140,0%))" in text
    assert "Back up selesai : 4 (gagal 0" in text and "Disk back up : 2" in text
    assert "BLOK VERIFIKASI" in text and done.data_sha256 in text
    assert f"#{head.seq} {head.hash}" in text  # the audit-chain head at approval
    assert "KONSEP" not in text
    assert "Kepala Bidang Persandian dan Statistik" in text and u["kabid"].nip in text

    result = report_verify(actor=u["kadis"], pdf=pdf)
    assert result.ok and result.report == n
    assert [(s.step, s.signer, s.ok) for s in result.signatures] == [
        ("submit", "operator", True), ("submit", "operator", True), ("forward", "kasi", True),
        ("forward", "kasi", True), ("approve", "kabid", True), ("acknowledge", "kadis", True)]
    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    bad = report_verify(actor=u["kadis"], pdf=bytes(changed))
    assert not bad.ok and bad.report is None and bad.reason == "not_approved_or_altered"
    # a signature record altered in the database no longer checks
    step = ReportStep.objects.filter(report=done, step="forward").last()
    step.statement = step.statement.replace('"kasi"', '"kabid"')
    step.save()
    tampered = report_verify(actor=u["kabid"], pdf=pdf)
    assert not tampered.ok and tampered.reason == "signature_invalid"
    # a draft's PDF is not an approved report either
    draft = report_create(actor=u["operator"], kind="backup", period=MONTH)
    assert not report_verify(actor=u["kasi"], pdf=report_export(
        actor=u["kasi"], number=draft.number, fmt="pdf")).ok


def test_role_rules_frozen_reports_and_corrections(office, small_month) -> None:  # type: ignore[no-untyped-def]
    u = office.users
    for who in ("kasi", "kabid", "kadis", "admin"):
        with pytest.raises(AccessDenied):
            report_create(actor=u[who], kind="messages", period=MONTH)
    report = report_create(actor=u["operator"], kind="messages", period=MONTH)
    with pytest.raises(AccessDenied):  # the Kasi does not submit for the Sandiman
        report_submit(actor=u["kasi"], number=report.number, passphrase=SIGNING["kasi"])
    report_submit(actor=u["operator"], number=report.number, passphrase=SIGNING["operator"])
    with pytest.raises(AccessDenied):  # a Kadis cannot edit (write the summary)
        report_forward(actor=u["kadis"], number=report.number, summary="x",
                       passphrase=SIGNING["kadis"])
    with pytest.raises(InvalidInput):
        report_return(actor=u["kasi"], number=report.number, note="")
    with pytest.raises(Conflict):  # not yet forwarded
        report_approve(actor=u["kabid"], number=report.number, passphrase=SIGNING["kabid"])
    with pytest.raises(Conflict):
        report_create(actor=u["operator"], kind="messages", period=MONTH,
                      corrects=report.number)
    report_forward(actor=u["kasi"], number=report.number, summary=SUMMARY,
                   passphrase=SIGNING["kasi"])
    with pytest.raises(AccessDenied):  # the Kasi does not approve
        report_approve(actor=u["kasi"], number=report.number, passphrase=SIGNING["kasi"])
    report_approve(actor=u["kabid"], number=report.number, passphrase=SIGNING["kabid"])
    with pytest.raises(AccessDenied):  # only the Kadis acknowledges
        report_acknowledge(actor=u["kabid"], number=report.number, passphrase=SIGNING["kabid"])
    for call in (lambda: report_submit(actor=u["operator"], number=report.number,
                                       passphrase=SIGNING["operator"]),
                 lambda: report_return(actor=u["kabid"], number=report.number, note="x")):
        with pytest.raises(Conflict, match="frozen"):
            call()
    correction = report_create(actor=u["operator"], kind="messages", period=MONTH,
                               corrects=report.number)
    assert correction.version == 2 and correction.corrects_id == report.pk
    text = text_of(report_export(actor=u["operator"], number=correction.number, fmt="pdf"))
    assert "koreksi atas laporan 001/LAP-BRT/2026-05" in text
    result = report_verify(actor=u["kasi"], pdf=bytes(Report.objects.get(pk=report.pk).final_pdf))
    assert result.ok and result.superseded_by == (correction.number,)
    with pytest.raises(InvalidInput):
        report_create(actor=u["operator"], kind="messages", period="2026-13")


def test_xlsx_carries_the_tables(office, month) -> None:  # type: ignore[no-untyped-def]
    report = report_create(actor=office.users["operator"], kind="messages", period=MONTH)
    data = report_export(actor=office.users["operator"], number=report.number, fmt="xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        workbook = z.read("xl/workbook.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "Daftar berita" in workbook and "Rekapitulasi per klasifikasi" in workbook
    assert month.may[0].agenda in strings and "RAHASIA-ISI" not in strings
    assert DIRECTION_LABELS[Direction.INCOMING] in strings


def test_messages_report_shows_requests_and_their_turnaround(office) -> None:  # type: ignore[no-untyped-def]
    """Requests to send (issue 7) recorded in the period appear with the minutes each step
    took; their subject does not (it may be exempted)."""
    import datetime as dt

    from django.utils import timezone

    from brankas.web.sendrequests.models import RequestStep
    from brankas.web.sendrequests.services import request_assign, request_create, request_return

    u = office.users
    req = request_create(actor=u["kadis"], subject="RAHASIA-PERMINTAAN-77",
                         classification="rahasia", addressee="Pangdam", urgency="kilat")
    request_assign(actor=u["kadis"], number=req.pk, assignee_username="kabid")
    request_return(actor=u["kabid"], number=req.pk, note="lengkapi alamat")
    request_assign(actor=u["kadis"], number=req.pk, assignee_username="kabid")
    request_assign(actor=u["kabid"], number=req.pk, assignee_username="kasi")
    # The Kabid took 25 minutes, the Kasi's assignment came 40 minutes later.
    steps = list(RequestStep.objects.filter(request=req).order_by("at", "pk"))
    base = timezone.now() - dt.timedelta(hours=2)
    for step, minutes in zip(steps, (0, 5, 10, 15, 55), strict=True):
        RequestStep.objects.filter(pk=step.pk).update(at=base + dt.timedelta(minutes=minutes))
    period = timezone.localtime(req.created_at).strftime("%Y-%m")
    report = report_create(actor=u["operator"], kind="messages", period=period)
    [row] = report.data["requests"]
    assert row["request"] == f"P-{req.pk}" and row["returns"] == 1
    assert row["steps"][:2] == ["15", "40"] and row["steps"][2:] == ["-"] * 4
    text = text_of(report_export(actor=u["kasi"], number=report.number, fmt="pdf"))
    assert "Permintaan pengiriman berita" in text and f"P-{req.pk}" in text
    assert "RAHASIA-PERMINTAAN-77" not in text
