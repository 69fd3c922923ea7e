"""The passphrase change and key check pages: a holder's own key, linked from the keys
page, in Indonesian first."""

from __future__ import annotations

import pytest

from brankas.web.audit.models import AuditEvent
from brankas.web.keys.models import HolderKey
from tests.conftest import PASSPHRASES, quick_key_making
from tests.web.ui.conftest import text_of

NEW = "gunung biru menyimpan rahasia lama"
OLD = PASSPHRASES["kabid"]


def change(old: str, new: str, again: str | None = None) -> dict[str, str]:
    return {"old": old, "new1": new, "new2": new if again is None else again}


def test_the_keys_page_links_to_both_for_a_holder_with_a_key(signed_in) -> None:
    page = text_of(signed_in("kabid").get("/keys/"))
    assert 'href="/keys/passphrase/"' in page and 'href="/keys/check/"' in page
    assert "Ganti frasa sandi kunci saya" in page and "Uji kunci saya" in page
    page = text_of(signed_in("kadis").get("/keys/"))  # no key yet
    assert 'href="/keys/passphrase/"' not in page


@pytest.mark.parametrize("name", ["operator", "admin"])
def test_roles_without_a_key_of_their_own_are_refused(signed_in, name) -> None:
    client = signed_in(name)
    assert client.get("/keys/passphrase/").status_code == 403
    assert client.get("/keys/check/").status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor=name).count() == 2


def test_a_holder_changes_their_passphrase(signed_in, office) -> None:
    client = signed_in("kabid")
    page = text_of(client.get("/keys/passphrase/"))
    assert "Frasa sandi sekarang" in page and "frasa sandi lama masih membukanya" in page
    with quick_key_making():
        r = client.post("/keys/passphrase/", change(OLD, NEW))
    assert r.status_code == 302 and r["Location"] == "/keys/"
    key = HolderKey.objects.get(pk=office.keys["kabid"].pk)
    assert key.protection == 2
    page = text_of(client.get("/keys/"))
    assert f"kabid-p2-{key.fingerprint}.age" in page and "frasa sandi lama" in page
    assert AuditEvent.objects.filter(action="key.passphrase", outcome="ok").exists()


@pytest.mark.parametrize(("data", "message"), [
    (change("salah sekali bukan frasanya", NEW), "frasa sandi salah untuk kunci kabid"),
    (change(OLD, OLD), "frasa sandi baru sama dengan yang lama"),
    (change(OLD, "kuda"), "frasa sandi terlalu lemah"),
    (change(OLD, NEW, NEW + "!"), "Kedua isian tidak sama."),
])
def test_refusals_are_shown_on_the_form(signed_in, office, data, message) -> None:
    r = signed_in("kabid").post("/keys/passphrase/", data)
    assert r.status_code == 200 and message in text_of(r)
    assert HolderKey.objects.get(pk=office.keys["kabid"].pk).protection == 1


def test_a_holder_checks_their_key(signed_in, office) -> None:
    client = signed_in("kasi")
    r = client.post("/keys/check/", {"passphrase": "bukan frasa sandi kasi"})
    assert r.status_code == 200 and "frasa sandi salah untuk kunci kasi" in text_of(r)
    assert HolderKey.objects.get(pk=office.keys["kasi"].pk).last_checked_at is None
    r = client.post("/keys/check/", {"passphrase": PASSPHRASES["kasi"]})
    assert r.status_code == 302
    assert HolderKey.objects.get(pk=office.keys["kasi"].pk).last_checked_at is not None
    assert "Tidak ada dokumen yang dibuka" in text_of(client.get("/keys/"))
    assert [e.outcome for e in AuditEvent.objects.filter(action="key.check").order_by("seq")
            ] == ["failed", "ok"]


@pytest.mark.parametrize("url", ["/keys/passphrase/", "/keys/check/"])
def test_no_english_left_on_the_pages(signed_in, url) -> None:
    from tests.web.ui.test_i18n import english_msgids

    english = english_msgids()
    page = text_of(signed_in("kabid").get(url))
    assert {m for m in english if f">{m}<" in page or f'"{m}"' in page} == set()
    assert "Kembali ke kunci" in page
