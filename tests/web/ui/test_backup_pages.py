"""The backup pages: a real backup to a folder under tmp_path started from the web, its
progress, the control lists and their downloads, the disks, the checks, the dashboard's
warnings, and who may do what. SQLite, the file system and the bag are real; nothing is
mocked."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest

from brankas.web.ui import jobs
from tests.web.ui.conftest import born_digital, english, register_directly, text_of
from tests.web.ui.test_i18n import english_msgids

pytestmark = pytest.mark.usefixtures("no_job_left_running")


def job_of(response) -> jobs.Job:  # type: ignore[no-untyped-def]
    """The job a start redirected to, once it has ended."""
    assert response.status_code == 302, text_of(response)
    location = response["Location"]
    assert location.startswith("/backup/jobs/")
    job = jobs.job_get(location.rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(120)
    assert not job.running
    return job


def backup_directly(office, dest: Path, label: str):  # type: ignore[no-untyped-def]
    from brankas.web.backup.services import backup_run

    return backup_run(actor=office.users["operator"], dest=dest, label=label)


# -- a backup started from the web ---------------------------------------------------------

def test_a_backup_started_on_the_page_copies_the_archive_and_shows_the_result(
        transactional_db, office, signed_in, tmp_path):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.backup.models import BackupCopy, BackupRun

    biasa = register_directly(office, subject="Undangan rapat")
    secret = register_directly(office, subject="Nota dinas", classification="rahasia",
                               direction="pengiriman")
    client = english(signed_in("operator"))
    page = text_of(client.get("/backup/"))
    assert 'name="dest"' in page and "Start a backup" in page
    assert "On no backup disk yet" in page

    disk = tmp_path / "usb" / "brankas"
    disk.parent.mkdir()
    job = job_of(client.post("/backup/", {"dest": str(disk), "label": "DISK-A"}))
    assert job.error is None and job.error_text == "", job.error or job.error_text
    assert job.run_number == 1

    # The disk holds a bag with both documents, exactly as in the archive.
    assert (disk / "bagit.txt").is_file()
    for doc in (biasa, secret):
        copy = disk / "data" / doc.stored_path
        assert copy.read_bytes() == (office.home / doc.stored_path).read_bytes()
    run = BackupRun.objects.get(number=1)
    assert run.status == BackupRun.COMPLETED and run.verified
    assert sorted(run.agendas) == sorted([biasa.agenda, secret.agenda])
    assert BackupCopy.objects.filter(medium=run.medium).count() == 2

    result = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "Backup 1 to disk DISK-A is complete." in result
    assert "Every copied file was read back from the disk and matched." in result
    assert 'href="/backup/runs/1/"' in result
    assert "Biasa Penerimaan" in result and "Dikecualikan Pengiriman" in result

    # The progress endpoint: JSON, at the end of the run.
    status = client.get(f"/backup/jobs/{job.id}/status")
    assert status.status_code == 200 and status["Content-Type"] == "application/json"
    data = status.json()
    assert data["state"] == "done" and data["run"] == 1 and data["percent"] == 100
    assert data["files_total"] > 2 and data["files_done"] == data["files_total"]
    assert data["bytes_done"] == data["bytes_total"] > 0
    assert set(data["text"]) == {"files", "bytes", "speed", "left", "elapsed"}

    # The control list shows the run, its four folders, and links to the documents.
    detail = text_of(client.get("/backup/runs/1/"))
    assert "Backup control list no. 1" in detail and "DISK-A" in detail
    assert f'href="/documents/{biasa.agenda}/"' in detail
    assert f'href="/documents/{secret.agenda}/"' in detail
    listing = text_of(client.get("/backup/runs/"))
    assert 'href="/backup/runs/1/"' in listing and "DISK-A" in listing and "completed" in listing

    # The audit log holds the start and the end of the run, by the operator.
    events = {(e.action, e.outcome): e
              for e in AuditEvent.objects.filter(action__startswith="backup.")}
    assert events[("backup.start", "ok")].actor == "operator"
    assert events[("backup.start", "ok")].target == "1"
    assert events[("backup.run", "ok")].actor == "operator"
    assert events[("backup.run", "ok")].detail["documents"] == 2

    # The page shows the disk now; a second run copies nothing new.
    media = text_of(client.get("/backup/media/"))
    assert "DISK-A" in media and str(disk) in media
    job = job_of(client.post("/backup/", {"dest": str(disk), "label": ""}))
    assert job.error is None and job.run_number == 2
    detail = text_of(client.get("/backup/runs/2/"))
    assert "This backup carried no new document." in detail


def test_a_failed_backup_shows_the_reason_in_indonesian(transactional_db, office, signed_in,
                                                        tmp_path):
    from brankas.core.errors import SetupError
    from brankas.web.audit.models import AuditEvent

    register_directly(office)
    busy_folder = tmp_path / "bukan-disk"
    busy_folder.mkdir()
    (busy_folder / "foto.jpg").write_bytes(b"not a backup")
    client = signed_in("operator")
    job = job_of(client.post("/backup/", {"dest": str(busy_folder)}))
    assert job.error is not None and job.error.code == "backup_dest_not_empty"
    page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "Back up gagal." in page
    assert SetupError("backup_dest_not_empty", path=str(busy_folder)).message("id") in page
    assert (busy_folder / "foto.jpg").read_bytes() == b"not a backup"
    assert AuditEvent.objects.filter(action="backup.run", outcome="failed").exists()
    assert client.get(f"/backup/jobs/{job.id}/status").json()["state"] == "failed"


def test_the_folder_must_be_a_full_path(office, signed_in):
    client = english(signed_in("operator"))
    r = client.post("/backup/", {"dest": "brankas", "label": ""})
    assert r.status_code == 400
    assert "Enter the full path of the folder on the disk" in text_of(r)
    assert jobs.job_active() is None


def running_job(office, *, kind: str = "backup", dest: str = "/media/usb/brankas"):  # type: ignore[no-untyped-def]
    """A job row as another process running it leaves it: running, alive."""
    from django.utils import timezone

    from brankas.web.jobs.models import Job

    return Job.objects.create(kind=kind, user=office.users["operator"], dest=dest,
                              params={"dest": dest}, state=jobs.RUNNING,
                              began_at=timezone.now(), heartbeat=timezone.now(),
                              worker="elsewhere|1", resumable=kind == "backup")


def test_one_job_at_a_time(office, signed_in, tmp_path):
    blocker = running_job(office, dest=str(tmp_path / "a"))
    client = english(signed_in("operator"))
    r = client.post("/backup/", {"dest": str(tmp_path / "b"), "label": ""})
    assert r.status_code == 409
    page = text_of(r)
    assert "A backup or a disk check is already running (started by operator" in page
    assert f'href="/backup/jobs/{blocker.id}/"' in page
    r = client.post("/backup/verify/", {"dest": str(tmp_path / "b"), "mode": "fast"})
    assert r.status_code == 409
    assert not (tmp_path / "b").exists()
    # The running job's progress is there to poll.
    data = client.get(f"/backup/jobs/{blocker.id}/status").json()
    assert data["state"] == "running" and data["text"]["left"] == "—"
    running = text_of(client.get(f"/backup/jobs/{blocker.id}/"))
    assert f'data-job-status="/backup/jobs/{blocker.id}/status"' in running
    assert 'id="progress-title"' in running  # the shared progress piece, with its title
    assert f'href="/backup/jobs/{blocker.id}/"' in running
    assert "Time left" in running
    type(blocker).objects.filter(pk=blocker.pk).update(state=jobs.DONE, lock=None)
    assert jobs.job_active() is None


def test_an_unknown_job_is_a_404(office, signed_in):
    client = signed_in("operator")
    assert client.get("/backup/jobs/0123456789abcdef/").status_code == 404
    assert client.get("/backup/jobs/0123456789abcdef/status").status_code == 404


# -- checking a disk -----------------------------------------------------------------------

def test_verifying_a_disk_names_missing_and_unexpected_files(transactional_db, office,
                                                             signed_in, tmp_path):
    doc = register_directly(office, pdf=born_digital("Undangan rapat"))
    disk = tmp_path / "disk"
    backup_directly(office, disk, "DISK-V")
    client = english(signed_in("operator"))
    assert 'name="mode"' in text_of(client.get("/backup/verify/"))

    job = job_of(client.post("/backup/verify/", {"dest": str(disk), "mode": "full",
                                                 "sample_percent": "10"}))
    assert job.report is not None and job.report["ok"]
    page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "The disk is intact" in page and "DISK-V" in page

    (disk / "data" / doc.stored_path).unlink()
    (disk / "data" / "stray.txt").write_text("extra")
    job = job_of(client.post("/backup/verify/", {"dest": str(disk), "mode": "fast"}))
    assert job.report is not None and not job.report["ok"]
    page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "The disk has problems" in page
    assert "Missing files" in page and doc.stored_path in page
    assert "Unexpected files" in page and "stray.txt" in page

    media = text_of(client.get("/backup/media/"))
    assert "Recent checks" in media and "problems" in media and "intact" in media
    assert "1 missing, 0 changed, 1 unexpected" in media


# -- who may do what -----------------------------------------------------------------------

def test_a_kasi_sees_the_control_lists_but_cannot_back_up_or_verify(office, signed_in, tmp_path):
    doc = register_directly(office)
    backup_directly(office, tmp_path / "disk", "DISK-K")
    client = english(signed_in("kasi"))
    page = client.get("/backup/")
    assert page.status_code == 200
    assert 'name="dest"' not in text_of(page) and "Only a Sandiman" in text_of(page)
    r = client.post("/backup/", {"dest": str(tmp_path / "other"), "label": ""})
    assert r.status_code == 403
    assert client.get("/backup/verify/").status_code == 403
    assert client.post("/backup/verify/", {"dest": str(tmp_path / "disk"),
                                           "mode": "fast"}).status_code == 403
    assert not (tmp_path / "other").exists() and jobs.job_active() is None
    for url in ("/backup/runs/", "/backup/runs/1/", "/backup/media/"):
        assert client.get(url).status_code == 200, url
    assert doc.agenda in text_of(client.get("/backup/runs/1/"))
    assert client.get("/backup/runs/1/export.csv").status_code == 200
    assert client.get("/backup/runs/9/").status_code == 404
    assert client.get("/backup/runs/1/export.pdf").status_code == 404


def test_another_role_cannot_watch_an_operators_job(office, signed_in, tmp_path):
    job = running_job(office, dest=str(tmp_path))
    client = signed_in("kabid")
    assert client.get(f"/backup/jobs/{job.id}/").status_code == 403
    assert client.get(f"/backup/jobs/{job.id}/status").status_code == 403


def test_the_backup_link_is_in_the_menu_for_every_role(office, signed_in):
    for name in ("operator", "kasi", "admin"):
        page = text_of(signed_in(name).get("/"))
        assert 'href="/backup/"' in page, name


# -- the control list as files -------------------------------------------------------------

def test_the_control_list_downloads_as_csv_and_xlsx(office, signed_in, tmp_path):
    first = register_directly(office, subject="Surat pertama")
    second = register_directly(office, subject="Surat kedua", classification="terbatas")
    backup_directly(office, tmp_path / "disk", "DISK-X")
    client = signed_in("kadis")

    r = client.get("/backup/runs/1/export.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "daftar-kontrol-back-up-0001.csv" in r["Content-Disposition"]
    text = r.content.decode("utf-8-sig")
    assert first.agenda in text and second.agenda in text
    assert list(csv.reader(io.StringIO(text)))  # well-formed CSV

    r = client.get("/backup/runs/1/export.xlsx")
    assert r.status_code == 200
    assert r["Content-Type"] == ("application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet")
    assert "daftar-kontrol-back-up-0001.xlsx" in r["Content-Disposition"]
    book = zipfile.ZipFile(io.BytesIO(r.content))
    assert book.testzip() is None
    names = book.namelist()
    assert "xl/workbook.xml" in names and "xl/worksheets/sheet2.xml" in names
    # XlsxWriter keeps cell text in the shared-strings part; the sheet points into it.
    sheets = "".join(book.read(n).decode() for n in names
                     if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml")
    assert first.agenda in sheets and second.agenda in sheets
    assert "Dokumen" in book.read("xl/workbook.xml").decode()
    assert '<row r="3"' in book.read("xl/worksheets/sheet2.xml").decode()  # header + 2 rows


# -- the dashboard -------------------------------------------------------------------------

def test_the_dashboard_warns_until_every_document_is_on_two_disks(office, signed_in, tmp_path):
    from django.utils import timezone

    from brankas.web.backup.models import BackupRun

    register_directly(office, subject="Satu")
    register_directly(office, subject="Dua")
    client = english(signed_in("kasi"))
    page = text_of(client.get("/"))
    assert "2 documents are not on any backup disk yet." in page
    assert "No backup has been made yet." in page
    assert page.count('<a href="/backup/">Backup</a>') >= 2

    backup_directly(office, tmp_path / "disk1", "DISK-1")
    page = text_of(client.get("/"))
    assert "not on any backup disk" not in page and "No backup has been made yet." not in page
    assert "2 documents are on only one backup disk; keep every document on two." in page

    backup_directly(office, tmp_path / "disk2", "DISK-2")
    page = text_of(client.get("/"))
    assert "backup disk" not in page and "The last backup was on" not in page

    # A new registration is on no disk until the next backup.
    register_directly(office, subject="Tiga")
    page = text_of(client.get("/"))
    assert "1 document is not on any backup disk yet." in page

    # Older than BRANKAS_BACKUP_MAX_AGE_DAYS (7): overdue.
    BackupRun.objects.update(finished_at=timezone.now() - timezone.timedelta(days=8))
    page = text_of(client.get("/"))
    assert "more than 7 days ago." in page

    # In Indonesian first.
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    page = text_of(client.get("/"))
    assert "1 dokumen belum ada di disk back up mana pun." in page


# -- Indonesian first ----------------------------------------------------------------------

def test_no_english_left_on_the_indonesian_backup_pages(office, signed_in, tmp_path):
    """Every backup page, on one office with a document, a backup and a verify (set up
    once: each page only reads them)."""
    register_directly(office)
    disk = tmp_path / "disk"
    backup_directly(office, disk, "DISK-I")
    from brankas.web.backup.services import medium_verify

    medium_verify(actor=office.users["operator"], dest=disk, mode="fast")
    english = english_msgids()
    client = signed_in("operator")
    for url in ("/backup/", "/backup/verify/", "/backup/runs/", "/backup/runs/1/",
                "/backup/media/"):
        page = text_of(client.get(url))
        assert '<html lang="id">' in page, url
        shown = {m for m in english if f">{m}<" in page or f'"{m}"' in page}
        assert shown == set(), url


def test_the_progress_script_is_a_static_file_not_inline(office, signed_in):
    page = text_of(signed_in("operator").get("/backup/"))
    assert "<script>" not in page and "<script " in page  # only the static file
    from tests.web.ui.test_assets import WEB

    script = (WEB / "static" / "brankas" / "brankas.js").read_text()
    assert "data-job-status" in script and "data-job-field" in script


def test_the_backup_and_verify_forms_each_have_their_own_ids(office, signed_in):
    """Both forms of the backup page have a ``dest`` field: two ``id_dest`` made the verify
    form's label point at the backup form's field."""
    page = text_of(signed_in("operator").get("/backup/"))
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert 'for="id_dest"' in page and 'for="verify_dest"' in page


def test_a_job_that_ends_while_its_page_is_made_shows_progress_or_its_result(office,
                                                                            signed_in):
    """The SOP walk in Chromium, under load, met job pages that showed nothing: the view read
    the job's error while it ran, the job ended, then the template asked whether it ran. The
    job here ends just then (when its page's template starts rendering): the page must show
    its progress (which reloads itself) or its result, not neither."""
    from django.test.signals import template_rendered


    client = signed_in("operator")
    job = running_job(office)

    def end_the_job(sender, template, **kwargs):  # type: ignore[no-untyped-def]
        if template.name == "ui/backup_job.html":
            type(job).objects.filter(pk=job.pk).update(
                state=jobs.FAILED, lock=None, error_code="backup_medium_retired",
                error_params={"label": "D1"})

    template_rendered.connect(end_the_job)
    try:
        page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    finally:
        template_rendered.disconnect(end_the_job)
    job.refresh_from_db()
    assert not job.running
    assert "data-job-status" in page or "disk D1 sudah dipensiunkan" in page
