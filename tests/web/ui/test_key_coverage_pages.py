"""The key coverage page, the keys page's key states and links, and the dashboard's key
warnings, per role: who sees what. Real SQLite; the coverage reads the recipients on
record (tests/web/keys/coverage_data.py makes them in bulk)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from brankas.web.audit.models import AuditEvent
from brankas.web.keys.models import HolderKey, RecoverySplit
from brankas.web.ui.keys.links import optional_url
from tests.web.keys.coverage_data import documents, fake_key, letter, recovery_fp
from tests.web.ui.conftest import register_directly, text_of

COVERAGE = "/keys/coverage/"


def _revoke(office, name: str) -> None:  # type: ignore[no-untyped-def]
    HolderKey.objects.filter(pk=office.keys[name].pk).update(
        revoked_at=timezone.now(), revoked_by=office.users["admin"])


def _row(page: str, text: str) -> str:
    return next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if text in r)


@pytest.mark.parametrize(("name", "status"), [("operator", 403), ("kasi", 200), ("kabid", 200),
                                              ("kadis", 200), ("admin", 200)])
def test_the_coverage_page_is_for_the_holders_and_the_admin(signed_in, name, status) -> None:
    r = signed_in(name).get(COVERAGE)
    assert r.status_code == status
    if status == 403:
        assert AuditEvent.objects.filter(action="access.denied", actor=name).exists()
        assert not AuditEvent.objects.filter(action="key.coverage").exists()
    else:
        entry = AuditEvent.objects.get(action="key.coverage")
        assert (entry.actor, entry.target, entry.detail) == (
            name, COVERAGE, {"via": "web", "recovery_only": False})


def test_the_page_names_the_holders_and_marks_the_recovery_key_alone(signed_in, office) -> None:
    doc = register_directly(office, classification="rahasia", subject="Cakupan")
    request = letter(office.users["operator"], [office.keys["kabid"].fingerprint,
                                                recovery_fp(office)])
    page = text_of(signed_in("kadis").get(COVERAGE))
    row = _row(page, doc.agenda)
    assert "Kabid Test" in row and "Kasi Test" in row and "hanya kunci pemulihan" not in row
    assert "Rahasia" in row
    letter_row = _row(page, f"P-{request.pk}")
    assert "surat permintaan" in letter_row and "Kabid Test" in letter_row
    _revoke(office, "kabid")
    _revoke(office, "kasi")
    page = text_of(signed_in("kadis").get(COVERAGE + "?show=recovery-only"))
    assert "hanya kunci pemulihan" in _row(page, doc.agenda)
    assert "2 hanya dapat dibuka kunci pemulihan" in page
    assert AuditEvent.objects.filter(action="key.coverage").last().detail["recovery_only"]


def test_the_recovery_only_filter_leaves_out_what_a_holder_opens(signed_in, office) -> None:
    rec, kasi = recovery_fp(office), office.keys["kasi"].fingerprint
    revoked = fake_key(office.users["kadis"], revoked_at=timezone.now())
    opened, alone = documents(office.users["operator"], [[kasi, rec],
                                                        [revoked.fingerprint, rec]])
    page = text_of(signed_in("admin").get(COVERAGE + "?show=recovery-only"))
    assert alone.agenda in page and opened.agenda not in page
    assert "1 berkas" in page


def test_the_coverage_is_paged(signed_in, office) -> None:
    rec, kasi = recovery_fp(office), office.keys["kasi"].fingerprint
    made = documents(office.users["operator"], [[kasi, rec]] * 130)
    client = signed_in("kasi")
    first, second = (text_of(client.get(COVERAGE + f"?page={n}")) for n in (1, 2))
    assert "Halaman 1 dari 2" in first and "130 berkas" in first
    agendas = {d.agenda for d in made}
    on_first = {a for a in agendas if f">{a}<" in first}
    on_second = {a for a in agendas if f">{a}<" in second}
    assert (len(on_first), len(on_second)) == (100, 30) and on_first | on_second == agendas


# ---------------------------------------------------------------- the keys page

def test_the_keys_page_shows_revoked_and_check_due(signed_in, office, settings) -> None:
    _revoke(office, "kasi")
    long_ago = timezone.now() - dt.timedelta(days=400)
    HolderKey.objects.filter(pk=office.keys["kabid"].pk).update(created_at=long_ago)
    page = text_of(signed_in("admin").get("/keys/"))
    kasi = _row(page, office.keys["kasi"].fingerprint)
    assert "dicabut" in kasi and "oleh Admin Kantor" in kasi and "badge-ok" not in kasi
    assert "perlu diperiksa" not in kasi  # a revoked key needs no check
    kabid = _row(page, office.keys["kabid"].fingerprint)
    assert "perlu diperiksa" in kabid and "belum pernah" in kabid
    checked = timezone.now() - dt.timedelta(days=40)
    HolderKey.objects.filter(pk=office.keys["kabid"].pk).update(last_checked_at=checked)
    kabid = _row(text_of(signed_in("admin").get("/keys/")), office.keys["kabid"].fingerprint)
    assert "perlu diperiksa" not in kabid and "belum pernah" not in kabid
    assert date_format(timezone.localtime(checked), "j M Y") in kabid


@pytest.mark.parametrize(("name", "sees"), [("operator", False), ("kasi", True),
                                            ("admin", True)])
def test_the_keys_page_links_the_coverage_to_who_may_see_it(signed_in, name, sees) -> None:
    page = text_of(signed_in(name).get("/keys/"))
    assert (f'href="{COVERAGE}"' in page) is sees


def test_the_recovery_shares_section_is_the_admins(signed_in, office) -> None:
    RecoverySplit.objects.create(identifier=4242, threshold=3, shares=5,
                                 recovery_fingerprint=recovery_fp(office),
                                 created_by=office.users["admin"])
    admin = text_of(signed_in("admin").get("/keys/"))
    assert "Pembagian kunci pemulihan" in admin and "4242" in admin and "3 dari 5" in admin
    assert "4242" not in text_of(signed_in("kabid").get("/keys/"))


def test_a_link_to_a_page_that_is_not_there_yet_is_empty(db) -> None:
    assert optional_url("ui:no_such_page") == ""
    assert optional_url("ui:no_such_page", "kabid") == ""
    assert optional_url("ui:keys", "kabid") == "/keys/?holder=kabid"
    assert optional_url("ui:document", "1/M/2026") == "/documents/1/M/2026/"
    assert optional_url("ui:key_coverage", show="recovery-only") == (
        COVERAGE + "?show=recovery-only")


# ---------------------------------------------------------------- the dashboard

def _hints(client) -> list[str]:  # type: ignore[no-untyped-def]
    page = text_of(client.get("/"))
    return [re.sub(r"\s+", " ", h) for h in re.findall(r'<div class="alert[^"]*"><p>(.*?)</p>',
                                                      page, re.S)]


def _has(hints: list[str], text: str) -> bool:
    return any(text in h for h in hints)


NO_SHARES = "Kunci pemulihan kantor belum memiliki bagian"
RECOVERY_ONLY = "hanya dapat dibuka dengan kunci pemulihan kantor"
CHECK_OWN = "Frasa sandi kunci Anda belum pernah diperiksa"


def test_the_admin_is_told_the_recovery_key_has_no_shares(signed_in) -> None:
    assert _has(_hints(signed_in("admin")), NO_SHARES)
    for name in ("kasi", "kabid", "kadis", "operator"):
        assert not _has(_hints(signed_in(name)), NO_SHARES), name


def test_old_and_several_splits_are_the_admins(signed_in, office) -> None:
    old = timezone.now() - dt.timedelta(days=500)
    for n in (1, 2):
        split = RecoverySplit.objects.create(identifier=n, threshold=2, shares=3,
                                             recovery_fingerprint=recovery_fp(office))
        RecoverySplit.objects.filter(pk=split.pk).update(created_at=old)
    admin = _hints(signed_in("admin"))
    assert not _has(admin, NO_SHARES)
    assert _has(admin, "belum pernah diperiksa: periksa bahwa sejumlah bagian")
    assert _has(admin, "Kunci pemulihan telah dibagi 2 kali")
    assert not any("pemulihan" in h for h in _hints(signed_in("kabid")))


def test_recovery_only_documents_are_counted_for_the_holders_and_the_admin(
        signed_in, office) -> None:
    register_directly(office, classification="rahasia")
    _revoke(office, "kasi")
    _revoke(office, "kabid")
    for name in ("kasi", "kabid", "kadis", "admin"):
        hints = _hints(signed_in(name))
        assert _has(hints, "1 dokumen dikecualikan dan surat permintaan " + RECOVERY_ONLY), name
    assert not _has(_hints(signed_in("operator")), RECOVERY_ONLY)
    page = text_of(signed_in("kadis").get("/"))
    assert 'href="/keys/coverage/?show=recovery-only"' in page


def test_a_holder_sees_only_their_own_key_check(signed_in, office) -> None:
    long_ago = timezone.now() - dt.timedelta(days=400)
    HolderKey.objects.filter(pk=office.keys["kabid"].pk).update(created_at=long_ago)
    assert _has(_hints(signed_in("kabid")), CHECK_OWN)
    for name in ("kasi", "kadis", "admin", "operator"):
        assert not _has(_hints(signed_in(name)), CHECK_OWN), name
    HolderKey.objects.filter(pk=office.keys["kabid"].pk).update(
        last_checked_at=timezone.now() - dt.timedelta(days=200))
    hints = _hints(signed_in("kabid"))
    assert _has(hints, "Terakhir Anda membuktikan frasa sandi kunci") and not _has(hints,
                                                                                   CHECK_OWN)


@pytest.mark.parametrize("url", ["/keys/", COVERAGE, COVERAGE + "?show=recovery-only", "/"])
def test_no_english_left_on_the_key_pages(signed_in, office, url) -> None:
    """As tests/web/ui/test_i18n.py, for the roles that see the key pages' new parts."""
    from tests.web.ui.test_i18n import english_msgids

    register_directly(office, classification="rahasia")
    _revoke(office, "kasi")
    HolderKey.objects.filter(pk=office.keys["kabid"].pk).update(
        created_at=timezone.now() - dt.timedelta(days=400))
    RecoverySplit.objects.create(identifier=7, threshold=2, shares=3,
                                 recovery_fingerprint=recovery_fp(office))
    english = english_msgids()
    for name in ("admin", "kabid"):
        page = text_of(signed_in(name).get(url))
        shown = {m for m in english if f">{m}<" in page or f'"{m}"' in page}
        assert shown == set(), name
