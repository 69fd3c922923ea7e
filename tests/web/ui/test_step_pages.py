"""The SOP steps that used to be only on the command line, now pages (issue 14): import of an
old four-folder archive, restore, restore drill, the audit check against disks and PDFs, and
the backup page's custody offers (the check-out of a disk recorded in a safe, adding a safe
for the check-in). Real disks made by a real backup under tmp_path, real jobs, real SQLite;
nothing is mocked. Recover at first run is in test_recover_page.py."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brankas.web.ui import jobs
from tests.conftest import PASSPHRASES, make_pdf
from tests.web.ui.conftest import born_digital, english, register_directly, text_of

pytestmark = pytest.mark.usefixtures("no_job_left_running", "quick_rebuilds")


def finished(response, prefix: str = "/backup/steps/") -> jobs.Job:  # type: ignore[no-untyped-def]
    """The job a form started (it redirected to its page), once it has ended."""
    assert response.status_code == 302, text_of(response)
    location = response["Location"]
    assert location.startswith(prefix), location
    job = jobs.job_get(location.rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(180)
    assert not job.running
    return job


def ok(job: jobs.Job) -> jobs.Job:
    assert job.error is None and job.error_text == "", job.error or job.error_text
    return job


def _disk(office, base: Path) -> dict[str, Any]:
    """A real backup disk (``base/usb/brankas``) of the office with a Biasa and a Rahasia
    document."""
    from brankas.web.backup.services import backup_run

    biasa = register_directly(office, subject="Undangan rapat",
                              pdf=born_digital("Undangan rapat"))
    secret = register_directly(office, subject="Nota dinas", classification="rahasia",
                               direction="pengiriman")
    dest = base / "usb" / "brankas"
    dest.parent.mkdir()
    backup_run(actor=office.users["operator"], dest=dest, label="DISK-A")
    return {"dest": dest, "biasa": biasa.pk, "secret": secret.pk}


@pytest.fixture(scope="module")
def disk_office(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The office with its disk (``_disk``), built once for this module with its records
    committed; each test that takes ``disk`` gets it back as it was (tests/web/committed.py)."""
    from tests.web.committed import committed_office

    with committed_office(django_db_blocker, tmp_path_factory, _disk) as template:
        yield template


@pytest.fixture
def office(request, settings):  # type: ignore[no-untyped-def]
    """The ``office`` fixture's office; for a test that takes ``disk``, the module's office
    with its disk, laid down again for this test."""
    from tests.conftest import MD5_HASHERS, build_office

    if "disk" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        return request.getfixturevalue("disk_office").restore(settings)
    request.getfixturevalue("db")
    settings.PASSWORD_HASHERS = MD5_HASHERS
    return build_office(request.getfixturevalue("brankas_home"))


@pytest.fixture
def disk(disk_office, transactional_db, office):  # type: ignore[no-untyped-def]
    """A real backup disk of an office with a Biasa and a Rahasia document (the module's,
    laid down again by ``office``)."""
    from brankas.web.documents.models import Document

    made = disk_office.extra
    return {"dest": made["dest"], "biasa": Document.objects.get(pk=made["biasa"]),
            "secret": Document.objects.get(pk=made["secret"])}


# -- import ------------------------------------------------------------------------------

def _old_archive(root: Path) -> Path:
    for folder, text in (("biasa/penerimaan/2025", "undangan"),
                         ("dikecualikan/pengiriman", "nota rahasia")):
        (root / folder).mkdir(parents=True)
        make_pdf(root / folder / f"{text.replace(' ', '_')}.pdf", text=text)
    return root


