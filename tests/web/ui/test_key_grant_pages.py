"""The hand-over and revocation pages: a grant started from the web runs as a background
job whose progress page reads the RewrapJob; the admin revokes and sees what the key still
opens on backup disks. Real SQLite, files and age."""

from __future__ import annotations

import io

import pytest

from brankas.web.ui import jobs
from tests.conftest import PASSPHRASES, PASSWORDS, add_key
from tests.web.ui.conftest import english, register_directly, text_of

pytestmark = pytest.mark.usefixtures("no_job_left_running")

KABID2_PASSPHRASE = "elang putih terbang di atas danau toba"


def join_kabid2(office):  # type: ignore[no-untyped-def]
    from brankas.web.accounts.services import user_create

    user = user_create(actor=office.users["admin"], username="kabid2", role="kabid",
                       password=PASSWORDS["kabid"], full_name="Kabid Baru", position="kabid",
                       nip="198001012005011999")
    office.users["kabid2"] = user
    return add_key(user, KABID2_PASSPHRASE)


def job_of(response) -> jobs.Job:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, text_of(response)
    location = response["Location"]
    assert location.startswith("/keys/jobs/")
    job = jobs.job_get(location.rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(120)
    assert not job.running
    return job


def test_a_holder_hands_over_from_the_page_and_the_new_holder_opens(
        transactional_db, office, signed_in):
    from brankas.web.documents.services import document_open
    from brankas.web.keys.models import RewrapJob

    docs = [register_directly(office, subject=f"Rahasia {i}", classification="rahasia")
            for i in range(2)]
    join_kabid2(office)
    client = english(signed_in("kabid"))
    page = client.get("/keys/grant/")
    assert page.status_code == 200 and "kabid2" in text_of(page)
    wrong = client.post("/keys/grant/", {"mode": "passphrase", "to": "kabid2"})
    assert wrong.status_code == 400
    response = client.post("/keys/grant/", {"mode": "passphrase", "to": "kabid2",
                                            "passphrase": PASSPHRASES["kabid"]})
    job = job_of(response)
    assert job.error is None and job.error_text == "", job.error_text
    row = RewrapJob.objects.get()
    assert job.rewrap_job_id == row.pk and row.state == RewrapJob.DONE
    status = client.get(f"/keys/jobs/{job.id}/status").json()
    assert (status["files_done"], status["files_total"], status["rewrap_job"]) == (2, 2, row.pk)
    result = text_of(client.get(f"/keys/jobs/{job.id}/"))
    assert "Documents re-encrypted" in result and "kabid2" in result
    for doc in docs:
        out = io.BytesIO()
        document_open(actor=office.users["kabid2"], agenda=doc.agenda, dst=out,
                      passphrase=KABID2_PASSPHRASE)
        assert out.getvalue().startswith(b"%PDF")
    # Someone else may not follow the job; the admin may.
    assert signed_in("kasi").get(f"/keys/jobs/{job.id}/").status_code == 403
    assert signed_in("admin").get(f"/keys/jobs/{job.id}/").status_code == 200


def test_a_wrong_passphrase_fails_the_job_with_its_reason(transactional_db, office, signed_in):
    register_directly(office, subject="Rahasia", classification="rahasia")
    join_kabid2(office)
    client = english(signed_in("kabid"))
    job = job_of(client.post("/keys/grant/", {"mode": "passphrase", "to": "kabid2",
                                              "passphrase": "bukan frasa sandinya"}))
    assert job.error is not None and job.error.code == "passphrase_wrong"
    assert "wrong passphrase" in text_of(client.get(f"/keys/jobs/{job.id}/")).lower()


def test_who_sees_the_grant_and_revoke_pages(db, office, signed_in):
    assert signed_in("operator").get("/keys/grant/").status_code == 403
    assert signed_in("kasi").get("/keys/grant/").status_code == 200
    admin = signed_in("admin")
    page = admin.get("/keys/grant/")
    assert page.status_code == 200 and 'name="shares"' in page.content.decode()
    assert admin.post("/keys/grant/", {"mode": "passphrase"}).status_code == 403
    assert signed_in("kabid").post("/keys/grant/", {"mode": "shares"}).status_code == 403
    assert signed_in("kabid").get("/keys/revoke/").status_code == 403
    assert signed_in("admin").get("/keys/revoke/").status_code == 200


def test_the_revoke_page_offers_the_key_holders_and_preselects_the_rows_holder(
        db, office, signed_in):
    import re

    page = text_of(signed_in("admin").get("/keys/revoke/?holder=kasi"))
    options = re.findall(r'<option value="([^"]*)"( selected)?', page)
    assert [value for value, _ in options] == ["kabid", "kasi"]  # who holds a key
    assert [value for value, selected in options if selected] == ["kasi"]


def test_the_admin_revokes_and_sees_what_the_disks_still_hold(db, office, signed_in, tmp_path):
    from brankas.web.backup.services import backup_run
    from brankas.web.keys.models import HolderKey

    doc = register_directly(office, subject="Rahasia", classification="rahasia")
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="Disk-A")
    client = english(signed_in("admin"))
    refused = client.post("/keys/revoke/", {"holder": "kabid"})
    assert refused.status_code == 400  # not confirmed
    assert not HolderKey.objects.filter(revoked_at__isnull=False).exists()
    response = client.post("/keys/revoke/", {"holder": "kabid", "confirm": "on"})
    assert response.status_code == 200, text_of(response)
    text = text_of(response)
    assert "Disk Disk-A" in text and doc.agenda in text
    key = HolderKey.objects.get(holder=office.users["kabid"])
    assert key.revoked and key.revoked_by == office.users["admin"]
    needs_shares = client.post("/keys/revoke/", {"holder": "kasi", "confirm": "on",
                                                 "rekey": "on"})
    assert needs_shares.status_code == 400


def test_revoking_the_last_holder_warns_that_only_the_recovery_key_opens(db, office,
                                                                          signed_in):
    doc = register_directly(office, subject="Rahasia", classification="rahasia")
    client = signed_in("admin")  # the page in Bahasa Indonesia
    first = text_of(client.post("/keys/revoke/", {"holder": "kasi", "confirm": "on"}))
    assert "hanya dapat dibuka dengan kunci pemulihan" not in first  # the Kabid still opens it
    last = text_of(client.post("/keys/revoke/", {"holder": "kabid", "confirm": "on"}))
    assert "1 dokumen atau surat dikecualikan kini hanya dapat dibuka dengan kunci pemulihan" \
        in last, doc.agenda
