"""Recover the office from a backup disk on the first-run page (issue 14): a real disk made
by a real backup, a real rebuild in a process of its own (``instance.recover_in_place``),
the rebuilt instance put in place of the empty one, and, with a real server, signing in to
it afterwards without a restart or anything typed. Nothing is mocked."""

from __future__ import annotations

import dataclasses
import http.cookiejar
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brankas.web.ui import jobs
from tests.conftest import PASSPHRASES, PASSWORDS
from tests.web.ui.conftest import born_digital, register_directly, text_of

pytestmark = pytest.mark.usefixtures("no_job_left_running", "quick_rebuilds")


def _disk(office, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    from brankas.web.backup.services import backup_run

    register_directly(office, subject="Undangan rapat", pdf=born_digital("Undangan rapat"))
    register_directly(office, subject="Nota dinas", classification="rahasia",
                      direction="pengiriman")
    dest = tmp_path / "usb" / "brankas"
    dest.parent.mkdir()
    backup_run(actor=office.users["operator"], dest=dest, label="DISK-A")
    return dest


def _not_set_up(settings, home: Path) -> None:  # type: ignore[no-untyped-def]
    """This process now serves an empty home, not set up: no office in its records."""
    from brankas.core.config import ensure_home
    from brankas.web.accounts.models import Office

    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, home=home)
    ensure_home(settings.BRANKAS)
    Office.objects.all().delete()


def _users_in(home: Path) -> set[str]:
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return {row[0] for row in db.execute("select username from accounts_user")}