def test_an_old_archive_is_imported_from_the_page_with_the_chosen_classification(
        transactional_db, office, signed_in, tmp_path):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.documents.models import Document

    archive = _old_archive(tmp_path / "arsip-lama")
    client = english(signed_in("operator"))
    assert 'href="/import/"' in text_of(client.get("/"))  # in the main menu
    page = text_of(client.get("/import/"))
    assert 'name="folder"' in page and 'value="sangat-rahasia"' in page
    assert 'value="biasa"' not in page  # the exempted folder's choice: never Biasa
    job = ok(finished(client.post("/import/", {"folder": str(archive),
                                               "exempted_classification": "terbatas"})))
    assert job.result is not None and job.result["imported"] == 2
    secret = Document.objects.get(category="dikecualikan")  # its subject sealed (issue 16)
    assert secret.classification == "terbatas" and secret.subject == "" and secret.sealed
    assert Document.objects.get(subject="undangan").classification == "biasa"
    result = text_of(client.get(f"/backup/steps/{job.id}/"))
    assert "Import finished: 2 registered, 0 already in the register, 0 refused." in result
    status = client.get(f"/backup/steps/{job.id}/status").json()
    assert status["state"] == "done" and status["files_done"] == status["files_total"] == 2
    assert status["bytes_done"] == status["bytes_total"] > 0 and status["percent"] == 100
    # Audited as the command audits it: one registration entry per document.
    assert AuditEvent.objects.filter(action="document.register", actor="operator").count() == 2

    # Run again: everything is already in the register.
    again = ok(finished(client.post("/import/", {"folder": str(archive),
                                                 "exempted_classification": "rahasia"})))
    assert again.result is not None and again.result["skipped"] == 2


@pytest.mark.parametrize("name", ["kasi", "kabid", "kadis"])
def test_import_is_refused_to_the_roles_without_it(transactional_db, signed_in, name, tmp_path):
    client = signed_in(name)
    assert client.get("/import/").status_code == 403
    response = client.post("/import/", {"folder": str(tmp_path),
                                        "exempted_classification": "rahasia"})
    assert response.status_code == 403 and jobs.job_active() is None


def test_import_folders_that_are_not_a_folder_or_inside_the_data_folder_are_refused(
        transactional_db, office, signed_in, tmp_path):
    client = signed_in("admin")  # the admin may import too; Indonesian by default
    assert client.get("/import/").status_code == 200
    a_file = tmp_path / "berkas.pdf"
    make_pdf(a_file)
    for folder, refusal in (
        (str(tmp_path / "tidak-ada"), "bukan folder yang ada di komputer ini"),
        (str(a_file), "bukan folder yang ada di komputer ini"),
        (str(office.home / "arsip"), "berada di dalam folder data Brankas"),
        (str(office.home), "berada di dalam folder data Brankas"),
        ("arsip-lama", "/media/usb/brankas"),  # not a full path
    ):
        response = client.post("/import/", {"folder": folder,
                                            "exempted_classification": "rahasia"})
        assert response.status_code == 400, folder
        assert refusal in text_of(response), folder
    assert jobs.job_active() is None


# -- restore ------------------------------------------------------------------------------

def test_a_restore_from_the_page_copies_the_documents_into_an_empty_folder(disk, signed_in,
                                                                          tmp_path, office):
    from brankas.web.audit.models import AuditEvent

    client = english(signed_in("operator"))
    nav = text_of(client.get("/backup/"))
    assert 'href="/backup/restore/"' in nav and 'href="/backup/drill/"' in nav
    page = text_of(client.get("/backup/restore/"))
    assert 'name="to"' in page and 'name="passphrase"' not in page  # no key: no decrypt
    out = tmp_path / "pulih"
    job = ok(finished(client.post("/backup/restore/", {"dest": str(disk["dest"]),
                                                        "to": str(out)})))
    assert job.result is not None and job.result["ok"]
    assert sorted(job.result["restored"]) == sorted([disk["biasa"].agenda,
                                                     disk["secret"].agenda])
    biasa = disk["biasa"]
    assert (out / Path(biasa.stored_path).relative_to("arsip")).read_bytes() == \
        (office.home / biasa.stored_path).read_bytes()
    assert any(p.name.endswith(".age") for p in out.rglob("*"))  # exempted stays encrypted
    result = text_of(client.get(f"/backup/steps/{job.id}/"))
    assert "2 documents were restored into" in result
    entry = AuditEvent.objects.get(action="backup.restore")
    assert entry.actor == "operator" and entry.detail["restored"] == 2


