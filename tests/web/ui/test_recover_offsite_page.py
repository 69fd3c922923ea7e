"""Recover the office from the offsite copy (S3) on the first-run page (issue 18): the second
source beside the backup disk, its fields checked as ``offsite add`` checks them, and (with
the tests' real S3 server) a real push, then a real rebuild in a process of its own put in
place of the empty instance. Nothing is mocked.

    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest -n 0 \\
        tests/web/ui/test_recover_offsite_page.py
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import uuid
from pathlib import Path

import pytest

from brankas.web.ui import jobs
from tests.conftest import PASSPHRASES
from tests.web.ui.conftest import born_digital, register_directly, text_of

pytestmark = pytest.mark.usefixtures("no_job_left_running", "quick_rebuilds")


def _errors(page: str) -> list[str]:
    return re.findall(r"(?s)class=.errorlist[^>]*>(.{0,300})", page)


def _offsite_post(**fields: str) -> dict[str, str]:
    return {"source": "offsite", "endpoint": "http://127.0.0.1:1", "url": "s3://arsip-kantor/a",
            "unlock": "passphrase", "passphrase": "frasa-rahasia-uji", **fields}


def test_the_recover_page_offers_the_offsite_copy_in_both_languages(db, client):
    page = text_of(client.get("/setup/recover/"))  # Bahasa Indonesia first
    for text in ("Pulihkan dari", "disk back up", "salinan di luar kantor (S3)",
                 "Alamat server S3", "Salinan di luar kantor (s3://BUCKET",
                 "Wilayah (region, opsional)", "Berkas berisi kunci akses S3",
                 "Kunci akses S3 tidak pernah diketik di sini", "Bila semua disk juga hilang"):
        assert text in page, text
    raw = client.get("/setup/recover/").content.decode()
    assert 'name="source" value="offsite"' in raw and 'name="url"' in raw
    # the credentials are a file's path, never a secret field
    assert 'type="text" name="credentials_file"' in raw
    assert "aws_secret" not in raw.lower() and 'name="secret' not in raw
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = text_of(client.get("/setup/recover/"))
    for text in ("Recover from", "a backup disk", "the offsite copy (S3)", "S3 server address",
                 "Offsite copy (s3://BUCKET or s3://BUCKET/FOLDER)", "Region (optional)",
                 "File holding the S3 keys, on this computer",
                 "The S3 keys are never typed here", "When every disk was lost too"):
        assert text in page, text


def test_bad_offsite_fields_are_refused_with_clear_messages(db, client, tmp_path):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    missing = tmp_path / "tidak-ada.txt"
    loose = tmp_path / "s3-longgar.txt"
    loose.write_text("[default]\naws_access_key_id = AKIAUJI\naws_secret_access_key = rahasiaS3\n")
    loose.chmod(0o644)
    no_keys = tmp_path / "s3-kosong.txt"
    no_keys.write_text("[default]\n")
    no_keys.chmod(0o600)
    cases = (
        ({"url": "https://arsip-kantor/a"}, "is not valid: s3://BUCKET[/PREFIX]"),
        ({"url": "s3://Arsip_Kantor/a"}, "is not valid: 3-63: a-z 0-9 . -"),
        ({"url": "s3://arsip-kantor/a/../b"}, "is not valid: a/b/c, tanpa .. / without .."),
        ({"endpoint": "ftp://s3.example"}, "S3 server address is not valid: http(s)://host"),
        ({"region": "us east"}, "Region (optional) is not valid"),
        ({"credentials_file": str(missing)}, f"{missing}: tidak ada / not found"),
        ({"credentials_file": str(loose)},
         f"is readable by other users; restrict it first: chmod 600 {loose}"),
        ({"credentials_file": str(no_keys)}, "aws_access_key_id or aws_secret_access_key is empty"),
        ({"url": "", "endpoint": ""}, "This field is required."),
        ({"fingerprint": "ab12"}, "Only for a recover from a backup disk."),
        ({"passphrase": ""}, "Type the key holder's passphrase."),
    )
    for fields, refusal in cases:
        response = client.post("/setup/recover/", _offsite_post(**fields))
        page = text_of(response)
        assert response.status_code == 400 and refusal in page, (fields, _errors(page))
        assert "frasa-rahasia-uji" not in response.content.decode()
        assert "rahasiaS3" not in response.content.decode()
    # the disk's folder is asked for a recover from a disk, not the bucket's fields
    response = client.post("/setup/recover/", {"source": "disk", "unlock": "passphrase",
                                               "passphrase": "x", "url": "bukan s3"})
    page = text_of(response)
    assert response.status_code == 400 and page.count("This field is required.") == 1
    assert "is not valid" not in page
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    response = client.post("/setup/recover/", _offsite_post(url="https://arsip-kantor"))
    assert response.status_code == 400 and "tidak valid: s3://BUCKET[/PREFIX]" in text_of(
        response)
    assert jobs.job_active() is None


def _users_in(home: Path) -> set[str]:
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return {row[0] for row in db.execute("select username from accounts_user")}


@pytest.mark.s3
@pytest.mark.slow
def test_the_first_run_page_recovers_the_office_from_its_offsite_copy(
        transactional_db, office, client, settings, tmp_path):
    from tests.offsite.conftest import s3_server_or_skip

    server = s3_server_or_skip()
    from brankas.core.config import ensure_home
    from brankas.web.accounts.models import Office
    from brankas.web.offsite.services import offsite_push, remote_add

    settings.SECRET_KEY = settings.SECRET_KEY  # restored after the test (the switch reads it)
    register_directly(office, subject="Undangan rapat koordinasi",
                      pdf=born_digital("Undangan rapat koordinasi"))
    register_directly(office, subject="Nota dinas", classification="rahasia",
                      direction="pengiriman")
    creds = tmp_path / "s3-kredensial"  # the office's credentials file (chmod 600)
    creds.write_text(f"[default]\naws_access_key_id = {server['AWS_ACCESS_KEY_ID']}\n"
                     f"aws_secret_access_key = {server['AWS_SECRET_ACCESS_KEY']}\n")
    creds.chmod(0o600)
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    endpoint, bucket = server["BRANKAS_TEST_S3_ENDPOINT"], server["BRANKAS_TEST_S3_BUCKET"]
    remote_add(actor=office.users["operator"], name="pdn", endpoint=endpoint, bucket=bucket,
               prefix=prefix, retention_days=2, credentials_file=str(creds))
    assert offsite_push(actor=office.users["operator"], name="pdn").ok

    # The ransomware took the computer: a new one, Brankas served and not set up yet.
    home = tmp_path / "laptop-baru" / "brankas-data"
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, home=home)
    ensure_home(settings.BRANKAS)
    Office.objects.all().delete()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    fields = {"source": "offsite", "endpoint": endpoint, "url": f"s3://{bucket}/{prefix}",
              "region": server["region"], "credentials_file": str(creds),
              "unlock": "passphrase"}

    # A wrong passphrase: refused, and this computer is as it was.
    response = client.post("/setup/recover/", {**fields, "passphrase": "bukan frasa ini"})
    assert response.status_code == 302
    job = jobs.job_get(response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(180)
    page = text_of(client.get(response["Location"]))
    assert "Nothing was recovered; this computer is as it was." in page
    assert [p.name for p in home.parent.iterdir()] == ["brankas-data"]

    # A key holder's passphrase: the office comes back, in place of the empty home.
    passphrase = PASSPHRASES["kasi"]
    response = client.post("/setup/recover/", {**fields, "passphrase": passphrase})
    assert response.status_code == 302 and passphrase not in response["Location"]
    location = response["Location"]
    job = jobs.job_get(location.rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(300)
    assert job.error is None and job.error_text == "", job.error or job.error_text
    assert job.result is not None and job.result["set_aside"], job.result
    assert passphrase not in repr(vars(job)) and server["AWS_SECRET_ACCESS_KEY"] not in repr(
        vars(job))
    assert {"admin", "operator", "kasi", "kabid", "kadis"} <= _users_in(home)
    restored = [p for p in (home / "arsip").rglob("*") if p.is_file()]
    assert len(restored) == 2
    page = text_of(client.get(location))
    assert passphrase not in page
    assert "The office was recovered from the offsite copy and Brankas now runs on it." in page
    assert f"s3://{bucket}/{prefix}" in page
    # nothing of the secrets in the rebuilt folder's files (logs, database, settings)
    for path in home.rglob("*"):
        if path.is_file() and path.stat().st_size < 50 << 20:
            data = path.read_bytes()
            assert passphrase.encode() not in data, path
            assert server["AWS_SECRET_ACCESS_KEY"].encode() not in data, path
    status = client.get(f"{location}status").json()
    assert status["kind"] == "recover" and status["state"] == "done"


@pytest.mark.parametrize("form_name", ["RestoreForm", "DrillForm"])
def test_the_restore_and_drill_forms_take_no_offsite_source(form_name, tmp_path):
    """Only the first-run recover offers the offsite copy: a restore or drill form posted with
    ``source=offsite`` still needs its disk folder (the offsite fields were once copied into
    them: the post then failed on a missing field instead of a clear refusal)."""
    from brankas.web.ui.backup import step_forms

    form = getattr(step_forms, form_name)(data={
        "source": "offsite", "dest": "", "to": str(tmp_path / "out"), "passphrase": "x",
        "url": "s3://b", "endpoint": "http://127.0.0.1:1"})
    assert not form.is_valid()
    assert "dest" in form.errors
