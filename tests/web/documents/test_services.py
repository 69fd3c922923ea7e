"""Registration through the service: all or nothing."""

from __future__ import annotations

import pytest

from brankas.core.errors import BrankasError
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.audit.models import AuditEvent
from brankas.web.documents.models import AgendaCounter, Document
from brankas.web.documents.services import document_register
from tests.conftest import make_jpeg, make_pdf


def meta(**kw):  # type: ignore[no-untyped-def]
    base = dict(direction="pengiriman", classification="biasa", number="7", doc_date="2026-11-20",
                subject="Nota dinas", correspondent="Kepala BKD")
    base.update(kw)
    return metadata.build(**base)


def archive_files(home):  # type: ignore[no-untyped-def]
    return sorted(p for p in (home / "arsip").rglob("*") if p.is_file())


def test_a_failure_at_filing_leaves_no_record_and_no_file(office):
    from django.utils import timezone

    year = timezone.localdate().year
    # The year folder cannot be made: a file stands where it should be.
    blocker = office.home / "arsip" / "biasa" / "pengiriman" / str(year)
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"in the way")
    with pytest.raises(OSError):
        document_register(actor=office.users["operator"], meta=meta(),
                          files=[InputFile.from_bytes("a.pdf", make_pdf())])
    assert Document.objects.count() == 0
    assert not AuditEvent.objects.filter(action="document.register").exists()
    assert archive_files(office.home) == [blocker]
    assert list((office.home / "tmp").iterdir()) == []
    assert not AgendaCounter.objects.filter(last__gt=0).exists()


def test_a_leftover_file_at_the_new_name_is_set_aside_not_overwritten(office):
    from django.utils import timezone

    year = timezone.localdate().year
    # Left by a process killed between filing and committing: no record names it.
    leftover = office.home / "arsip" / "biasa" / "pengiriman" / str(year) / (
        f"K-{year}-0001-nota-dinas.pdf")
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"left over")
    original = make_pdf(text="yang baru")
    doc = document_register(actor=office.users["operator"], meta=meta(),
                            files=[InputFile.from_bytes("a.pdf", original)])
    assert (office.home / doc.stored_path) == leftover
    assert leftover.read_bytes() == original
    ev = AuditEvent.objects.get(action="archive.orphan_set_aside")
    moved = office.home / ev.detail["moved_to"]
    assert moved.read_bytes() == b"left over"
    assert not moved.is_relative_to(office.home / "arsip")


def test_refused_input_consumes_no_agenda_number(office):
    with pytest.raises(BrankasError):
        document_register(actor=office.users["operator"], meta=meta(),
                          files=[InputFile.from_bytes("a.pdf", b"%PDF-1.4 broken")])
    doc = document_register(actor=office.users["operator"], meta=meta(),
                            files=[InputFile.from_bytes("b.pdf", make_pdf())])
    assert doc.agenda.endswith("-0001")


def test_form_times_and_registrant_are_recorded(office):
    import datetime as dt

    from django.utils import timezone

    opened = timezone.now() - dt.timedelta(minutes=7)
    doc = document_register(actor=office.users["operator"], meta=meta(pages=None),
                            files=[InputFile.from_bytes("a.jpg", make_jpeg())],
                            form_opened_at=opened, source="web")
    assert doc.form_opened_at == opened
    assert doc.registered_at > opened
    assert doc.registered_by == office.users["operator"]
    assert doc.source == "web" and doc.pages == 1
    assert doc.originals[0]["kind"] == "jpeg" and doc.originals[0]["name"] == "a.jpg"


def test_exempted_document_metadata_and_folder(office):
    doc = document_register(actor=office.users["operator"],
                            meta=meta(classification="Sangat Rahasia", direction="penerimaan"),
                            files=[InputFile.from_bytes("a.pdf", make_pdf())])
    assert doc.classification == "sangat-rahasia" and doc.category == "dikecualikan"
    assert doc.stored_path.startswith("arsip/dikecualikan/penerimaan/")
    assert doc.suite == "age-v1" and len(doc.recipients) == 3  # kasi, kabid, recovery