def test_a_key_holder_decrypts_on_restore_with_the_passphrase_never_kept(disk, signed_in,
                                                                        tmp_path):
    from brankas.web.audit.models import AuditEvent

    client = english(signed_in("kasi"))
    assert 'name="passphrase"' in text_of(client.get("/backup/restore/"))
    out = tmp_path / "pulih-kasi"
    passphrase = PASSPHRASES["kasi"]
    response = client.post("/backup/restore/", {"dest": str(disk["dest"]), "to": str(out),
                                                "agendas": disk["secret"].agenda,
                                                "decrypt": "on", "passphrase": passphrase})
    assert passphrase not in response.get("Location", "")
    job = ok(finished(response))
    assert job.result is not None and job.result["decrypted"] == [disk["secret"].agenda]
    opened = [p for p in out.rglob("*") if p.is_file()]
    assert len(opened) == 1 and opened[0].read_bytes().startswith(b"%PDF")
    assert passphrase not in repr(vars(job)) and passphrase not in repr(job.result)
    page = text_of(client.get(f"/backup/steps/{job.id}/"))
    assert passphrase not in page
    assert AuditEvent.objects.filter(action="document.open", actor="kasi",
                                     target=disk["secret"].agenda).exists()
    for event in AuditEvent.objects.all():
        assert passphrase not in repr(event.detail)

    # Another user cannot follow (or read) this job.
    other = english(signed_in("operator"))
    assert other.get(f"/backup/steps/{job.id}/").status_code == 404


def test_a_wrong_passphrase_fails_the_restore_and_writes_nothing(disk, signed_in, tmp_path):
    client = signed_in("kasi")
    out = tmp_path / "pulih"
    job = finished(client.post("/backup/restore/", {"dest": str(disk["dest"]), "to": str(out),
                                                    "decrypt": "on",
                                                    "passphrase": "bukan frasa ini"}))
    assert job.error is not None
    assert not out.exists() or not any(out.iterdir())
    assert job.error.message("id") in text_of(client.get(f"/backup/steps/{job.id}/"))


def test_restore_refuses_hostile_folders_beside_their_fields(disk, signed_in, tmp_path,
                                                           office):
    client = signed_in("operator")
    full = tmp_path / "penuh"
    full.mkdir()
    (full / "ada.txt").write_text("x")
    a_file = tmp_path / "berkas.txt"
    a_file.write_text("x")
    cases = [
        ({"dest": str(tmp_path / "tidak-ada"), "to": str(tmp_path / "o1")},
         "bukan folder yang ada di komputer ini"),
        ({"dest": str(a_file), "to": str(tmp_path / "o2")},
         "bukan folder yang ada di komputer ini"),
        ({"dest": str(office.home), "to": str(tmp_path / "o3")},
         "berada di dalam folder data Brankas"),
        ({"dest": str(disk["dest"]), "to": str(full)}, "sudah berisi berkas"),
        ({"dest": str(disk["dest"]), "to": str(a_file)}, "sudah berisi berkas"),
        ({"dest": str(disk["dest"]), "to": str(office.home / "tmp" / "x")},
         "berada di dalam folder data Brankas"),
        ({"dest": str(disk["dest"]), "to": str(disk["dest"])}, "sudah berisi berkas"),
    ]
    for data, refusal in cases:
        response = client.post("/backup/restore/", data)
        assert response.status_code == 400, data
        assert refusal in text_of(response), data
    assert jobs.job_active() is None
    assert (full / "ada.txt").read_text() == "x"
    # The English interface says the same in English.
    response = english(client).post("/backup/restore/", {"dest": str(office.home),
                                                         "to": str(tmp_path / "o4")})
    assert "is inside the Brankas data folder" in text_of(response)


def test_restore_is_refused_to_the_admin_and_decrypting_to_the_sandiman(disk, signed_in,
                                                                         tmp_path):
    admin = signed_in("admin")
    assert admin.get("/backup/restore/").status_code == 403
    operator = signed_in("operator")
    response = operator.post("/backup/restore/", {"dest": str(disk["dest"]),
                                                  "to": str(tmp_path / "o"),
                                                  "decrypt": "on", "passphrase": "apa saja"})
    assert response.status_code == 403 and jobs.job_active() is None
    assert not (tmp_path / "o").exists()


def test_the_service_refuses_a_restore_into_the_data_folder_for_the_command_line_too(
        disk, office):
    from brankas.core.errors import SetupError
    from brankas.web.backup.restore import backup_restore

    with pytest.raises(SetupError) as refused:
        backup_restore(actor=office.users["operator"], dest=disk["dest"],
                       to=office.home / "tmp" / "pulih")
    assert refused.value.code == "path_inside_home"
    assert not (office.home / "tmp" / "pulih").exists()


