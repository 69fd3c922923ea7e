"""The role rules on the web: links a role cannot use are hidden, and the services refuse
what a role may not do (a 403 page with the message)."""

from __future__ import annotations

import pytest

from tests.conftest import make_pdf
from tests.web.ui.conftest import REGISTER_URL, assert_nothing_stored, post_register, text_of

NAV = {
    # user: (sees "New registration", sees "Users")
    "operator": (True, False),
    "kasi": (False, False),
    "kabid": (False, False),
    "kadis": (False, False),
    "admin": (False, True),
}


@pytest.mark.parametrize("name", list(NAV))
def test_the_menu_shows_only_what_the_role_may_use(signed_in, name):
    page = text_of(signed_in(name).get("/"))
    may_register, may_manage_users = NAV[name]
    assert (f'href="{REGISTER_URL}"' in page) is may_register
    assert ('href="/users/"' in page) is may_manage_users
    assert 'href="/documents/"' in page and 'href="/keys/"' in page


@pytest.mark.parametrize(("name", "role"), [("kadis", "kadis"), ("kasi", "kasi"),
                                            ("kabid", "kabid"), ("admin", "admin")])
def test_only_the_sandiman_registers(signed_in, office, name, role):
    client = signed_in(name)
    r = client.get(REGISTER_URL)
    assert r.status_code == 403
    assert f"peran {role} tidak boleh mendaftarkan dokumen" in text_of(r)
    r = post_register(client, [("surat.pdf", make_pdf())])
    assert r.status_code == 403
    assert_nothing_stored(office.home)


@pytest.mark.parametrize("name", ["operator", "kasi", "kabid", "kadis"])
def test_only_the_admin_manages_users(signed_in, name):
    from brankas.web.accounts.models import User

    client = signed_in(name)
    r = client.get("/users/")
    assert r.status_code == 403
    assert "tidak boleh mengelola pengguna" in text_of(r)
    r = client.post("/users/", {"username": "baru", "role": "kasi", "password1": "Baru-Pass-2026!",
                                "password2": "Baru-Pass-2026!"})
    assert r.status_code == 403
    assert not User.objects.filter(username="baru").exists()


def test_the_refusal_page_speaks_english_too(signed_in, settings):
    client = signed_in("kadis")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = client.get(REGISTER_URL)
    assert r.status_code == 403
    page = text_of(r)
    assert "the role kadis may not register documents" in page and "Not allowed" in page


NEW_USER = {"username": "sandiman2", "role": "sandiman", "full_name": "Siti Sandiman",
            "position": "Sandiman Ahli Pertama", "nip": "198501012010012001",
            "password1": "Siti-Pass-2026!", "password2": "Siti-Pass-2026!"}


def test_the_admin_lists_and_adds_users(signed_in):
    from brankas.web.accounts.models import User
    from brankas.web.audit.models import AuditEvent

    client = signed_in("admin")
    page = text_of(client.get("/users/"))
    for name in ("admin", "operator", "kasi", "kabid", "kadis"):
        assert f">{name}</a></td>" in page
    for field in ("username", "role", "full_name", "position", "nip", "password1", "password2"):
        assert f'for="id_{field}"' in page
    r = client.post("/users/", NEW_USER)
    assert r.status_code == 302 and r["Location"] == "/users/"
    user = User.objects.get(username="sandiman2")
    assert (user.role, user.full_name, user.position, user.nip) == (
        "sandiman", "Siti Sandiman", "Sandiman Ahli Pertama", "198501012010012001")
    assert user.check_password("Siti-Pass-2026!")
    assert AuditEvent.objects.filter(action="user.create", target="sandiman2",
                                     actor="admin").exists()
    assert "Pengguna sandiman2 ditambahkan" in text_of(client.get("/users/"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"username": "operator"}, "pengguna operator sudah ada"),
        ({"username": "OPERATOR"}, "pengguna OPERATOR sudah ada"),
        ({"password1": "12345678", "password2": "12345678"}, "kata sandi tidak diterima"),
        ({"password2": "Lain-Pass-2026!"}, "Kedua isian tidak sama."),
        ({"nip": "12345"}, "kolom NIP tidak sah"),
        ({"role": "raja"}, "peran raja tidak dikenal"),
        ({"username": ""}, "Bidang ini tidak boleh kosong."),
    ],
)
def test_adding_a_user_refuses_bad_input(signed_in, change, message):
    from brankas.web.accounts.models import User

    before = User.objects.count()
    r = signed_in("admin").post("/users/", {**NEW_USER, **change})
    assert r.status_code == 200
    assert message in text_of(r)
    assert User.objects.count() == before
