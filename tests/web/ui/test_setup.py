"""First run: the setup page creates the office and shows the recovery identity once."""

from __future__ import annotations

import json
import re

import pytest
from pyrage import x25519

from tests.web.ui.conftest import files_under, text_of

SETUP = {
    "office_name": "Dinas Komunikasi dan Informatika",
    "government": "Pemerintah Kabupaten Bolaang Mongondow",
    "department": "Dinas Komunikasi dan Informatika",
    "division": "Bidang Persandian dan Statistik",
    "address": "Jl. Trans Sulawesi, Lolak",
    "city": "Lolak",
    "phone": "0434-000000",
    "email": "kominfo@example.go.id",
    "admin_username": "admin",
    "admin_full_name": "Admin Kantor",
    "password1": "Admin-Pass-2026!",
    "password2": "Admin-Pass-2026!",
}


@pytest.fixture
def fresh(db, brankas_home, settings):  # type: ignore[no-untyped-def]
    """A data folder and database with no office yet."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return brankas_home


def test_every_page_leads_to_setup_until_the_office_exists(client, fresh):
    for url in ("/", "/documents/", "/login/", "/users/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"] == "/setup/", url
    r = client.get("/setup/")
    assert r.status_code == 200
    page = text_of(r)
    assert "Siapkan Brankas" in page
    for name in ("office_name", "government", "department", "division", "address", "city",
                 "phone", "email", "admin_username", "admin_full_name", "password1",
                 "password2"):
        assert f'name="{name}"' in page and f'for="id_{name}"' in page  # labelled inputs
    # The language switch works before the setup too.
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/setup/"})
    assert r.status_code == 302
    assert "Set up Brankas" in text_of(client.get("/setup/"))


def test_setup_creates_the_office_and_shows_the_recovery_identity_once(client, fresh):
    from django.contrib.sessions.models import Session

    from brankas.web.accounts.models import Office, User
    from brankas.web.audit.models import AuditEvent

    r = client.post("/setup/", SETUP)
    assert r.status_code == 200
    page = text_of(r)
    found = re.findall(r"AGE-SECRET-KEY-1[0-9A-Z]+", page)
    assert len(set(found)) == 1
    identity = found[0]
    office = Office.objects.get()
    assert str(x25519.Identity.from_str(identity).to_public()) == office.recovery_recipient
    assert office.recovery_recipient in page
    assert "hanya ditampilkan sekali" in page
    assert "no-store" in r["Cache-Control"]
    # The letterhead and the first admin are stored.
    assert (office.government, office.division, office.city, office.email) == (
        SETUP["government"], SETUP["division"], SETUP["city"], SETUP["email"])
    admin = User.objects.get()
    assert (admin.username, admin.role, admin.full_name) == ("admin", "admin", "Admin Kantor")
    # The four SOP folders exist.
    for top in ("biasa", "dikecualikan"):
        for direction in ("pengiriman", "penerimaan"):
            assert (fresh / "arsip" / top / direction).is_dir()
    # The secret is kept nowhere: not in the session, the database or the data folder.
    for session in Session.objects.all():
        assert identity not in json.dumps(session.get_decoded())
    assert identity not in json.dumps(list(AuditEvent.objects.values_list("detail", flat=True)))
    for path in files_under(fresh):
        assert identity.encode() not in path.read_bytes(), path
    # Shown once: the setup page is gone, and a second setup is not possible.
    r = client.get("/setup/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    r = client.post("/setup/", SETUP)
    assert r.status_code == 302 and Office.objects.count() == 1
    assert "AGE-SECRET-KEY" not in text_of(client.get("/login/"))
    # The new admin signs in and is told what to do next.
    r = client.post("/login/", {"username": "admin", "password": SETUP["password1"]})
    assert r.status_code == 302 and r["Location"] == "/"
    page = text_of(client.get("/"))
    assert "Belum ada pemegang kunci" in page and "Belum ada Sandiman" in page
    assert "AGE-SECRET-KEY" not in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password2": "Other-Pass-2026!"}, "Kedua isian tidak sama."),
        ({"password1": "pendek", "password2": "pendek"}, "kata sandi tidak diterima"),
        ({"office_name": ""}, "Bidang ini tidak boleh kosong."),
        ({"admin_username": "  "}, "Bidang ini tidak boleh kosong."),
        ({"email": "bukan surel"}, "alamat email yang valid"),
    ],
)
def test_setup_refusals_create_nothing(client, fresh, change, message):
    from brankas.web.accounts.models import Office, User

    r = client.post("/setup/", {**SETUP, **change})
    assert r.status_code == 200
    page = text_of(r)
    assert message in page
    assert "AGE-SECRET-KEY" not in page
    assert not Office.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_page_showing_the_recovery_key_speaks_one_language(client, fresh, lang):
    """The page the setup shows once (the office recovery key) has no word of the other
    language. The SOP walk (tests/browser/test_sop_walk.py) sets the office up in one
    language; this page cannot be asked for again in the other (tests/browser/sop.py
    ``NOT_REPLAYED``), so both are here."""
    from tests.browser.language import foreign_words
    from tests.web.ui.test_every_page import visible_text

    client.post("/i18n/setlang/", {"language": lang, "next": "/setup/"})
    r = client.post("/setup/", SETUP)
    assert r.status_code == 200 and 'id="recovery-identity"' in r.content.decode()
    # The language switch names each language in its own (marked lang="id"/"en": the SOP
    # walk's look leaves such text out): not the page's words.
    text = " ".join(visible_text(r.content.decode())).replace("Bahasa Indonesia", " ")
    for value in sorted(SETUP.values(), key=len, reverse=True):
        text = text.replace(value, " ")
    text = re.sub(r"AGE-SECRET-KEY-1[0-9A-Z]+|age1[0-9a-z]+|\S*[/\\]\S*", " ", text)
    assert foreign_words(text, lang) == set(), text