# -- the restore drill --------------------------------------------------------------------

def test_a_drill_from_the_page_checks_and_restores_the_disk_and_is_recorded(
        disk, signed_in):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.backup.models import MediumCheck

    client = english(signed_in("operator"))
    page = text_of(client.get("/backup/drill/"))
    assert 'name="dest"' in page and 'name="shares"' not in page  # no key: no rebuild
    job = ok(finished(client.post("/backup/drill/", {"dest": str(disk["dest"])})))
    assert job.result is not None and job.result["ok"] and job.result["restored"] == 2
    check = MediumCheck.objects.get(kind=MediumCheck.DRILL)
    assert check.ok and check.actor.username == "operator"
    assert AuditEvent.objects.get(action="backup.drill").outcome == "ok"
    result = text_of(client.get(f"/backup/steps/{job.id}/"))
    assert "Drill passed" in result
    status = client.get(f"/backup/steps/{job.id}/status").json()
    assert status["state"] == "done" and status["kind"] == "drill"


def test_a_drill_refuses_shares_that_rebuild_no_key_beside_the_field(disk, signed_in):
    client = signed_in("kabid")
    response = client.post("/backup/drill/", {
        "dest": str(disk["dest"]), "shares": "kata kata yang bukan bagian pemulihan"})
    assert response.status_code == 400 and jobs.job_active() is None
    assert "kata kata yang bukan" not in text_of(response)  # never echoed back
    # Share files: too large, or not text, are refused before anything is read further.
    big = SimpleUploadedFile("bagian.txt", b"a " * 40_000)
    response = client.post("/backup/drill/", {"dest": str(disk["dest"]), "share_files": [big]})
    assert response.status_code == 400 and "bagian.txt" in text_of(response)


