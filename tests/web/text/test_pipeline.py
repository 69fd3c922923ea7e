"""Reading the text of biasa documents into the register (web/text/services): one document,
the OCR job's work, asking for it; an exempted document is never read."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import pytest
from django.utils.timezone import now as timezone_now

from brankas.core.errors import AccessDenied, BrankasError
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.core.text import ocr_engine
from brankas.web.audit.models import AuditEvent
from brankas.web.documents.models import Document
from brankas.web.documents.services import document_register
from brankas.web.text import services as text
from brankas.web.text.models import DocumentText
from tests.conftest import make_jpeg, make_pdf

_made = iter(range(1, 10**6))
# Ten words and more: a born-digital page's own text, read without OCR (core.text reads a
# page with fewer words by OCR as well, where the engine is installed: slow).
FILLER = ("perihal undangan rapat koordinasi penanganan stunting tingkat kabupaten tahun "
          "anggaran berjalan")


def letter(words: str, path: Path | None = None) -> bytes:
    """A born-digital letter whose text is ``words`` and ``FILLER``."""
    return make_pdf(path, text=f"{words} {FILLER}")

no_engine = pytest.mark.skipif(ocr_engine() is not None, reason="OCR is installed here")


def register(office, *, classification: str = "biasa", data: bytes | None = None,  # type: ignore[no-untyped-def]
             name: str = "a.pdf", subject: str = "Nota dinas") -> Document:
    meta = metadata.build(direction="penerimaan", classification=classification, number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Dinas")
    return document_register(actor=office.users["operator"], meta=meta,
                             files=[InputFile.from_bytes(
                                 name, data or letter(f"Surat nomor {next(_made)}"))])


def ocr_left(home: Path) -> list[Path]:
    folder = home / "tmp" / "ocr"
    return sorted(folder.rglob("*")) if folder.exists() else []


def test_a_born_digital_pdf_is_read_and_recorded_with_its_file_hash(office) -> None:
    doc = register(office, data=letter("Undangan rapat koordinasi stunting"))
    row = text.text_read(document=doc)
    assert row is not None and row.pk == doc.pk
    row.refresh_from_db()
    assert row.body.startswith("Undangan rapat koordinasi stunting perihal")
    assert (row.status, row.method, row.pages) == ("text", "pdf", 1)
    assert row.content_sha256 == doc.stored_sha256
    assert row.engine.startswith("pypdf ")
    assert ocr_left(office.home) == []  # the private workdir is gone
    assert not (office.home / "tmp" / "ocr").exists()


def test_an_exempted_document_is_refused_by_rule_and_gets_no_row(office) -> None:
    doc = register(office, classification="rahasia")
    with pytest.raises(AccessDenied) as caught:
        text.text_read(document=doc)
    assert caught.value.code == "text_exempted"
    assert not DocumentText.objects.exists()
    assert ocr_left(office.home) == []


def test_a_stored_file_that_changed_is_not_read(office) -> None:
    doc = register(office)
    path = office.home / doc.stored_path
    path.chmod(0o600)
    path.write_bytes(letter("Bukan yang didaftarkan"))
    with pytest.raises(BrankasError) as caught:
        text.text_read(document=doc)
    assert caught.value.code == "stored_file_changed"
    path.unlink()
    with pytest.raises(BrankasError):
        text.text_read(document=doc)
    assert not DocumentText.objects.exists()
    assert ocr_left(office.home) == []


@no_engine
def test_a_scan_without_an_ocr_engine_gets_no_row_and_one_warning(office, caplog) -> None:
    doc = register(office, data=make_jpeg(), name="pindaian.jpg")
    text._warned.clear()
    with caplog.at_level(logging.WARNING, logger="brankas.web.text.services"):
        assert text.text_read(document=doc) is None
        assert text.text_read(document=doc) is None
    assert [r.message for r in caplog.records].count(
        next(r.message for r in caplog.records if "OCR is not installed" in r.message)) == 1
    assert not DocumentText.objects.exists()
    summary = text.text_job_run(actor=office.users["operator"], params={"scope": "pending"})
    assert (summary.total, summary.unavailable, summary.failed_count) == (1, 1, 0)


def test_the_job_reads_every_biasa_document_and_never_an_exempted_one(office) -> None:
    docs = [register(office, data=letter(f"Surat ke {i}")) for i in range(3)]
    secret = register(office, classification="rahasia", data=letter("Rahasia"))
    progress: list[tuple[int, int]] = []
    summary = text.text_job_run(actor=office.users["operator"], params={"scope": "pending"},
                                job_id="j1",
                                on_progress=lambda d, t, b, bt: progress.append((d, t)))
    assert (summary.total, summary.read, summary.failed_count) == (3, 3, 0)
    assert progress[0] == (0, 3) and progress[-1] == (3, 3)
    assert sorted(DocumentText.objects.values_list("pk", flat=True)) == sorted(d.pk for d in docs)
    assert not DocumentText.objects.filter(pk=secret.pk).exists()
    entry = AuditEvent.objects.get(action=text.AUDIT_READ)
    assert entry.target == "j1" and entry.detail["read"] == 3
    # nothing left: a second job reads nothing
    assert text.text_todo({"scope": "pending"}) == []
    # exempted ids named in a job's params are left out too
    assert text.text_todo({"scope": "documents", "documents": [secret.pk]}) == []


def test_a_stale_row_is_read_again_and_a_redo_resumes_where_it_stopped(office) -> None:
    a, b = (register(office, data=letter(f"Surat {i}")) for i in range(2))
    text.text_job_run(actor=office.users["operator"], params={"scope": "pending"})
    DocumentText.objects.filter(pk=a.pk).update(content_sha256="0" * 64, body="lama")
    assert text.text_todo({"scope": "pending"}) == [a.pk]
    text.text_job_run(actor=office.users["operator"], params={"scope": "pending"})
    assert "Surat 0" in DocumentText.objects.get(pk=a.pk).body
    # a redo of everything, interrupted after the first: the same params go on with b only
    params = text.text_request(actor=office.users["operator"], every=True)
    assert text.text_todo(params) == [a.pk, b.pk]
    text.text_read(document=a)
    assert text.text_todo(params) == [b.pk]


def test_who_may_ask_for_text_and_every_refusal_is_audited(office) -> None:
    doc = register(office)
    secret = register(office, classification="rahasia")
    with pytest.raises(AccessDenied):
        text.text_request(actor=office.users["kasi"], agendas=[doc.agenda])
    assert AuditEvent.objects.filter(action="access.denied", actor="kasi",
                                     detail__action="read-text").exists()
    with pytest.raises(AccessDenied) as caught:
        text.text_request(actor=office.users["operator"], agendas=[doc.agenda, secret.agenda])
    assert caught.value.code == "text_exempted"
    refused = AuditEvent.objects.get(action=text.AUDIT_REFUSED)
    assert (refused.target, refused.outcome) == (secret.agenda, "denied")
    params = text.text_request(actor=office.users["admin"], agendas=[doc.agenda])
    assert params["documents"] == [doc.pk] and params["since"]
    assert AuditEvent.objects.get(action=text.AUDIT_REQUEST).actor == "admin"
    with pytest.raises(BrankasError) as missing:
        text.text_request(actor=office.users["operator"], agendas=["TIDAK-ADA"])
    assert missing.value.code == "document_not_found"


def test_one_failed_document_is_counted_and_the_job_goes_on(office) -> None:
    bad, good = register(office), register(office, data=letter("Baik"))
    (office.home / bad.stored_path).unlink()
    summary = text.text_job_run(actor=office.users["operator"], params={"scope": "pending"})
    assert (summary.read, summary.failed_count) == (1, 1)
    assert summary.as_dict()["failed_documents"] == [{"agenda": bad.agenda,
                                                      "error": "stored_file_changed"}]
    assert DocumentText.objects.filter(pk=good.pk).exists()
    assert AuditEvent.objects.get(action=text.AUDIT_READ).outcome == "failed"


def test_a_killed_process_workdir_is_swept_at_the_next_start(office) -> None:
    base = text.ocr_workdirs()
    base.mkdir(parents=True)
    dead = base / "999999999-deadbeef"  # no such process
    dead.mkdir()
    (dead / "ocr-page-1.png").write_bytes(b"Undangan rapat")
    mine_stale = base / f"{os.getpid()}-0badcafe"  # this process, not in use
    mine_stale.mkdir()
    stray = base / "stray.txt"
    stray.write_bytes(b"x")
    with text.ocr_workdir() as live:
        assert text.ocr_workdirs_sweep() == 3
        assert live.is_dir()
    assert not base.exists()
    assert ocr_left(office.home) == []


def test_a_registration_queues_its_biasa_document_and_an_import_one_job(  # type: ignore[no-untyped-def]
        office, tmp_path, django_capture_on_commit_callbacks) -> None:
    from brankas.web.documents.importer import run_import
    from brankas.web.jobs.models import Job

    with django_capture_on_commit_callbacks(execute=True):
        doc = register(office)
        register(office, classification="rahasia")
    job = Job.objects.get(kind="ocr")
    assert job.params == {"scope": "documents", "documents": [doc.pk], "reason": "register"}
    assert (job.slot, job.lock, job.resumable) == (None, None, True)
    tree = tmp_path / "tree" / "biasa" / "penerimaan" / "2019"
    tree.mkdir(parents=True)
    for i in range(5):
        letter(f"Lama {i}", tree / f"surat-{i}.pdf")
    run_import(actor=office.users["operator"], folder=tmp_path / "tree")
    jobs = Job.objects.filter(kind="ocr").order_by("started_at")
    assert jobs.count() == 2
    assert jobs.last().params == {"scope": "pending", "reason": "import"}  # type: ignore[union-attr]
    assert len(text.text_todo(jobs.last().params)) == 6  # type: ignore[union-attr]


def test_an_ocr_job_runs_as_a_job_and_never_holds_the_office(office) -> None:
    from brankas.web.jobs import runners
    from brankas.web.jobs.services import job_create, job_execute, job_resume

    register(office, data=letter("Sebagai tugas"))
    job = text.text_queue_request(actor=office.users["operator"])
    # a backup (the office's one long job) is not kept waiting by it
    assert runners.OCR in runners.beside(runners.BACKUP)
    other = job_create(kind=runners.VERIFY, user=office.users["operator"], dest="/nowhere",
                       params={"dest": "/nowhere"})
    assert other.slot == "office"
    job_execute(job.id)
    job.refresh_from_db()
    assert job.state == "done", (job.error_code, job.error_text)
    assert (job.result["read"], job.files_done, job.files_total) == (1, 1, 1)
    assert DocumentText.objects.count() == 1
    # an interrupted one resumes with what is left (nothing here)
    job.state = "interrupted"
    job.save(update_fields=["state"])
    again = job_resume(job=job, user=office.users["operator"])
    assert again.slot is None
    job_execute(again.id)
    again.refresh_from_db()
    assert again.result["total"] == 0


def test_a_journal_part_holds_the_text_rows_written_since_not_the_whole_table(office) -> None:
    from brankas.web.backup import journal

    label = "text.DocumentText"
    a, b, c = (register(office) for _ in range(3))
    for doc in (a, c):
        text.text_read(document=doc)
    DocumentText.objects.filter(pk=a.pk).update(read_at=timezone_now() - dt.timedelta(hours=2))
    DocumentText.objects.filter(pk=c.pk).update(read_at=timezone_now() - dt.timedelta(hours=1))
    marks = {"timed": {label: journal.timed_mark(label)}}
    assert marks["timed"][label]["count"] == 2
    # nothing written since: nothing carried
    assert journal.modes(marks)[label] is None
    # (s19 review) a row rewritten with an earlier time (a clock that stepped back) is
    # carried: its group of rows is (``journal.TIMED_GROUP`` pks: the three here)
    DocumentText.objects.filter(pk=c.pk).update(read_at=timezone_now() - dt.timedelta(hours=3))
    assert journal.modes(marks)[label] == (journal.MERGE, 0, (a.pk, c.pk))
    text.text_read(document=b)  # below the last pk: merged in order
    assert journal.modes(marks)[label] == (journal.MERGE, 0, (a.pk, b.pk, c.pk))
    marks = {"timed": {label: journal.timed_mark(label)}}
    assert journal.modes(marks)[label] is None
    DocumentText.objects.filter(pk=b.pk).delete()
    DocumentText.objects.filter(pk=a.pk).delete()
    assert journal.modes(marks)[label] == (journal.REPLACE, 0)  # a row went
    assert journal.modes({})[label] == (journal.REPLACE, 0)  # marks of an older disk
    rows = [{"model": "text.documenttext", "pk": pk, "fields": {"body": str(pk)}}
            for pk in (a.pk, c.pk)]
    tables = {"text.documenttext": rows}
    journal._apply(tables, ["text.documenttext"],
                   {"model": label, "mode": journal.MERGE, "after": 0,
                    "objects": [{"model": "text.documenttext", "pk": b.pk,
                                 "fields": {"body": "b"}},
                                {"model": "text.documenttext", "pk": c.pk,
                                 "fields": {"body": "c2"}}]},
                   journal.Ref("run", "0" * 64), {label})
    assert [(o["pk"], o["fields"]["body"]) for o in tables["text.documenttext"]] == [
        (a.pk, str(a.pk)), (b.pk, "b"), (c.pk, "c2")]
