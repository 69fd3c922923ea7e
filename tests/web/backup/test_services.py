"""The backup service's promises that the command line cannot easily reach: what is
recorded as on a disk when a run fails, the snapshot's fidelity, the spreadsheet-safe
registers."""

from __future__ import annotations

import csv
import errno
import io
from datetime import UTC
from pathlib import Path

import bagit
import pytest

from brankas.core.disk.bag import Hooks
from brankas.core.disk.format import read_payload_manifest
from brankas.core.errors import BrankasError
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_verify
from brankas.web.backup import registers
from brankas.web.backup.models import BackupCopy, BackupRun
from brankas.web.backup.selectors import backup_status
from brankas.web.backup.services import backup_run
from brankas.web.backup.snapshot import snapshot_bytes, snapshot_load
from brankas.web.documents.models import Document
from brankas.web.documents.services import document_register
from tests.conftest import make_pdf


def register(office, subject: str, classification: str = "biasa"):  # type: ignore[no-untyped-def]
    meta = metadata.build(direction="pengiriman", classification=classification, number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Sekda")
    return document_register(actor=office.users["operator"], meta=meta,
                             files=[InputFile.from_bytes("a.pdf", make_pdf(text=subject))])


def test_a_disk_pulled_mid_run_records_only_what_the_manifest_lists(office, tmp_path: Path):
    docs = [register(office, f"Surat nomor {i}") for i in range(6)]
    dest = tmp_path / "disk"
    seen = []

    def pull(staged: Path) -> None:
        seen.append(staged)
        if len(seen) == 4:
            raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(BrankasError) as err:
        backup_run(actor=office.users["operator"], dest=dest, label="A", hooks=Hooks(staged=pull))
    assert err.value.code in {"backup_disk_gone", "backup_disk_error"}
    run = BackupRun.objects.get()
    assert run.status == BackupRun.FAILED and run.error
    listed = set(read_payload_manifest(dest))
    recorded = {c.document.stored_path for c in BackupCopy.objects.select_related("document")}
    assert recorded <= listed  # nothing recorded that is not on the disk
    bagit.Bag(str(dest)).validate()
    # The next run completes the disk and records every document.
    done = backup_run(actor=office.users["operator"], dest=dest)
    assert done.run.status == BackupRun.COMPLETED
    assert BackupCopy.objects.count() == len(docs)
    assert set(done.run.agendas) | {c.document.agenda for c in BackupCopy.objects.filter(
        run=run)} == {d.agenda for d in docs}
    assert AuditEvent.objects.filter(action="backup.run", outcome="failed").count() == 1
    bagit.Bag(str(dest)).validate()


def test_an_archive_file_changed_since_registration_stops_the_run_naming_it(office, tmp_path):
    doc = register(office, "Surat yang diubah")
    (office.home / doc.stored_path).write_bytes(make_pdf(text="tampered"))
    with pytest.raises(BrankasError) as err:
        backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A")
    assert err.value.code == "backup_source_changed"
    assert doc.stored_path in err.value.message("en")
    assert not BackupCopy.objects.exists()
    assert BackupRun.objects.get().status == BackupRun.FAILED


def test_the_snapshot_reloads_with_the_audit_chain_intact(office, tmp_path: Path):
    register(office, "Surat rahasia", "rahasia")
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A")
    data = snapshot_bytes()
    counts = {m: m.objects.count() for m in (Document, AuditEvent, BackupRun)}
    for model in (BackupCopy, BackupRun, AuditEvent, Document):
        model.objects.all().delete()
    from brankas.web.backup.models import Medium, MediumCheck
    from brankas.web.documents.models import AgendaCounter
    from brankas.web.keys.models import HolderKey

    MediumCheck.objects.all().delete()
    Medium.objects.all().delete()
    AgendaCounter.objects.all().delete()
    HolderKey.objects.all().delete()
    from brankas.web.accounts.models import Office, User

    User.objects.all().delete()
    Office.objects.all().delete()
    snapshot_load(data)
    assert {m: m.objects.count() for m in counts} == counts
    assert audit_verify() is None


def test_dashboard_status_counts_documents_on_no_disk_and_on_one(office, tmp_path: Path):
    register(office, "Satu")
    status = backup_status()
    assert status.on_no_disk == 1 and "overdue" in status.warnings
    backup_run(actor=office.users["operator"], dest=tmp_path / "a", label="A")
    status = backup_status()
    assert (status.on_no_disk, status.on_one_disk) == (0, 1)
    assert status.warnings == ["fewer_than_two"]
    backup_run(actor=office.users["operator"], dest=tmp_path / "b", label="B")
    assert backup_status().warnings == []


def test_register_csv_keeps_formulas_as_text_and_opens_as_utf8():
    from datetime import date, datetime

    doc = {"agenda": "K-2026-0001", "direction": "pengiriman", "classification": "biasa",
           "number": "=HYPERLINK(\"http://x\")", "doc_date": date(2026, 1, 2),
           "subject": "Perihal: rapat ë", "correspondent": "+62 sekda", "pages": 1,
           "attachments": "", "notes": "@note", "registered_at": datetime.now(UTC),
           "stored_path": "arsip/x.pdf", "stored_sha256": "a" * 64, "content_sha256": "b" * 64}
    data = registers.register_csv([registers.register_row(doc, "op")])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "No. Agenda" and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Nomor Naskah"].startswith("'=")
    assert row["Pengirim/Tujuan"] == "'+62 sekda" and row["Catatan"] == "'@note"
    assert row["Perihal"] == "Perihal: rapat ë"


def test_register_csv_gives_the_registration_time_in_the_office_time_zone(settings):
    from datetime import date, datetime

    from django.utils import timezone

    settings.TIME_ZONE = "Asia/Makassar"
    doc = {"agenda": "K-2026-0001", "direction": "pengiriman", "classification": "biasa",
           "number": "1", "doc_date": date(2026, 5, 7), "subject": "s", "correspondent": "c",
           "pages": 1, "attachments": "", "notes": "",
           "registered_at": datetime(2026, 5, 7, 23, 30, tzinfo=UTC),
           "stored_path": "arsip/x.pdf", "stored_sha256": "a" * 64, "content_sha256": "b" * 64}
    with timezone.override("Asia/Makassar"):
        data = registers.register_csv([registers.register_row(doc, "op")])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    # the office's day and hour, with its offset (as the audit CSV since issue 14)
    assert dict(zip(rows[0], rows[1], strict=True))["Waktu Pendaftaran"] == \
        "2026-05-08T07:30:00+08:00"
