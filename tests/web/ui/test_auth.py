"""Signing in and out; failures are audited and lock the account after five tries."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORDS
from tests.web.ui.conftest import text_of


def sign_in(client, username: str, password: str, **extra):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password, **extra})


def test_pages_need_a_signed_in_user(client, office):
    for url in ("/", "/documents/", "/documents/new/", "/keys/", "/users/",
                "/documents/M-2026-0001/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/?next="), url


def test_sign_in_and_out(client, office):
    page = text_of(client.get("/login/"))
    assert 'for="id_username"' in page and 'for="id_password"' in page
    r = sign_in(client, "operator", PASSWORDS["operator"])
    assert r.status_code == 302 and r["Location"] == "/"
    page = text_of(client.get("/"))
    assert "Operator Test" in page and "Keluar" in page
    assert client.get("/logout/").status_code == 405  # signing out is a POST
    r = client.post("/logout/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert "Anda sudah keluar." in text_of(client.get("/login/"))
    assert client.get("/").status_code == 302
    from brankas.web.audit.models import AuditEvent

    actions = list(AuditEvent.objects.filter(actor="operator").values_list("action", "outcome"))
    assert ("auth.login", "ok") in actions and ("auth.logout", "ok") in actions


def test_next_is_followed_only_inside_the_site(client, office):
    r = sign_in(client, "kasi", PASSWORDS["kasi"], next="/keys/")
    assert r["Location"] == "/keys/"
    client.post("/logout/")
    r = sign_in(client, "kasi", PASSWORDS["kasi"], next="https://evil.example/")
    assert r["Location"] == "/"


def test_a_wrong_password_is_refused_and_audited(client, office):
    from brankas.web.audit.models import AuditEvent

    r = sign_in(client, "operator", "not-the-password")
    assert r.status_code == 200
    assert "nama pengguna atau kata sandi salah" in text_of(r)
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor="operator",
                                     outcome="failed").count() == 1


@pytest.mark.parametrize("lang", ["id", "en"])
def test_five_failures_lock_the_account(client, office, settings, lang):
    from brankas.web.audit.models import AuditEvent

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    for _ in range(4):
        assert sign_in(client, "kadis", "wrong").status_code == 200
    r = sign_in(client, "kadis", "wrong")  # the fifth failure locks
    assert r.status_code == 429
    locked = "Akun dikunci" if lang == "id" else "Account locked"
    assert locked in text_of(r) and "kadis" in text_of(r)
    # Now even the right password is refused, and the refusal is audited.
    r = sign_in(client, "kadis", PASSWORDS["kadis"])
    assert r.status_code == 429 and locked in text_of(r)
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor="kadis", outcome="failed"
                                     ).count() == 5
    assert AuditEvent.objects.filter(action="auth.login", actor="kadis", outcome="denied"
                                     ).exists()
    # Another account is not affected.
    assert sign_in(client, "kasi", PASSWORDS["kasi"]).status_code == 302
