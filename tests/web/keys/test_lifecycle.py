"""A holder's own key over time: the passphrase change and the key check (issue 13), and
a revoked key refused for opening."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from brankas.core import crypto
from brankas.core.disk import seal as diskseal
from brankas.core.errors import AccessDenied, BrankasError, CryptoFailure
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.audit.models import AuditEvent
from brankas.web.documents.services import document_open, document_register
from brankas.web.keys.lifecycle import key_check, key_passphrase_change
from brankas.web.keys.models import HolderKey
from brankas.web.keys.services import key_file_name, keys_write_files, office_key
from tests.agefile import passphrase_encrypt
from tests.conftest import PASSPHRASES, make_pdf, quick_key_making

NEW = "gunung biru menyimpan rahasia lama"
OLD = PASSPHRASES["kabid"]


def _register(office, subject: str = "Surat rahasia"):  # type: ignore[no-untyped-def]
    meta = metadata.build(direction="penerimaan", classification="rahasia", number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Sekda")
    return document_register(actor=office.users["operator"], meta=meta,
                             files=[InputFile.from_bytes("a.pdf", make_pdf(text=subject))])


def _open(office, user: str, agenda: str, passphrase: str) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    document_open(actor=office.users[user], agenda=agenda, dst=out, passphrase=passphrase)
    return out.getvalue()


# -- the passphrase change ---------------------------------------------------------------

def test_the_new_passphrase_protects_the_same_key_under_a_new_file_name(office) -> None:
    doc = _register(office)
    before = _open(office, "kabid", doc.agenda, OLD)
    kabid = office.users["kabid"]
    old_name = key_file_name(office.keys["kabid"])
    with quick_key_making():
        key = key_passphrase_change(actor=kabid, holder=kabid, old=OLD, new=NEW)
    key.refresh_from_db()
    assert key.pk == office.keys["kabid"].pk and key.protection == 2
    assert key_file_name(key) == f"kabid-p2-{key.fingerprint}.age"
    folder = office.home / "keys"
    assert not (folder / old_name).exists()
    new_file = folder / key_file_name(key)
    identity = crypto.unlock_identity(new_file.read_bytes(), NEW, username="kabid")
    assert str(identity.to_public()) == key.recipient
    with pytest.raises(CryptoFailure):
        crypto.unlock_identity(new_file.read_bytes(), OLD, username="kabid")
    # The same key: what it opened, it opens, now with the new passphrase only.
    assert _open(office, "kabid", doc.agenda, NEW) == before
    with pytest.raises(BrankasError) as exc:
        _open(office, "kabid", doc.agenda, OLD)
    assert exc.value.code == "passphrase_wrong"
    entry = AuditEvent.objects.get(action="key.passphrase")
    assert (entry.actor, entry.target, entry.outcome) == ("kabid", "kabid", "ok")
    assert entry.detail["keys"] == [{"fingerprint": key.fingerprint, "old_file": old_name,
                                     "file": key_file_name(key)}]
    assert NEW not in str(entry.detail) and OLD not in str(entry.detail)
    # Kasi's file is untouched; a second change names protection 3.
    assert (folder / key_file_name(office.keys["kasi"])).exists()
    with quick_key_making():
        key = key_passphrase_change(actor=kabid, holder="kabid", old=NEW,
                                    new="perahu kecil menyeberangi selat sunda")
    assert key.protection == 3
    assert [p.name for p in folder.glob(f"kabid-*{key.fingerprint}.age")] == [
        f"kabid-p3-{key.fingerprint}.age"]


def test_a_retired_key_opened_by_the_old_passphrase_is_protected_anew_too(office) -> None:
    kabid = office.users["kabid"]
    current = office.keys["kabid"]
    pair = crypto.generate()
    signing = office_key()
    fingerprint = crypto.recipient_fingerprint(pair.recipient)
    retired = HolderKey.objects.create(
        holder=kabid, recipient=pair.recipient, fingerprint=fingerprint,
        protected_identity=passphrase_encrypt((pair.identity + "\n").encode(), OLD),
        suite=crypto.SUITE, retired_at=timezone.now(),
        anchor=diskseal.anchor_bytes(public=signing.public, office="Kantor", holder=fingerprint,
                                     secret=pair.identity),
        anchor_office_key=signing.fingerprint)
    keys_write_files()
    with quick_key_making():
        key_passphrase_change(actor=kabid, holder=kabid, old=OLD, new=NEW)
    for k in (current, retired):
        k.refresh_from_db()
        assert k.protection == 2
        crypto.unlock_identity(bytes(k.protected_identity), NEW, username="kabid")
        assert (office.home / "keys" / key_file_name(k)).exists()


@pytest.mark.parametrize(("actor", "holder", "old", "new", "code"), [
    ("kasi", "kabid", OLD, NEW, "key_not_own"),
    ("admin", "kabid", OLD, NEW, "permission_denied"),
    ("operator", "operator", OLD, NEW, "permission_denied"),
    ("kadis", "kadis", OLD, NEW, "key_not_holder"),
    ("kabid", "kabid", "bukan frasa sandinya sama sekali", NEW, "passphrase_wrong"),
    ("kabid", "kabid", OLD, OLD, "passphrase_same"),
    ("kabid", "kabid", OLD, "kabid-kabid-kabid", "passphrase_weak"),
])
def test_refusals_change_nothing(office, actor, holder, old, new, code) -> None:  # type: ignore[no-untyped-def]
    files = sorted(p.name for p in (office.home / "keys").glob("*.age"))
    with pytest.raises(BrankasError) as exc:
        key_passphrase_change(actor=office.users[actor], holder=holder, old=old, new=new)
    assert exc.value.code == code
    key = HolderKey.objects.get(pk=office.keys["kabid"].pk)
    assert key.protection == 1
    assert bytes(key.protected_identity) == bytes(office.keys["kabid"].protected_identity)
    assert sorted(p.name for p in (office.home / "keys").glob("*.age")) == files
    assert not AuditEvent.objects.filter(action="key.passphrase", outcome="ok").exists()
    if code in {"passphrase_wrong", "passphrase_same", "passphrase_weak"}:
        entry = AuditEvent.objects.get(action="key.passphrase")
        assert entry.outcome == "failed" and entry.detail["error"] == code
    if code in {"key_not_own", "key_not_holder"}:
        assert AuditEvent.objects.get(action="key.passphrase").outcome == "denied"
    if code == "permission_denied":
        assert AuditEvent.objects.filter(action="access.denied", actor=actor).exists()


# -- the key check -------------------------------------------------------------------------

def test_the_key_check_proves_the_passphrase_and_is_audited(office) -> None:
    kabid = office.users["kabid"]
    with pytest.raises(CryptoFailure) as exc:
        key_check(actor=kabid, holder=kabid, passphrase="salah sekali bukan ini")
    assert exc.value.code == "passphrase_wrong"
    assert HolderKey.objects.get(pk=office.keys["kabid"].pk).last_checked_at is None
    failed = AuditEvent.objects.get(action="key.check")
    assert failed.outcome == "failed" and failed.detail["error"] == "passphrase_wrong"

    key = key_check(actor=kabid, holder="kabid", passphrase=OLD)
    key.refresh_from_db()
    assert key.last_checked_at is not None
    ok = AuditEvent.objects.filter(action="key.check").order_by("-seq").first()
    assert ok is not None and ok.outcome == "ok"
    assert ok.detail == {"fingerprint": key.fingerprint}
    assert not AuditEvent.objects.filter(action="document.open").exists()


def test_the_key_check_refuses_another_holders_key(office) -> None:
    with pytest.raises(AccessDenied) as exc:
        key_check(actor=office.users["kasi"], holder="kabid", passphrase=OLD)
    assert exc.value.code == "key_not_own"
    assert AuditEvent.objects.get(action="key.check").outcome == "denied"
    assert HolderKey.objects.get(pk=office.keys["kabid"].pk).last_checked_at is None


def test_the_key_check_names_an_identity_that_is_not_the_recorded_recipient(office) -> None:
    key = office.keys["kabid"]
    other = crypto.generate()
    key.protected_identity = passphrase_encrypt((other.identity + "\n").encode(), OLD)
    key.save(update_fields=["protected_identity"])
    with pytest.raises(BrankasError) as exc:
        key_check(actor=office.users["kabid"], holder="kabid", passphrase=OLD)
    assert exc.value.code == "key_check_mismatch"
    assert AuditEvent.objects.get(action="key.check").outcome == "failed"


def test_a_revoked_holder_is_refused_the_key_check(office) -> None:
    HolderKey.objects.filter(pk=office.keys["kabid"].pk).update(
        revoked_at=timezone.now(), revoked_by=office.users["admin"])
    with pytest.raises(AccessDenied) as exc:
        key_check(actor=office.users["kabid"], holder="kabid", passphrase=OLD)
    assert exc.value.code == "key_revoked"


# -- a revoked key opens nothing through Brankas --------------------------------------------

def test_a_revoked_key_is_not_used_for_opening(office) -> None:
    doc = _register(office)
    assert _open(office, "kabid", doc.agenda, OLD)
    HolderKey.objects.filter(pk=office.keys["kabid"].pk).update(
        revoked_at=timezone.now(), revoked_by=office.users["admin"])
    with pytest.raises(AccessDenied) as exc:
        _open(office, "kabid", doc.agenda, OLD)
    assert exc.value.code == "key_revoked"
    assert office.keys["kabid"].fingerprint in exc.value.message("en")
    assert _open(office, "kasi", doc.agenda, PASSPHRASES["kasi"])  # others still open it


def test_a_revoked_key_anchors_nothing(office) -> None:
    from brankas.web.keys.revocation import key_revoke
    from brankas.web.keys.services import key_anchor

    key_revoke(actor=office.users["admin"], holder="kabid")
    with pytest.raises(BrankasError) as exc:
        key_anchor(actor=office.users["kabid"], passphrase=PASSPHRASES["kabid"])
    assert exc.value.code == "key_revoked"
    assert key_anchor(actor=office.users["kasi"], passphrase=PASSPHRASES["kasi"])  # unrevoked
