"""Sealed register fields (issue 16) follow the keys like any exempted file: a grant lets
the new holder read them, a revocation with rekey seals them afresh to the remaining
readers only; ``seal_existing`` with the recovery identity (the admin's shares) seals an
older instance's rows and refuses an identity that opens nothing."""

from __future__ import annotations

import dataclasses

import pytest

from brankas.core import crypto, sealing
from brankas.core.errors import AccessDenied, CryptoFailure
from brankas.web.documents.models import Document
from brankas.web.documents.sealing import key_for_passphrase, reveal
from brankas.web.documents.sealmigrate import seal_existing
from brankas.web.keys.grants import key_grant
from brankas.web.keys.revocation import key_revoke
from brankas.web.sendrequests.models import SendRequest
from brankas.web.sendrequests.services import request_create
from tests.conftest import PASSPHRASES, make_pdf
from tests.web.keys.test_grants import KABID2_PASSPHRASE, join_kabid2, register


def shown(office, who: str, passphrase: str, doc: Document) -> str:  # type: ignore[no-untyped-def]
    key = key_for_passphrase(actor=office.users[who], passphrase=passphrase, via="test")
    fresh = Document.objects.get(pk=doc.pk)
    reveal([fresh], key)
    return fresh.shown("subject")


def test_grant_opens_sealed_values_to_the_new_holder(office) -> None:
    doc = register(office, "Perihal Hibah Rahasia")
    req = request_create(actor=office.users["operator"], subject="Permintaan Rahasia",
                         classification="rahasia", addressee="Gubernur")
    new_key = join_kabid2(office)
    assert shown(office, "kabid2", KABID2_PASSPHRASE, doc) == "tersegel"
    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"])
    assert summary.sealed == 1 + 2 + 2  # subject, notes, attachments; a request's two
    assert shown(office, "kabid2", KABID2_PASSPHRASE, doc) == "Perihal Hibah Rahasia"
    fresh = SendRequest.objects.get(pk=req.pk)
    assert new_key.fingerprint in fresh.sealed["subject"]["to"]
    # Granted again: nothing more to do for the sealed values.
    again = key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    assert again.sealed == 0


def test_revoke_with_rekey_seals_afresh_without_the_revoked_key(office) -> None:
    doc = register(office, "Perihal Sebelum Pencabutan")
    kasi_fp = office.keys["kasi"].fingerprint
    before = Document.objects.get(pk=doc.pk).sealed["subject"]
    assert kasi_fp in before["to"]
    recovery = crypto.parse_identity(office.recovery_identity)
    result = key_revoke(actor=office.users["admin"], holder="kasi", rekey=True,
                        recovery=recovery)
    assert result.rekey is not None and result.rekey.sealed == 3
    after = Document.objects.get(pk=doc.pk).sealed["subject"]
    assert kasi_fp not in after["to"] and after["age"] != before["age"]
    with pytest.raises(Exception):  # noqa: B017,PT011 - pyrage: no identity matched
        sealing.open_value(after, [crypto.unlock_identity(
            bytes(office.keys["kasi"].protected_identity), PASSPHRASES["kasi"],
            username="kasi")])
    assert shown(office, "kabid", PASSPHRASES["kabid"], doc) == "Perihal Sebelum Pencabutan"


def test_seal_existing_with_the_recovery_identity(office, settings) -> None:
    off = dataclasses.replace(settings.BRANKAS, sealed_fields=frozenset())
    on = settings.BRANKAS
    settings.BRANKAS = off
    doc = register(office, "Perihal Lama Tanpa Segel")
    assert Document.objects.get(pk=doc.pk).subject == "Perihal Lama Tanpa Segel"
    settings.BRANKAS = on
    # A wrong identity: refused before any column is emptied.
    with pytest.raises(CryptoFailure):
        seal_existing(actor=office.users["admin"],
                      recovery=crypto.parse_identity(crypto.generate().identity), vacuum=False)
    assert Document.objects.get(pk=doc.pk).subject == "Perihal Lama Tanpa Segel"
    summary = seal_existing(actor=office.users["admin"],
                            recovery=crypto.parse_identity(office.recovery_identity),
                            vacuum=False)
    assert (summary.documents, summary.via) == (1, "recovery")
    fresh = Document.objects.get(pk=doc.pk)
    assert fresh.subject == "" and set(fresh.sealed) == {"subject", "notes", "attachments"}
    assert shown(office, "kasi", PASSPHRASES["kasi"], doc) == "Perihal Lama Tanpa Segel"
    # The Sandiman may not run it (the matrix), audited.
    with pytest.raises(AccessDenied):
        seal_existing(actor=office.users["operator"], passphrase="apa saja", vacuum=False)


def test_a_sealed_request_subject_goes_to_its_document_as_sealed(office) -> None:
    """The Sandiman registers an exempted request's letter holding no key: the document's
    subject is the request's sealed value itself; the notes typed now are sealed anew."""
    import datetime as dt

    from brankas.web.sendrequests import services as svc
    from tests.web.sendrequests.test_services import new_request, through_chain

    u = office.users
    req = new_request(office, classification="rahasia", letter=make_pdf(text="surat"))
    through_chain(office, req)
    svc.request_receive(actor=u["operator"], number=req.pk)
    doc = svc.request_register(actor=u["operator"], number=req.pk, doc_number="R-1",
                               doc_date=dt.date.today(), notes="Catatan pengiriman rahasia")
    fresh = Document.objects.get(pk=doc.pk)
    sent = SendRequest.objects.get(pk=req.pk)
    assert fresh.subject == "" and fresh.sealed["subject"] == sent.sealed["subject"]
    assert fresh.notes == "" and "notes" in fresh.sealed
    assert fresh.correspondent == "Gubernur Sulut"  # the request's addressee, readable
    assert shown(office, "kabid", PASSPHRASES["kabid"], doc) == "Kirim berita rapat"
    key = key_for_passphrase(actor=u["kasi"], passphrase=PASSPHRASES["kasi"], via="test")
    reveal([fresh], key)
    assert fresh.shown("notes") == "Catatan pengiriman rahasia"
