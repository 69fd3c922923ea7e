"""User administration on the web (issue 14): the Users page's state, one user's page (role,
deactivate, reset, unlock, qualifications), my account, the lock-out per address through
the real sign-in page (django-axes), and the dashboard's notices. Django's test client,
real SQLite, real keys."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from brankas.core.errors import AuthenticationFailed
from brankas.web.accounts.administration import qualification_record
from brankas.web.accounts.models import Qualification, User
from brankas.web.accounts.services import user_authenticate
from brankas.web.audit.models import AuditEvent
from brankas.web.keys.models import HolderKey
from tests.conftest import PASSWORDS
from tests.web.ui.conftest import text_of
from tests.web.ui.test_hardening import stale_password

NEW_PASSWORD = "Ganti-Sandi-2026!"


def sign_in(client: Client, username: str, password: str, address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_the_users_page_shows_each_users_state(signed_in, office, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        with pytest.raises(AuthenticationFailed):
            user_authenticate(username="kadis", password="salah")
    qualification_record(actor=office.users["admin"], username="kasi",
                         training="Diklat Sandiman", passed_on="2024-05-02")
    page = text_of(signed_in("admin").get("/users/"))
    assert 'href="/users/kadis/"' in page
    assert "terkunci" in page  # the Kadis, on the command line
    assert "Diklat Sandiman (2 Mei 2024)" in page or "Diklat Sandiman (2 May 2024)" in page
    assert "belum dicatat" in page  # the operator: a Sandiman without a qualification


@pytest.mark.parametrize("name", ["operator", "kasi", "kabid", "kadis"])
def test_only_the_admin_opens_a_users_page(signed_in, office, name):
    client = signed_in(name)
    assert client.get("/users/kadis/").status_code == 403
    r = client.post("/users/kadis/", {"op": "deactivate", "confirm": "on"})
    assert r.status_code == 403
    assert User.objects.get(username="kadis").is_active
    assert AuditEvent.objects.filter(action="access.denied", actor=name).exists()


def test_a_users_page_asks_for_the_password_again_and_knows_no_stranger(signed_in, office):
    client = signed_in("admin")
    assert client.get("/users/nobody/").status_code == 404
    stale_password(client)
    r = client.post("/users/kadis/", {"op": "deactivate", "confirm": "on"})
    assert r.status_code == 302 and r["Location"].startswith("/reauth/")
    assert User.objects.get(username="kadis").is_active


def test_adding_a_user_asks_for_the_password_again_too(signed_in, office):
    """Review of issue 14: the user page asks for the password again, but the Users page
    added an admin without it: whoever found the admin's browser open added an admin of
    their own, signed in as them, and changed any role from there."""
    client = signed_in("admin")
    stale_password(client)
    data = {"username": "admin3", "role": "admin", "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD}
    r = client.post("/users/", data)
    assert r.status_code == 302 and r["Location"].startswith("/reauth/")
    assert not User.objects.filter(username="admin3").exists()
    assert client.get("/users/").status_code == 200  # the list itself stays readable
    r = client.post("/reauth/", {"password": PASSWORDS["admin"], "next": "/users/"})
    assert r.status_code == 302
    assert client.post("/users/", data).status_code == 302
    assert User.objects.get(username="admin3").role == "admin"


def test_deactivating_a_holder_asks_for_confirmation_and_reports_the_revocation(
        signed_in, office):
    client = signed_in("admin")
    r = client.post("/users/kabid/", {"op": "deactivate"})
    assert r.status_code == 400 and User.objects.get(username="kabid").is_active
    r = client.post("/users/kabid/", {"op": "deactivate", "confirm": "on"})
    assert r.status_code == 200
    page = text_of(r)
    assert "dicabut" in page  # the keys of kabid are revoked, and what disks still open
    assert not User.objects.get(username="kabid").is_active
    assert HolderKey.objects.get(pk=office.keys["kabid"].pk).revoked_at is not None
    r = client.post("/users/kabid/", {"op": "activate"})
    assert r.status_code == 302 and User.objects.get(username="kabid").is_active


def test_the_admin_cannot_deactivate_themselves_on_the_page(signed_in, office):
    client = signed_in("admin")
    page = text_of(client.get("/users/admin/"))
    assert 'value="deactivate"' not in page and 'value="reset"' not in page
    r = client.post("/users/admin/", {"op": "deactivate", "confirm": "on"})
    assert r.status_code == 400
    assert "sendiri" in text_of(r)  # "Anda tidak dapat menonaktifkan akun Anda sendiri"
    assert User.objects.get(username="admin").is_active


def test_the_admin_cannot_change_their_own_role_on_the_page(signed_in, office):
    """Review of issue 14: an admin who made themselves Kabid could make their own key."""
    from brankas.web.accounts.services import user_create

    user_create(actor=office.users["admin"], username="admin2", role="admin",
                password=NEW_PASSWORD)
    client = signed_in("admin")
    assert 'value="role"' not in text_of(client.get("/users/admin/"))
    r = client.post("/users/admin/", {"op": "role", "role": "kabid", "confirm": "on"})
    assert r.status_code == 400
    assert "tidak dapat mengubah peran akun Anda sendiri" in text_of(r)
    assert User.objects.get(username="admin").role == "admin"


def test_a_deactivated_users_session_ends(signed_in, office):
    kadis = Client()
    kadis.force_login(office.users["kadis"])
    assert kadis.get("/").status_code == 200
    signed_in("admin").post("/users/kadis/", {"op": "deactivate", "confirm": "on"})
    r = kadis.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert sign_in(Client(), "kadis", PASSWORDS["kadis"]).status_code == 200  # refused


def test_a_deactivated_users_old_session_stays_ended_after_reactivation(signed_in, office):
    """Review of issue 14: deactivating only hid the session (Django refuses an inactive
    user's session); reactivating the user brought the old session back to life, on
    whatever machine it was left open."""
    kadis = Client()
    kadis.force_login(office.users["kadis"])
    assert kadis.get("/").status_code == 200
    admin = signed_in("admin")
    admin.post("/users/kadis/", {"op": "deactivate", "confirm": "on"})
    assert admin.post("/users/kadis/", {"op": "activate"}).status_code == 302
    assert User.objects.get(username="kadis").is_active
    r = kadis.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    fresh = Client()
    assert sign_in(fresh, "kadis", PASSWORDS["kadis"]).status_code == 302  # signs in anew
    assert fresh.get("/").status_code == 200


@pytest.mark.parametrize("name", [".", ".."])
def test_a_user_name_of_dots_is_refused_a_browser_could_never_open_its_page(signed_in, office,
                                                                           name):
    """Review of issue 14: /users/../ is /, and /users/./ is /users/, once a browser
    removes the dot segments of a link (RFC 3986, 5.2.4): such a user's page could not be
    reached, so they could not be deactivated on the web."""
    from urllib.parse import urljoin

    from django.urls import reverse

    from brankas.core.errors import InvalidInput
    from brankas.web.accounts.services import user_create

    link = reverse("ui:user", kwargs={"username": name})
    assert urljoin("http://127.0.0.1:8000/users/", link) != "http://127.0.0.1:8000" + link
    with pytest.raises(InvalidInput) as exc:
        user_create(actor=office.users["admin"], username=name, role="sandiman",
                    password=NEW_PASSWORD)
    assert exc.value.code == "field_invalid"
    r = signed_in("admin").post("/users/", {"username": name, "role": "sandiman",
                                            "password1": NEW_PASSWORD,
                                            "password2": NEW_PASSWORD})
    assert r.status_code in {200, 400}
    assert not User.objects.filter(username=name).exists()
    # A name with dots among other characters is an ordinary path segment.
    user_create(actor=office.users["admin"], username="a.b", role="sandiman",
                password=NEW_PASSWORD)
    link = reverse("ui:user", kwargs={"username": "a.b"})
    assert urljoin("http://127.0.0.1:8000/users/", link) == "http://127.0.0.1:8000" + link
    assert signed_in("admin").get(link).status_code == 200


def test_the_role_changes_with_confirmation(signed_in, office):
    client = signed_in("admin")
    assert client.post("/users/kasi/", {"op": "role", "role": "kabid"}).status_code == 400
    r = client.post("/users/kasi/", {"op": "role", "role": "kabid", "confirm": "on"})
    assert r.status_code == 302 and User.objects.get(username="kasi").role == "kabid"
    r = client.post("/users/kasi/", {"op": "role", "role": "kabid", "confirm": "on"})
    assert r.status_code == 400  # unchanged


def test_a_reset_password_is_changed_at_the_next_sign_in(signed_in, office):
    admin = signed_in("admin")
    r = admin.post("/users/kadis/", {"op": "reset", "password1": "pendek",
                                     "password2": "pendek"})
    assert r.status_code == 400
    r = admin.post("/users/kadis/", {"op": "reset", "password1": NEW_PASSWORD,
                                     "password2": NEW_PASSWORD})
    assert r.status_code == 302
    kadis = Client()
    assert sign_in(kadis, "kadis", NEW_PASSWORD).status_code == 302
    r = kadis.get("/documents/")
    assert r.status_code == 302 and r["Location"] == "/account/"
    page = text_of(kadis.get("/account/"))
    assert "Administrator mengatur ulang kata sandi Anda" in page
    r = kadis.post("/account/", {"old_password": NEW_PASSWORD, "password1": "Kadis-Baru-2026!",
                                 "password2": "Kadis-Baru-2026!"})
    assert r.status_code == 302
    assert kadis.get("/documents/").status_code == 200  # still signed in, free again
    user = User.objects.get(username="kadis")
    assert not user.must_change_password and user.check_password("Kadis-Baru-2026!")


@pytest.mark.parametrize("name", ["operator", "kasi", "kabid", "kadis", "admin"])
def test_every_role_changes_their_own_password_with_the_old_one(signed_in, office, name):
    client = signed_in(name)
    page = text_of(client.get("/"))
    assert 'href="/account/"' in page and "Akun saya" in page
    r = client.post("/account/", {"old_password": "salah-sekali", "password1": NEW_PASSWORD,
                                  "password2": NEW_PASSWORD})
    assert r.status_code == 400
    assert User.objects.get(username=name).check_password(PASSWORDS[name])
    r = client.post("/account/", {"old_password": PASSWORDS[name], "password1": NEW_PASSWORD,
                                  "password2": NEW_PASSWORD})
    assert r.status_code == 302
    assert User.objects.get(username=name).check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="user.password.change", actor=name).exists()


def test_a_lock_out_is_per_address_shown_to_the_admin_and_lifted(signed_in, office, settings):
    """A real django-axes lock-out through the sign-in page."""
    attacker, desk = Client(), Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(attacker, "kadis", "tebakan-salah", "10.0.0.66")
    r = sign_in(attacker, "kadis", PASSWORDS["kadis"], "10.0.0.66")
    assert r.status_code == 429
    page = text_of(r)
    assert "Administrator melihat penguncian ini" in page
    assert sign_in(desk, "kadis", PASSWORDS["kadis"], "10.0.0.5").status_code == 302
    admin = signed_in("admin")
    dashboard = text_of(admin.get("/"))
    assert "Terkunci: kadis" in dashboard and "10.0.0.66" in dashboard
    assert 'href="/users/kadis/"' in dashboard
    assert "10.0.0.66" in text_of(admin.get("/users/kadis/"))
    assert admin.post("/users/kadis/", {"op": "unlock"}).status_code == 302
    assert "Terkunci" not in text_of(admin.get("/"))
    assert sign_in(attacker, "kadis", PASSWORDS["kadis"], "10.0.0.66").status_code == 302
    entry = AuditEvent.objects.filter(action="user.unlock").get()
    assert entry.detail["addresses"] == ["10.0.0.66"]


@pytest.mark.parametrize(("name", "warned"), [("admin", True), ("kasi", True),
                                              ("operator", False), ("kabid", False),
                                              ("kadis", False)])
def test_a_sandiman_without_a_qualification_is_warned_to_admin_and_kasi(
        signed_in, office, name, warned):
    page = text_of(signed_in(name).get("/"))
    assert ("Belum ada kualifikasi yang dicatat untuk Sandiman" in page) is warned
    assert ("Terkunci" in page) is False


def test_qualifications_are_recorded_and_withdrawn_on_the_page(signed_in, office):
    client = signed_in("admin")
    r = client.post("/users/operator/", {"op": "qualify", "training": "Diklat Sandiman",
                                         "certificate_number": "77/DS", "passed_on": "2099-01-01"})
    assert r.status_code == 400 and not Qualification.objects.exists()
    r = client.post("/users/operator/", {"op": "qualify", "training": "Diklat Sandiman",
                                         "certificate_number": "77/DS", "passed_on": "2025-02-03"})
    assert r.status_code == 302
    record = Qualification.objects.get()
    assert "Belum ada kualifikasi" not in text_of(client.get("/"))
    assert "77/DS" in text_of(client.get("/users/operator/"))
    r = client.post("/users/operator/", {"op": "withdraw", "number": str(record.pk)})
    assert r.status_code == 302
    record.refresh_from_db()
    assert record.withdrawn_at is not None
    assert "Belum ada kualifikasi yang dicatat untuk Sandiman" in text_of(client.get("/"))


@pytest.mark.parametrize(("name", "url"), [("admin", "/users/kabid/"), ("admin", "/users/"),
                                           ("admin", "/"), ("kasi", "/account/"),
                                           ("admin", "/account/")])
def test_the_new_pages_are_indonesian_first_and_english_on_request(signed_in, office, settings,
                                                                   name, url):
    """No msgid shows through on the Indonesian page (as tests/web/ui/test_i18n.py checks
    the others); the English page shows the English text."""
    from tests.web.ui.test_i18n import english_msgids

    for _ in range(settings.AXES_FAILURE_LIMIT):  # the lock-out notice and state shown too
        with pytest.raises(AuthenticationFailed):
            user_authenticate(username="kabid", password="salah")
    qualification_record(actor=office.users["admin"], username="kabid",
                         training="Diklat Sandiman", passed_on="2024-05-02")
    english = english_msgids()
    client = signed_in(name)
    page = text_of(client.get(url))
    assert '<html lang="id">' in page
    assert {m for m in english if f">{m}<" in page or f'"{m}"' in page} == set()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = text_of(client.get(url))
    assert '<html lang="en">' in page and "My account" in page
    assert "Akun saya" not in page


def test_the_qualification_date_is_typed_dd_mm_yyyy(signed_in, office):
    """As on every other form (issue 14): a text field for dd/mm/yyyy, not the browser's
    own date field (which shows the order of the browser's language: mm/dd/yyyy in an
    English Chromium)."""
    client = signed_in("admin")
    page = client.get("/users/operator/").content.decode()
    field = re.search(r'<input[^>]*name="passed_on"[^>]*>', page)
    assert field and 'type="date"' not in field.group(0), field
    assert 'placeholder="dd/mm/yyyy"' in field.group(0), field.group(0)
    r = client.post("/users/operator/", {"op": "qualify", "training": "Diklat Sandiman",
                                         "certificate_number": "78/DS", "passed_on": "3/2/2025"})
    assert r.status_code == 302, text_of(r)[:500]
    assert Qualification.objects.get().passed_on.isoformat() == "2025-02-03"


def test_a_users_page_has_no_id_twice(signed_in, office):
    """The role form and the deactivation form both have a ``confirm`` box: each label must
    point at its own (two ``id_confirm`` made the second label tick the first box)."""
    page = text_of(signed_in("admin").get("/users/kadis/"))
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert 'for="id_confirm"' in page and 'for="deactivate_confirm"' in page
