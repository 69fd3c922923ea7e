"""The keys page: public recipients for everyone; a key holder creates their own key, the
admin creates one for a holder; the passphrase policy is shown and enforced."""

from __future__ import annotations

import pytest

from tests.conftest import quick_key_making
from tests.web.ui.conftest import text_of

STRONG = "sungai jernih mengalir ke laut lepas"
WEAK = "password123"


def own(passphrase: str, again: str | None = None) -> dict[str, str]:
    return {"form": "own", "own-passphrase1": passphrase,
            "own-passphrase2": passphrase if again is None else again}


def for_holder(holder: str, passphrase: str) -> dict[str, str]:
    return {"form": "holder", "holder-holder": holder, "holder-passphrase1": passphrase,
            "holder-passphrase2": passphrase}


@pytest.mark.parametrize("name", ["operator", "kasi", "kabid", "kadis", "admin"])
def test_everyone_sees_the_recipients(signed_in, office, name):
    page = text_of(signed_in(name).get("/keys/"))
    assert office.keys["kasi"].recipient in page and office.keys["kabid"].recipient in page
    assert office.office.recovery_recipient in page
    assert "AGE-SECRET-KEY" not in page
    has_own_form = name in {"kasi", "kabid", "kadis"}
    assert ('name="own-passphrase1"' in page) is has_own_form
    assert ('name="holder-passphrase1"' in page) is (name == "admin")
    if has_own_form or name == "admin":
        assert "minimal 12 karakter" in page and "minimal 3 dari 4" in page


def test_a_key_holder_creates_their_own_key(signed_in, office):
    """The page's work; the key made quickly (``quick_key_making``): the service behind it
    protects the identity at the age library's work factor (tests/web/keys/test_services.py
    ``test_holder_makes_own_key_and_it_is_audited_and_written``)."""
    from brankas.web.audit.models import AuditEvent
    from brankas.web.keys.models import HolderKey

    client = signed_in("kadis")
    assert "Anda belum memiliki kunci dekripsi" in text_of(client.get("/"))
    with quick_key_making():
        r = client.post("/keys/", own(STRONG))
    assert r.status_code == 302 and r["Location"] == "/keys/"
    key = HolderKey.objects.get(holder=office.users["kadis"])
    page = text_of(client.get("/keys/"))
    assert key.recipient in page and "Kunci baru dibuat untuk Kadis Test" in page
    assert AuditEvent.objects.filter(action="key.create", actor="kadis", target="kadis").exists()
    assert (office.home / "keys" / f"kadis-{key.fingerprint}.age").is_file()
    assert "Anda belum memiliki kunci dekripsi" not in text_of(client.get("/"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (own(WEAK), "frasa sandi terlalu lemah: minimal 12 karakter"),
        (own("kuda", "kuda"), "frasa sandi terlalu lemah"),
        (own("aaaaaaaaaaaaaaaa"), "(skor ini 0)"),
        (own(STRONG, STRONG + "!"), "Kedua isian tidak sama."),
        (own(""), "Bidang ini tidak boleh kosong."),
    ],
)
def test_a_weak_or_mistyped_passphrase_is_refused(signed_in, office, data, message):
    from brankas.web.keys.models import HolderKey

    r = signed_in("kadis").post("/keys/", data)
    assert r.status_code == 200
    assert message in text_of(r)
    assert not HolderKey.objects.filter(holder=office.users["kadis"]).exists()


def test_the_admin_creates_a_key_for_a_holder(signed_in, office):
    """The key made quickly, as in the test above."""
    from brankas.web.keys.models import HolderKey

    client = signed_in("admin")
    page = text_of(client.get("/keys/"))
    assert '<option value="kadis">' in page and '<option value="operator">' not in page
    with quick_key_making():
        r = client.post("/keys/", for_holder("kadis", STRONG))
    assert r.status_code == 302
    assert HolderKey.objects.filter(holder=office.users["kadis"], retired_at=None).count() == 1
    # A Sandiman never holds a key, even when asked by hand.
    r = client.post("/keys/", for_holder("operator", STRONG))
    assert r.status_code == 200
    assert "operator (sandiman) tidak boleh memegang kunci dekripsi" in text_of(r)
    assert not HolderKey.objects.filter(holder=office.users["operator"]).exists()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("operator", own(STRONG), "peran sandiman tidak boleh memegang kunci dekripsi"),
    ("kasi", for_holder("kabid", STRONG), "peran kasi tidak boleh mengelola kunci"),
])
def test_others_may_not_create_keys(signed_in, office, name, data, message):
    from brankas.web.keys.models import HolderKey

    before = HolderKey.objects.count()
    r = signed_in(name).post("/keys/", data)
    assert r.status_code == 403 and message in text_of(r)
    assert HolderKey.objects.count() == before


def test_a_key_of_an_inactive_user_is_shown_inactive_and_offered_to_nobody(signed_in, office):
    """One definition of an active key (``HolderKey.objects.active``) on every page: the
    key of a user made inactive is listed as inactive, not as active nor as retired, the
    admin cannot make a key for that user, and the users page shows no key for them."""
    import re

    kabid = office.users["kabid"]
    kabid.is_active = False
    kabid.save()
    page = text_of(signed_in("admin").get("/keys/"))
    row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S)
               if office.keys["kabid"].fingerprint in r)
    assert "<td>nonaktif</td>" in row  # not "aktif", nor "dinonaktifkan <date>" (retired)
    assert "badge-ok" not in row and "dinonaktifkan" not in row
    assert 'value="kabid"' not in page and 'value="kasi"' in page  # the admin's holder list
    users = text_of(signed_in("admin").get("/users/"))
    kabid_row = next(r for r in re.findall(r"<tr>.*?</tr>", users, re.S) if ">kabid<" in r)
    assert "badge-ok" not in kabid_row


@pytest.mark.parametrize(("name", "data", "holder"), [
    ("admin", for_holder("kadis", STRONG), "kadis"),
    ("kabid", own(STRONG), "kabid"),
])
def test_making_a_key_asks_for_the_password_again(signed_in, office, name, data, holder):
    """Review of issue 14: a new key retires the holder's key, and every exempted file made
    afterwards is encrypted to it. Whoever found an admin's (or a holder's) browser open
    made one under a passphrase of their own, and so read what came next, without the
    password the user page and the openings ask for again."""
    from brankas.web.keys.models import HolderKey
    from tests.web.ui.test_hardening import stale_password

    before = set(HolderKey.objects.values_list("pk", flat=True))
    client = signed_in(name)
    stale_password(client)
    r = client.post("/keys/", data)
    assert r.status_code == 302 and r["Location"].startswith("/reauth/")
    assert set(HolderKey.objects.values_list("pk", flat=True)) == before
    assert HolderKey.objects.filter(holder__username=holder, retired_at=None,
                                    revoked_at=None).count() <= 1
