"""Key holders' keys through the service (the slow, real scrypt path)."""

from __future__ import annotations

import io

import pyrage
import pytest

from brankas.core.errors import AccessDenied, BrankasError, InvalidInput
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.audit.models import AuditEvent
from brankas.web.documents.services import document_open, document_register
from brankas.web.keys.models import HolderKey
from brankas.web.keys.selectors import Purpose, recipients_for
from brankas.web.keys.services import key_create
from tests.conftest import PASSPHRASES, make_pdf, quick_key_making

STRONG = "sepeda tua melintas jembatan kayu"


def meta(subject: str = "Surat uji", classification: str = "rahasia"):  # type: ignore[no-untyped-def]
    return metadata.build(direction="penerimaan", classification=classification, number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Sekda")


@pytest.mark.slow
def test_holder_makes_own_key_and_it_is_audited_and_written(office):
    kadis = office.users["kadis"]
    key = key_create(actor=kadis, holder_username="kadis", passphrase=STRONG)
    assert key.recipient.startswith("age1") and key.active
    ev = AuditEvent.objects.filter(action="key.create", target="kadis").get()
    assert ev.actor == "kadis" and ev.detail["fingerprint"] == key.fingerprint
    files = list((office.home / "keys").glob(f"kadis-{key.fingerprint}.age"))
    assert len(files) == 1
    identity = pyrage.passphrase.decrypt(files[0].read_bytes(), STRONG).decode()
    assert identity.startswith("AGE-SECRET-KEY-1")
    recipients = (office.home / "keys" / "recipients.txt").read_text()
    assert key.recipient in recipients and office.office.recovery_recipient in recipients
    assert STRONG.encode() not in (office.home / "keys" / files[0].name).read_bytes()


@pytest.mark.parametrize(
    "weak", ["short", "password12345", "aaaaaaaaaaaaaaaa", "kadis-kadis-kadis"]
)
def test_weak_passphrase_is_refused(office, weak):
    with pytest.raises(InvalidInput) as exc:
        key_create(actor=office.users["kadis"], holder_username="kadis", passphrase=weak)
    assert exc.value.code == "passphrase_weak"
    assert "12" in exc.value.message("en") and "zxcvbn" in exc.value.message("en")
    assert not HolderKey.objects.filter(holder=office.users["kadis"]).exists()


@pytest.mark.parametrize(
    ("actor", "holder", "code"),
    [("kasi", "kabid", "permission_denied"), ("operator", "operator", "permission_denied"),
     ("admin", "operator", "not_key_holder_role"), ("admin", "admin", "permission_denied")],
)
def test_who_may_make_which_key(office, actor, holder, code):
    with pytest.raises(BrankasError) as exc:
        key_create(actor=office.users[actor], holder_username=holder, passphrase=STRONG)
    assert exc.value.code == code


@pytest.mark.slow
def test_admin_may_make_a_key_for_a_holder(office):
    with quick_key_making():
        key = key_create(actor=office.users["admin"], holder_username="kadis",
                         passphrase=STRONG)
    assert key.holder == office.users["kadis"]


@pytest.mark.slow
def test_new_key_retires_the_old_and_old_documents_still_open(office, tmp_path):
    op, kasi = office.users["operator"], office.users["kasi"]
    original = make_pdf(text="sebelum kunci baru")
    doc = document_register(actor=op, meta=meta(),
                            files=[InputFile.from_bytes("a.pdf", original)])
    old = office.keys["kasi"]
    with quick_key_making():  # the work factor is the first test's; here, what retires
        new = key_create(actor=kasi, holder_username="kasi", passphrase=STRONG)
    old.refresh_from_db()
    assert not old.active and new.active
    assert new.recipient in recipients_for(purpose=Purpose.DOCUMENT).age()
    assert old.recipient not in recipients_for(purpose=Purpose.DOCUMENT).age()
    out = io.BytesIO()
    document_open(actor=kasi, agenda=doc.agenda, dst=out, passphrase=PASSPHRASES["kasi"])
    assert out.getvalue() == original
    later = document_register(actor=op, meta=meta("Sesudah"),
                              files=[InputFile.from_bytes("b.pdf", make_pdf(text="sesudah"))])
    assert new.fingerprint in later.recipients and old.fingerprint not in later.recipients
    out = io.BytesIO()
    document_open(actor=kasi, agenda=later.agenda, dst=out, passphrase=STRONG)
    with pytest.raises(BrankasError) as exc:
        document_open(actor=kasi, agenda=later.agenda, dst=io.BytesIO(),
                      passphrase=PASSPHRASES["kasi"])
    assert exc.value.code == "passphrase_wrong"


def test_every_holder_and_the_recovery_key_can_decrypt(office):
    from brankas.core import crypto

    doc = document_register(actor=office.users["operator"], meta=meta(),
                            files=[InputFile.from_bytes("a.pdf", make_pdf(text="semua"))])
    data = (office.home / doc.stored_path).read_bytes()
    recovery = crypto.parse_identity(office.recovery_identity)
    assert crypto.decrypt_bytes(data, [recovery]).startswith(b"%PDF-")
    for name in ("kasi", "kabid"):
        out = io.BytesIO()
        document_open(actor=office.users[name], agenda=doc.agenda, dst=out,
                      passphrase=PASSPHRASES[name])
        assert out.getvalue().startswith(b"%PDF-")
    with pytest.raises(AccessDenied) as exc:
        document_open(actor=office.users["kadis"], agenda=doc.agenda, dst=io.BytesIO(),
                      passphrase=STRONG)
    assert exc.value.code == "no_key_for_document"
    denied = AuditEvent.objects.filter(action="document.open", actor="kadis").get()
    assert denied.outcome == "denied"