def test_a_drill_upload_over_the_limit_is_refused(disk, signed_in, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 2048
    client = signed_in("kasi")
    big = SimpleUploadedFile("bagian.txt", b"x" * 600_000)
    response = client.post("/backup/drill/", {"dest": str(disk["dest"]), "share_files": [big]})
    assert response.status_code == 400 and jobs.job_active() is None
    assert "terlalu besar" in text_of(response)


@pytest.mark.parametrize("name", ["admin"])
def test_the_drill_is_refused_to_the_admin(transactional_db, signed_in, name, tmp_path):
    client = signed_in(name)
    assert client.get("/backup/drill/").status_code == 403
    assert client.post("/backup/drill/", {"dest": str(tmp_path)}).status_code == 403


@pytest.mark.slow
def test_a_key_holders_drill_rebuilds_the_whole_office_in_a_process_of_its_own(disk,
                                                                              signed_in):
    client = english(signed_in("kabid"))
    job = ok(finished(client.post("/backup/drill/", {"dest": str(disk["dest"]),
                                                     "passphrase": PASSPHRASES["kabid"]})))
    assert job.result is not None and job.result["recovered"]["ok"], job.result
    assert job.result["ok"] and job.result["mismatched"] == []
    assert "Whole office rebuilt from the disk" in text_of(
        client.get(f"/backup/steps/{job.id}/"))


# -- the audit check ----------------------------------------------------------------------

def _pdf_with_head(seq: int, digest: str) -> bytes:
    import pikepdf

    from brankas.core.audit.head import keywords

    with pikepdf.open(io.BytesIO(make_pdf(text="laporan"))) as pdf:
        pdf.docinfo["/Keywords"] = keywords(seq, digest)
        buf = io.BytesIO()
        pdf.save(buf)
    return buf.getvalue()


def test_the_audit_check_page_is_a_form_not_a_command(transactional_db, office, signed_in):
    page = text_of(english(signed_in("kasi")).get("/audit/verify/"))
    assert "brankas audit verify" not in page and "command line" not in page
    assert 'name="disks"' in page and 'name="pdfs"' in page
    assert 'enctype="multipart/form-data"' in page


def test_the_audit_check_against_a_disk_runs_as_a_job(disk, signed_in):
    client = english(signed_in("kabid"))
    job = ok(finished(client.post("/audit/verify/", {"disks": str(disk["dest"])})))
    report = jobs.chain_report_from_dict(job.result["report"])  # type: ignore[index]
    assert report.ok and any(r.anchor.kind == "disk" for r in report.anchors)
    page = text_of(client.get(f"/backup/steps/{job.id}/"))
    assert "disk DISK-A, backup 1" in page and "agrees" in page and "Intact:" in page
    status = client.get(f"/backup/steps/{job.id}/status").json()
    assert status["kind"] == "audit-verify" and status["state"] == "done"


def test_the_audit_check_against_uploaded_pdfs_names_a_head_that_disagrees(
        transactional_db, office, signed_in):
    from brankas.web.audit.models import AuditEvent

    last = AuditEvent.objects.order_by("-seq").first()
    client = english(signed_in("admin"))
    good = SimpleUploadedFile("laporan-1.pdf", _pdf_with_head(last.seq, last.hash))
    response = client.post("/audit/verify/", {"pdfs": [good]})
    assert response.status_code == 200
    page = text_of(response)
    assert "PDF laporan-1.pdf" in page and "agrees" in page and "Problems found" not in page

    forged = SimpleUploadedFile("palsu.pdf", _pdf_with_head(last.seq, "0" * 64))
    page = text_of(client.post("/audit/verify/", {"pdfs": [forged]}))
    assert "PDF palsu.pdf" in page and "Problems found:" in page

    plain = SimpleUploadedFile("surat.pdf", make_pdf(text="bukan laporan"))
    response = client.post("/audit/verify/", {"pdfs": [plain]})
    assert response.status_code == 400
    assert "surat.pdf carries no audit-chain head" in text_of(response)


def test_the_audit_check_refuses_hostile_input(transactional_db, office, signed_in, tmp_path,
                                               settings):
    client = signed_in("kasi")
    for disks, refusal in ((str(office.home), "berada di dalam folder data Brankas"),
                           (str(tmp_path / "tidak-ada"), "bukan folder yang ada"),
                           ("", "Berikan folder disk back up atau PDF laporan")):
        response = client.post("/audit/verify/", {"disks": disks})
        assert response.status_code == 400, disks
        assert refusal in text_of(response), disks
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 4096
    big = SimpleUploadedFile("besar.pdf", b"%PDF-1.7\n" + b"0" * 600_000)
    response = client.post("/audit/verify/", {"pdfs": [big]})
    assert response.status_code == 400 and "terlalu besar" in text_of(response)
    assert jobs.job_active() is None


@pytest.mark.parametrize("name", ["operator", "kadis"])
def test_the_audit_check_against_disks_is_refused_to_who_may_not_read_the_log(
        transactional_db, signed_in, name, tmp_path):
    response = signed_in(name).post("/audit/verify/", {"disks": str(tmp_path)})
    assert response.status_code == 403 and jobs.job_active() is None


# -- the backup page's custody offers -------------------------------------------------------

def test_a_backup_refused_for_a_disk_in_a_safe_offers_the_check_out_there(
        disk, signed_in, office):
    from brankas.core.chains.custody import Move
    from brankas.web.custody.services import medium_move, safe_add

    user = office.users["operator"]
    safe_add(actor=user, name="Brankas-1", location="Ruang Sandi", description="",
             combination="12-34-56")
    medium_move(actor=user, medium="DISK-A", move=Move.CHECKIN, safe="Brankas-1", reason="")
    client = english(signed_in("operator"))
    response = client.post("/backup/", {"dest": str(disk["dest"]), "label": ""})
    job = finished(response, prefix="/backup/jobs/")
    assert job.error is not None and job.error.code == "backup_medium_in_safe"
    page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "brankas media checkout" not in page
    assert "Disk DISK-A is recorded as locked in safe Brankas-1." in page
    assert 'name="move" value="checkout"' in page

    medium = job.error.params["label"]
    assert medium == "DISK-A"
    from brankas.web.backup.models import Medium

    medium_id = Medium.objects.get(label="DISK-A").medium_id
    assert f'action="/backup/media/{medium_id}/"' in page
    moved = client.post(f"/backup/media/{medium_id}/", {
        "move": "checkout", "reason": "back up",
        "next": f"/backup/?dest={disk['dest']}"})
    assert moved.status_code == 302 and moved["Location"].startswith("/backup/?dest=")
    form = text_of(client.get(moved["Location"]))
    assert f'value="{disk["dest"]}"' in form
    again = ok(finished(client.post("/backup/", {"dest": str(disk["dest"]), "label": ""}),
                        prefix="/backup/jobs/"))
    assert again.run_number == 2


def test_after_a_backup_with_no_safe_the_page_offers_to_add_one_then_the_check_in(
        transactional_db, office, signed_in, tmp_path):
    register_directly(office, subject="Undangan")
    client = english(signed_in("operator"))
    dest = tmp_path / "usb"
    job = ok(finished(client.post("/backup/", {"dest": str(dest), "label": "DISK-B"}),
                      prefix="/backup/jobs/"))
    page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "No safe is recorded yet" in page and 'action="/safes/"' in page
    assert "Record the check-in" not in page
    added = client.post("/safes/", {"name": "Brankas-1", "location": "Ruang Sandi",
                                    "description": "", "combination1": "11-22-33",
                                    "combination2": "11-22-33",
                                    "next": f"/backup/jobs/{job.id}/"})
    assert added.status_code == 302 and added["Location"] == f"/backup/jobs/{job.id}/"
    page = text_of(client.get(added["Location"]))
    assert "Record the check-in" in page and "Brankas-1" in page


def test_the_setup_page_offers_to_recover_next_to_a_new_office(db, client):
    page = text_of(english(client).get("/setup/"))
    assert 'href="/setup/recover/"' in page and "Set up the office" in page
    recover = text_of(client.get("/setup/recover/"))
    assert 'name="dest"' in recover and 'name="shares"' in recover
    assert 'href="/setup/"' in recover


# -- review (issue 14): what a finished job keeps, and who may see it -----------------------

def _frame_values(exc: BaseException | None) -> list[object]:
    """Every local and closure value of every frame a kept exception still holds (its
    traceback, and those of the exceptions chained to it)."""
    values: list[object] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            values += list(tb.tb_frame.f_locals.values())
            tb = tb.tb_next
        exc = exc.__context__ or exc.__cause__
    return values


def test_a_failed_job_keeps_no_passphrase_in_its_error(disk, signed_in, tmp_path):
    """A refused restore (wrong passphrase) keeps its error for the job page, and with it,
    unless cleared, the frames of the work: their locals hold the passphrase typed."""
    client = signed_in("kasi")
    passphrase = "frasa-salah-yang-rahasia"
    job = finished(client.post("/backup/restore/", {"dest": str(disk["dest"]),
                                                    "to": str(tmp_path / "pulih"),
                                                    "decrypt": "on",
                                                    "passphrase": passphrase}))
    assert job.error is not None
    held = [v for v in _frame_values(job.error) if isinstance(v, str) and passphrase in v]
    assert held == []


def test_another_users_step_job_is_not_shown_on_the_backup_job_page(disk, signed_in,
                                                                     tmp_path):
    """The step pages show a job only to who started it; the backup and disk-check pages
    must not show the same job (any role with backup or verify would read its folder and
    its refusal there)."""
    client = signed_in("kasi")
    out = tmp_path / "pulih-rahasia"
    job = ok(finished(client.post("/backup/restore/", {"dest": str(disk["dest"]),
                                                        "to": str(out)})))
    other = signed_in("operator")
    assert other.get(f"/backup/steps/{job.id}/").status_code == 404
    assert other.get(f"/backup/jobs/{job.id}/").status_code == 404
    assert other.get(f"/backup/jobs/{job.id}/status").status_code == 404


def test_decrypting_on_a_restore_or_a_drill_asks_for_the_password_again(disk, signed_in,
                                                                        tmp_path):
    """Opening exempted content asks for the password again after five minutes
    (docs/security.md): a restore that decrypts writes it into a folder, and a drill with a
    passphrase or the shares opens the sealed register; an unlocked screen is not enough."""
    from tests.web.ui.test_hardening import stale_password

    client = signed_in("kabid")
    stale_password(client)
    out = tmp_path / "pulih"
    response = client.post("/backup/restore/", {"dest": str(disk["dest"]), "to": str(out),
                                                "decrypt": "on",
                                                "passphrase": PASSPHRASES["kabid"]})
    assert response.status_code == 302, text_of(response)
    assert response["Location"] == "/reauth/?next=%2Fbackup%2Frestore%2F"
    assert PASSPHRASES["kabid"] not in response["Location"]
    response = client.post("/backup/drill/", {"dest": str(disk["dest"]),
                                              "passphrase": PASSPHRASES["kabid"]})
    assert response.status_code == 302
    assert response["Location"] == "/reauth/?next=%2Fbackup%2Fdrill%2F"
    assert jobs.job_active() is None and not out.exists()
    # Without decrypting, the restore needs no password again (nothing exempted opens).
    ok(finished(client.post("/backup/restore/", {"dest": str(disk["dest"]), "to": str(out)})))


def test_a_folder_name_too_long_is_refused_beside_the_field_not_a_server_error(
        disk, signed_in, tmp_path):
    client = english(signed_in("operator"))
    too_long = str(tmp_path / ("a" * 300))
    for url, data in (("/import/", {"folder": too_long, "exempted_classification": "rahasia"}),
                      ("/backup/restore/", {"dest": str(disk["dest"]), "to": too_long}),
                      ("/backup/drill/", {"dest": too_long})):
        response = client.post(url, data)
        assert response.status_code == 400, (url, response.status_code)
        assert "cannot be used as a folder on this computer" in text_of(response), url
    assert jobs.job_active() is None


@pytest.mark.parametrize(("server", "user", "said"), [
    ("id", "en", "file catatan.pdf is not a PDF, JPEG, PNG or TIFF"),
    ("en", "id", "berkas catatan.pdf bukan PDF, JPEG, PNG atau TIFF")])
def test_an_import_names_its_refusals_in_the_users_language(
        transactional_db, office, signed_in, tmp_path, monkeypatch, server, user, said):
    """The job runs in a thread of its own, where the server's language (BRANKAS_LANG) is
    not the user's: the refusals on the result page must still be in the language of the
    user who started it."""
    monkeypatch.setenv("BRANKAS_LANG", server)
    archive = _old_archive(tmp_path / "arsip-lama")
    (archive / "biasa" / "penerimaan" / "2025" / "catatan.pdf").write_bytes(b"bukan PDF")
    client = signed_in("operator")
    client.post("/i18n/setlang/", {"language": user, "next": "/"})
    job = ok(finished(client.post("/import/", {"folder": str(archive),
                                               "exempted_classification": "rahasia"})))
    assert job.result is not None and job.result["refused"] == 1, job.result
    assert job.result["refused_files"][0]["reason"].startswith(said)
    assert said in text_of(client.get(f"/backup/steps/{job.id}/"))


@pytest.mark.slow
def test_a_drills_rebuild_refusal_is_in_the_users_language(disk, signed_in, monkeypatch):
    """The rebuild runs in a child process that speaks the server's language unless told:
    its refusal, shown on the drill's result page, must be in the user's."""
    monkeypatch.setenv("BRANKAS_LANG", "id")
    client = english(signed_in("kabid"))
    job = ok(finished(client.post("/backup/drill/", {"dest": str(disk["dest"]),
                                                     "passphrase": "bukan frasa kabid"})))
    assert job.result is not None and not job.result["recovered"]["ok"]
    error = job.result["recovered"]["error"]
    from brankas.core.errors import MESSAGES

    indonesian = [i.split("{")[0].strip() for i, _en in MESSAGES.values()]
    english_ = [en.split("{")[0].strip() for _id, en in MESSAGES.values()]
    text = error.removeprefix("brankas:").strip()
    assert not any(t and text.startswith(t) for t in indonesian if len(t) > 10), error
    assert any(t and text.startswith(t) for t in english_ if len(t) > 10), error


def test_a_restore_into_a_folder_on_the_backup_disk_itself_is_refused(disk, signed_in,
                                                                     office):
    """A backup disk is append-only and every file on it is in its manifest: a restore
    written into a folder of the disk would leave files a check reports as unexpected (or,
    under data/, as tampering). Refused beside the field, and by the service."""
    from brankas.core.errors import SetupError
    from brankas.web.backup.restore import backup_restore

    before = sorted(str(p) for p in disk["dest"].rglob("*"))
    client = english(signed_in("operator"))
    for inside in (disk["dest"] / "pulih", disk["dest"] / "data" / "pulih"):
        response = client.post("/backup/restore/", {"dest": str(disk["dest"]),
                                                    "to": str(inside)})
        assert response.status_code == 400, inside
        assert "is on the backup disk" in text_of(response)
        with pytest.raises(SetupError) as refused:
            backup_restore(actor=office.users["operator"], dest=disk["dest"], to=inside)
        assert refused.value.code == "restore_target_on_disk"
    assert sorted(str(p) for p in disk["dest"].rglob("*")) == before
    assert jobs.job_active() is None


@pytest.mark.parametrize("hostile", ["segel.json", "daftar-kontrol.json", "bag-info.txt",
                                     "brankas-medium.json", "link"])
def test_the_audit_check_of_a_hostile_disk_ends_and_touches_nothing_outside(
        disk, signed_in, tmp_path, hostile):
    """The audit check reads a disk as the hostile-disk corpus attacks it: a FIFO in place
    of the seal, the control list or a tag file, a link out to the laptop. The job must end
    (one job at a time: a hung one would stop every backup), and the laptop's file stays
    as it was."""
    import os
    import threading

    from tests.hostile_disk import disktools as dt

    dest = disk["dest"]
    run = dest / "data" / "backup" / dt.run_folders(dest)[-1]
    laptop = tmp_path / "laptop-secret.json"
    laptop.write_text('{"audit_head": {"seq": 1, "hash": "' + "0" * 64 + '"}}')
    if hostile == "link":
        dt.replace_with_link(run / "daftar-kontrol.json", laptop)
        fifo = None
    else:
        fifo = (run / hostile) if hostile.endswith("json") and hostile != \
            "brankas-medium.json" else dest / hostile
        dt.replace_with_fifo(fifo)
    client = english(signed_in("kabid"))
    response = client.post("/audit/verify/", {"disks": str(dest)})
    assert response.status_code == 302, text_of(response)
    job = jobs.job_get(response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(60)
    hung = job.running
    if hung and fifo is not None:  # release the blocked read, then report the hang
        threading.Thread(target=lambda: os.close(os.open(fifo, os.O_WRONLY)),
                         daemon=True).start()
        job.wait(60)
    assert not hung, f"the audit check hung on a FIFO ({hostile})"
    assert client.get(f"/backup/steps/{job.id}/").status_code == 200
    if job.result is not None:  # the laptop's file is never taken for the disk's record
        report = jobs.chain_report_from_dict(job.result["report"])
        assert all(r.anchor.hash != "0" * 64 for r in report.anchors)
    assert laptop.read_text().startswith('{"audit_head"')


def test_a_refused_step_form_never_sends_a_secret_back(transactional_db, office, signed_in,
                                                       client, tmp_path, settings):
    """A form refused for another field (the disk's folder) is shown again: the passphrase,
    the recovery key and the share words typed are not in it, and it is not cached."""
    from brankas.core.keyring import shares as core_shares

    words = core_shares.split(office.recovery_identity, shares=3, threshold=2)
    shares = "\n\n".join(core_shares.share_text(w) for w in words[:2])
    secret = "frasa-yang-tidak-boleh-kembali"
    missing = str(tmp_path / "tidak-ada")
    kabid = signed_in("kabid")
    pages = [kabid.post("/backup/restore/", {"dest": missing, "to": str(tmp_path / "o"),
                                             "decrypt": "on", "passphrase": secret}),
             kabid.post("/backup/drill/", {"dest": missing, "passphrase": secret}),
             kabid.post("/backup/drill/", {"dest": missing, "shares": shares})]
    kabid.logout()
    from tests.web.ui.test_recover_page import _not_set_up

    _not_set_up(settings, tmp_path / "kosong")
    for unlock, field, value in (("passphrase", "passphrase", secret),
                                 ("identity", "identity", office.recovery_identity),
                                 ("shares", "shares", shares)):
        pages.append(client.post("/setup/recover/", {"dest": missing, "unlock": unlock,
                                                     field: value}))
    for page in pages:
        assert page.status_code == 400
        html = page.content.decode()
        for text in (secret, office.recovery_identity, words[0].split()[3] + " "
                     + words[0].split()[4]):
            assert text not in html
        assert "no-store" in page.get("Cache-Control", "")
    assert jobs.job_active() is None
