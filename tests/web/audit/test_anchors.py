"""The audit log's tail is anchored: the sequence counter (numbers never given twice), and
the check of the log against approved reports' heads, a backup disk's control lists and a
report PDF (``brankas.web.audit.anchors``). Real SQLite, a real disk, real PDFs."""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pikepdf
import pytest
from django.apps import apps as django_apps
from django.db import connection

from brankas.core.audit import head as audithead
from brankas.core.errors import BrankasError
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.audit.anchors import (
    anchors_from_paths,
    audit_verify_anchors,
    disk_anchors,
    pdf_anchors,
    report_anchors,
)
from brankas.web.audit.models import AuditEvent, AuditSequence
from brankas.web.audit.services import audit_record, audit_verify
from brankas.web.backup.services import backup_run
from brankas.web.backup.snapshot import snapshot_bytes, snapshot_load
from brankas.web.documents.services import document_register
from brankas.web.reports.services import (
    report_approve,
    report_create,
    report_forward,
    report_submit,
)
from tests import auditforge
from tests.conftest import make_pdf, office_once
from tests.web.reports.conftest import SIGNING, add_signer_keys


def register(office, subject: str) -> None:  # type: ignore[no-untyped-def]
    meta = metadata.build(direction="pengiriman", classification="biasa", number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Sekda")
    document_register(actor=office.users["operator"], meta=meta,
                      files=[InputFile.from_bytes("a.pdf", make_pdf(text=subject))])


def approve(office):  # type: ignore[no-untyped-def]
    u = office.users
    report = report_create(actor=u["operator"], kind="messages", period="2026-11")
    report_submit(actor=u["operator"], number=report.number, passphrase=SIGNING["operator"])
    report_forward(actor=u["kasi"], number=report.number, summary="Ringkasan.",
                   passphrase=SIGNING["kasi"])
    return report_approve(actor=u["kabid"], number=report.number, passphrase=SIGNING["kabid"])


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def counter() -> int:
    return AuditSequence.objects.get(id=1).last


def codes(report) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    return [(r.anchor.kind, None if r.ok else r.problem.code) for r in report.anchors]


def _anchor(office, base: Path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Documents, a backup (disk head), an approved report (its head), its PDF on file,
    some later activity."""
    add_signer_keys(office.users)
    for i in range(3):
        register(office, f"Surat {i}")
    backup_run(actor=office.users["operator"], dest=base / "disk", label="A")
    report = approve(office)
    (base / "laporan.pdf").write_bytes(bytes(report.final_pdf))
    register(office, "Surat sesudah")
    return {"report": report.number}


@pytest.fixture(scope="module")
def anchored_office(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The office with its anchors, built once for this module (the signatures cost a key
    derivation each); every test gets its own copy."""
    with office_once(django_db_blocker, tmp_path_factory, _anchor) as template:
        yield template


@pytest.fixture
def office(anchored_office, db, settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    return anchored_office.copy_for(settings, tmp_path)


@pytest.fixture
def anchored(office, anchored_office, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The disk (its copy), the approved report and its PDF (a copy)."""
    from brankas.web.reports.models import Report

    report = Report.objects.get(number=anchored_office.extra["report"])
    return tmp_path / "disk", report, tmp_path / "laporan.pdf"


# -- the counter ------------------------------------------------------------------------

def test_the_counter_follows_every_entry_and_is_never_given_twice(office) -> None:
    assert counter() == last_seq() > 0
    before = last_seq()
    audit_record(actor="admin", action="test.one")
    assert counter() == last_seq() == before + 1
    auditforge.cut_tail(before - 2)  # the last three entries deleted
    assert audit_verify() is not None
    assert audit_verify().message("en") == (
        f"entries #{before - 1}–#{before + 1} are missing: the log counted to #{before + 1}")
    event = audit_record(actor="admin", action="test.two")
    assert event.seq == before + 2  # not one of the deleted numbers
    assert event.prev_hash == AuditEvent.objects.get(seq=before - 2).hash
    assert audit_verify().message("en") == f"entries #{before - 1}–#{before + 1} are missing"


def test_a_counter_behind_the_log_hides_nothing_and_catches_up(office) -> None:
    before = last_seq()
    AuditSequence.objects.update(last=0)  # as a recovered pre-counter snapshot leaves it
    assert audit_verify() is None
    assert audit_record(actor="admin", action="test").seq == before + 1
    AuditSequence.objects.all().delete()  # even without its row
    assert audit_record(actor="admin", action="test").seq == before + 2
    assert counter() == before + 2 and audit_verify() is None


def test_the_migration_starts_the_counter_at_the_last_number(office) -> None:
    migration = importlib.import_module("brankas.web.audit.migrations.0002_sequence_counter")
    AuditSequence.objects.all().delete()
    # What a migration hands it: a schema editor, whose connection names the database.
    migration.start_counter(django_apps, SimpleNamespace(connection=connection))
    assert counter() == last_seq() > 0


def test_the_snapshot_carries_the_counter(office) -> None:
    before = last_seq()
    auditforge.cut_tail(before - 1)  # the tail cut: the snapshot keeps the counter's word
    data = snapshot_bytes()
    assert any(o["model"] == "audit.auditsequence" and o["fields"]["last"] == before
               for o in json.loads(data))
    AuditSequence.objects.update(last=0)
    snapshot_load(data)  # loading over the row a fresh migration made
    assert counter() == before
    assert audit_verify().message("en") == (
        f"entry #{before} is missing: the log counted to #{before}")


# -- the anchors --------------------------------------------------------------------------

def test_a_consistent_log_holds_against_every_anchor(office, anchored) -> None:
    disk, report, pdf = anchored
    assert report.audit_seq and audithead.read_pdf_head(
        pdf.read_bytes(), name="l.pdf") == audithead.Head(report.audit_seq, report.audit_hash)
    heads = disk_anchors(disk)
    assert [(a.kind, a.source_text("en")) for a in heads] == [("disk", "disk A, backup 1")]
    assert heads[0].seq < report.audit_seq < last_seq()
    assert [a.source_text("id") for a in report_anchors()] == [f"laporan {report.number}"]
    (from_pdf,) = pdf_anchors(pdf)  # byte for byte the approved report: its recorded head
    assert (from_pdf.kind, from_pdf.seq) == ("report", report.audit_seq)
    result = audit_verify_anchors(anchors=anchors_from_paths([disk, pdf]))
    assert result.ok and codes(result) == [("report", None), ("disk", None), ("report", None)]


def test_a_cut_log_with_its_counter_reset_is_caught_by_the_disk_and_the_pdf(
        office, anchored) -> None:
    disk, report, pdf = anchored
    keep = disk_anchors(disk)[0].seq - 2
    auditforge.cut_tail(keep)
    auditforge.reset_counter()
    auditforge.cover_reports()  # the database's own record of the report agrees again
    assert audit_verify() is None
    assert audit_verify_anchors().ok  # every anchor the database holds agrees
    result = audit_verify_anchors(anchors=anchors_from_paths([disk, pdf]))
    assert codes(result) == [("report", None), ("disk", "audit_anchor_truncated"),
                             ("report", None), ("pdf", "audit_anchor_truncated")]
    messages = [r.problem.message("en") for r in result.anchors if r.problem]
    assert messages == [
        f"entries after #{keep} are missing; disk A, backup 1 recorded #{keep + 2}",
        f"entries after #{keep} are missing; PDF laporan.pdf recorded #{report.audit_seq}"]


def test_a_rewritten_chain_is_caught_by_the_disk_and_the_pdf_alone(office, anchored) -> None:
    disk, report, pdf = anchored
    auditforge.rewrite(3)
    auditforge.cover_reports()
    assert audit_verify() is None and audit_verify_anchors().ok
    from brankas.web.reports.models import Report

    Report.objects.all().delete()  # and the report is gone: the PDF alone is the anchor
    result = audit_verify_anchors(anchors=anchors_from_paths([disk, pdf]))
    assert codes(result) == [("disk", "audit_anchor_rewritten"), ("pdf", "audit_anchor_rewritten")]
    assert result.anchors[1].problem.message("id") == (
        f"entri #{report.audit_seq} bukan entri yang dicatat PDF laporan.pdf: log ditulis "
        f"ulang sampai #{report.audit_seq}")


def test_the_recorded_head_of_an_approved_report_catches_a_cut_on_its_own(
        office, anchored) -> None:
    _disk, report, _pdf = anchored
    auditforge.cut_tail(report.audit_seq - 1)
    auditforge.reset_counter()
    assert audit_verify() is None
    result = audit_verify_anchors()
    assert codes(result) == [("report", "audit_anchor_truncated")]


def test_an_older_pdf_without_keywords_is_read_from_its_text(office, anchored, tmp_path) -> None:
    _disk, report, pdf = anchored
    with pikepdf.open(pdf) as doc:
        del doc.docinfo["/Keywords"]
        out = io.BytesIO()
        doc.save(out)
    older = tmp_path / "lama.pdf"
    older.write_bytes(out.getvalue())
    (anchor,) = pdf_anchors(older)  # not byte for byte the approved one any more
    assert (anchor.kind, anchor.seq, anchor.hash) == ("pdf", report.audit_seq,
                                                     report.audit_hash)


def test_inputs_without_a_head_are_refused_clearly(office, anchored, tmp_path) -> None:
    disk, _report, _pdf = anchored
    plain = tmp_path / "surat.pdf"
    make_pdf(plain)
    with pytest.raises(BrankasError) as exc:
        anchors_from_paths([plain])
    assert exc.value.message("en") == (
        "surat.pdf carries no audit-chain head (not an approved Brankas report?)")
    with pytest.raises(BrankasError) as exc:
        anchors_from_paths([tmp_path / "nothing-here"])
    assert exc.value.code == "audit_anchor_not_found"
    empty = tmp_path / "kosong"
    empty.mkdir()
    with pytest.raises(BrankasError) as exc:
        anchors_from_paths([empty])
    assert exc.value.code == "backup_not_brankas"
    # A disk whose runs carry no head the office sealed (damaged or foreign) is named too;
    # a control list alone proves nothing (anyone can write one).
    for seal in (disk / "data" / "backup").glob("*/segel.json"):
        seal.write_text("{}")
    with pytest.raises(BrankasError) as exc:
        anchors_from_paths([disk])
    assert exc.value.code == "audit_anchor_disk_no_head"