@pytest.mark.slow
def test_a_recover_on_the_first_run_page_puts_the_office_in_place(
        transactional_db, office, client, settings, tmp_path):
    settings.SECRET_KEY = settings.SECRET_KEY  # restored after the test (the switch reads
    dest = _disk(office, tmp_path)             # the rebuilt instance's secret)
    home = tmp_path / "laptop-baru" / "brankas-data"
    _not_set_up(settings, home)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.get("/").status_code == 302  # every page leads to set-up
    assert 'href="/setup/recover/"' in text_of(client.get("/setup/"))

    # A wrong passphrase: refused, and this computer is as it was.
    response = client.post("/setup/recover/", {"dest": str(dest), "unlock": "passphrase",
                                               "passphrase": "bukan frasa ini"})
    assert response.status_code == 302 and PASSPHRASES["kasi"] not in response["Location"]
    job = jobs.job_get(response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(180)
    page = text_of(client.get(response["Location"]))
    assert "Nothing was recovered; this computer is as it was." in page
    assert not (home / "brankas.sqlite3").stat().st_size or _users_in(home) == set()
    assert [p.name for p in home.parent.iterdir()] == ["brankas-data"]

    # The office recovery key, its file uploaded: the office comes back, in place of the
    # empty home (a holder's passphrase takes the same way: the drill's test).
    identity = SimpleUploadedFile("kunci-pemulihan.txt",
                                  (office.recovery_identity + "\n").encode())
    response = client.post("/setup/recover/", {"dest": str(dest), "unlock": "identity",
                                               "identity_file": identity})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/setup/recover/")
    job = jobs.job_get(location.rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(180)
    assert job.error is None and job.error_text == "", job.error or job.error_text
    assert job.result is not None and job.result["set_aside"], job.result
    assert office.recovery_identity not in repr(vars(job))
    assert office.recovery_identity not in text_of(client.get(location))
    assert {"admin", "operator", "kasi", "kabid", "kadis"} <= _users_in(home)
    assert not (home / ".brankas-recovering").exists()
    set_aside = Path(job.result["set_aside"])
    assert set_aside.parent == home.parent and (set_aside / "brankas.sqlite3").is_file()
    restored = [p for p in (home / "arsip").rglob("*") if p.is_file()]
    assert len(restored) == 2
    page = text_of(client.get(location))
    assert "The office was recovered from the disk and Brankas now runs on it." in page
    status = client.get(f"{location}status").json()
    assert status["kind"] == "recover" and status["state"] == "done"


def test_the_recover_page_refuses_hostile_folders_and_an_office_already_set_up(
        transactional_db, office, client, settings, tmp_path):
    # Set up: the page leads to sign-in.
    assert client.get("/setup/recover/")["Location"] == "/login/"
    home = tmp_path / "kosong"
    _not_set_up(settings, home)
    a_file = tmp_path / "berkas.txt"
    a_file.write_text("x")
    for dest, refusal in ((str(a_file), "bukan folder yang ada"),
                          (str(home / "arsip"), "berada di dalam folder data Brankas"),
                          ("usb", "/media/usb/brankas")):
        response = client.post("/setup/recover/", {"dest": dest, "unlock": "passphrase",
                                                   "passphrase": "x"})
        assert response.status_code == 400 and refusal in text_of(response), dest
    response = client.post("/setup/recover/", {"dest": str(tmp_path), "unlock": "shares",
                                               "shares": "bukan kata bagian"})
    assert response.status_code == 400 and "bukan kata bagian" not in text_of(response)
    assert jobs.job_active() is None


# -- with a real server ----------------------------------------------------------------------

class Browser:
    """Cookies and the CSRF token, as a browser keeps them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, str]:
        with self.opener.open(self.url + path, timeout=30) as r:
            return r.status, r.geturl(), r.read().decode()

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.url + path, data=body,  # noqa: S310
                                         headers={"Referer": self.url + path})
        with self.opener.open(request, timeout=60) as r:
            return r.status, r.geturl(), r.read().decode()


@pytest.mark.slow
def test_a_served_instance_recovered_from_shares_serves_the_office_without_a_restart(
        transactional_db, office, settings, tmp_path):
    from brankas.core.keyring import shares as core_shares
    from tests.browser.conftest import starting

    # A fresh computer's server (tests/browser/conftest.py: its new database given the
    # tables this process migrated, as migrating gives them), started first: it starts
    # while the disk is made.
    with starting(tmp_path / "laptop-baru", "en", quick_keys=True) as started:
        # The users of the disk sign in on a real server: their password with its hasher.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
        kasi = office.users["kasi"]
        kasi.set_password(PASSWORDS["kasi"])
        kasi.save()
        dest = _disk(office, tmp_path)
        words = core_shares.split(office.recovery_identity, shares=3, threshold=2)

        server = started.ready()
        browser = Browser(server.url)
        status, where, page = browser.get("/")
        assert where.endswith("/setup/") and "/setup/recover/" in page
        browser.get("/setup/recover/")
        shares = "\n\n".join(core_shares.share_text(w) for w in words[:2])
        status, where, page = browser.post("/setup/recover/", {
            "dest": str(dest), "unlock": "shares", "shares": shares})
        job_path = urllib.parse.urlparse(where).path
        assert job_path.startswith("/setup/recover/"), page[-2000:]
        deadline = time.monotonic() + 180
        while True:
            state = json.loads(browser.get(f"{job_path}status")[2])["state"]
            if state != "running":
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        page = browser.get(job_path)[2]
        assert "Brankas kini berjalan di atasnya" in page, re.sub(r"\s+", " ", page)[-2000:]
        # Neither share shown back, in any run of three of its words (one word alone may
        # be in the page by chance: "home" of the data folder's path is a share word too).
        shown = [" ".join(w.split()[i:i + 3]) for w in words[:2]
                 for i in range(len(w.split()) - 2)]
        assert not [run for run in shown if run in page]

        # The same server, no restart: the office's own users sign in.
        status, where, page = browser.get("/login/")
        status, where, page = browser.post("/login/", {"username": "kasi",
                                                        "password": PASSWORDS["kasi"]})
        assert urllib.parse.urlparse(where).path == "/", page[-2000:]
        assert office.office.name in page
        assert server.process.poll() is None


@pytest.mark.slow
def test_an_office_set_up_while_the_disk_is_read_leaves_no_rebuilt_copy_beside_it(
        transactional_db, office, settings, tmp_path):
    """Someone sets the office up (the set-up page stays open) while the recover reads the
    disk: the switch is refused, and the page then says nothing was recovered and the
    computer is as it was. So the rebuilt office (its register, its archive) must not be
    left in a hidden folder beside the data folder."""
    from brankas import instance
    from brankas.core.errors import SetupError
    from brankas.web.accounts.models import Office

    settings.SECRET_KEY = settings.SECRET_KEY
    dest = _disk(office, tmp_path)
    row = Office.objects.get()
    home = tmp_path / "laptop-baru" / "brankas-data"
    _not_set_up(settings, home)
    set_up: list[bool] = []

    def meanwhile(*counts: int) -> None:  # the child is reading the disk
        if not set_up:
            Office.objects.create(name="Kantor yang baru disiapkan",
                                  recovery_recipient=row.recovery_recipient)
            set_up.append(True)

    with pytest.raises(SetupError) as refused:
        instance.recover_in_place(dest=dest, identity_text=office.recovery_identity,
                                  on_progress=meanwhile)
    assert set_up and refused.value.code == "recover_instance_set_up"
    assert sorted(p.name for p in home.parent.iterdir()) == ["brankas-data"]
    assert Office.objects.get().name == "Kantor yang baru disiapkan"


@pytest.mark.slow
def test_a_wrong_recovery_key_is_refused_without_being_echoed_anywhere(
        transactional_db, office, client, settings, tmp_path, caplog):
    """A recovery key that is not the office's (another office's, or share words pasted in
    the wrong field) is refused; neither the key nor the words are in the job, the page,
    the audit log or the log."""
    import pyrage

    from brankas.web.audit.models import AuditEvent

    settings.SECRET_KEY = settings.SECRET_KEY
    dest = _disk(office, tmp_path)
    home = tmp_path / "laptop-baru" / "brankas-data"
    _not_set_up(settings, home)
    for secret in (str(pyrage.x25519.Identity.generate()),
                   "academic acid acrobat romp chubby bolt rahasia sekali"):
        response = client.post("/setup/recover/", {"dest": str(dest), "unlock": "identity",
                                                   "identity": secret})
        assert response.status_code == 302 and secret not in response["Location"]
        job = jobs.job_get(response["Location"].rstrip("/").rsplit("/", 1)[1])
        assert job is not None
        job.wait(180)
        page = text_of(client.get(response["Location"]))
        assert "Nothing was recovered" in page or "Tidak ada yang dipulihkan" in page, page
        for text in (repr(vars(job)), page, caplog.text,
                     *(repr(e.detail) for e in AuditEvent.objects.all())):
            assert secret not in text and secret.split()[-1] not in text
        assert sorted(p.name for p in home.parent.iterdir()) == ["brankas-data"]


def _children_running(pattern: str) -> list[int]:
    """The pids of this process's children whose command line holds ``pattern`` (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and pattern in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_rebuild_killed_half_way_leaves_nothing_beside_the_data_folder(
        transactional_db, office, settings, tmp_path):
    """The rebuild's process dies half-way (killed, out of memory, the console closed): the
    page then says nothing was recovered and the computer is as it was, so the half-built
    office (a register, users' password hashes, part of the archive) must not stay in a
    hidden folder beside the data folder, and the data folder is untouched."""
    import signal

    from brankas import instance

    settings.SECRET_KEY = settings.SECRET_KEY
    dest = _disk(office, tmp_path)
    home = tmp_path / "laptop-baru" / "brankas-data"
    _not_set_up(settings, home)
    before = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    killed: list[int] = []

    def kill_the_child(*counts: int) -> None:  # it is reading the disk: half-way
        if not killed:
            for pid in _children_running("brankas.instance recover"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    switched = instance.recover_in_place(dest=dest, identity_text=office.recovery_identity,
                                         on_progress=kill_the_child)
    assert killed and not switched.set_aside and not switched.report["ok"]
    assert sorted(p.name for p in home.parent.iterdir()) == ["brankas-data"]
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == before


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                    reason="makes the data folder immutable (chattr, as root, Linux)")
def test_a_switch_that_fails_says_where_the_rebuilt_office_is_not_that_nothing_was_recovered(
        transactional_db, office, client, settings, tmp_path, request):
    """The rebuilt office cannot be put in place (here: the served data folder cannot be
    renamed, as on Windows with a file open in it): it is kept, and the page names it.
    Saying "nothing was recovered" beside that would send the user to recover again."""
    import shutil as sh

    if sh.which("chattr") is None:
        pytest.skip("chattr (e2fsprogs) is not installed: the data folder cannot be made "
                    "immutable, the one way to make its rename fail as root")
    settings.SECRET_KEY = settings.SECRET_KEY
    dest = _disk(office, tmp_path)
    # The data folder where the immutable flag exists: the test's folder, else (make test
    # puts the temporary folders on a tmpfs, which has no such flag) one in /var/tmp.
    home = tmp_path / "laptop-baru" / "brankas-data"
    _not_set_up(settings, home)
    if subprocess.run(["chattr", "+i", str(home)], check=False,
                      capture_output=True).returncode != 0:
        import tempfile

        elsewhere = Path(tempfile.mkdtemp(prefix="brankas-chattr-", dir="/var/tmp"))
        request.addfinalizer(lambda: sh.rmtree(elsewhere, ignore_errors=True))
        home = elsewhere / "laptop-baru" / "brankas-data"
        _not_set_up(settings, home)
        if subprocess.run(["chattr", "+i", str(home)], check=False).returncode != 0:
            pytest.skip("neither the test's file system nor /var/tmp's has an immutable "
                        "flag (tmpfs, overlayfs): the rename cannot be made to fail as root")
    try:
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        identity = SimpleUploadedFile("kunci.txt", office.recovery_identity.encode())
        response = client.post("/setup/recover/", {"dest": str(dest), "unlock": "identity",
                                                   "identity_file": identity})
        job = jobs.job_get(response["Location"].rstrip("/").rsplit("/", 1)[1])
        assert job is not None
        job.wait(180)
        assert job.error is not None and job.error.code == "recover_switch_failed", \
            job.error or job.error_text
        page = text_of(client.get(response["Location"]))
    finally:
        subprocess.run(["chattr", "-i", str(home)], check=False)
    rebuilt = job.error.params["path"]
    assert Path(rebuilt).is_dir() and (Path(rebuilt) / "brankas.sqlite3").is_file()
    assert rebuilt in page
    assert "Nothing was recovered" not in page
    assert "rebuilt from the disk but could not be put in place" in page


def test_a_folder_that_is_no_disk_is_refused_on_the_job_page_not_a_server_error(
        transactional_db, office, client, settings, tmp_path):
    """The folder exists but holds no backup: the job fails with the refusal, and its page
    shows it in the user's language (the page used a variable it does not always have)."""
    home = tmp_path / "kosong"
    _not_set_up(settings, home)
    empty = tmp_path / "bukan-disk"
    empty.mkdir()
    response = client.post("/setup/recover/", {"dest": str(empty), "unlock": "passphrase",
                                               "passphrase": "frasa apa saja"})
    assert response.status_code == 302
    job = jobs.job_get(response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job is not None
    job.wait(60)
    assert job.error is not None, job.error_text
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert job.error.message("id") in text_of(page)
    assert "Tidak ada yang dipulihkan; komputer ini tetap seperti semula." in text_of(page)
    assert not [p for p in home.parent.iterdir() if ".from-disk-" in p.name]
