"""Anchors of the office key: made with a holder's identity when it is at hand (a new
key, or the first unlock of an older key), and checked only with that identity."""

from __future__ import annotations

import io

from brankas.core.disk import seal as diskseal
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.documents.services import document_open, document_register
from brankas.web.keys.models import HolderKey
from brankas.web.keys.services import anchor_files, office_key
from tests.conftest import PASSPHRASES, make_pdf, quick_protected_identity


def test_an_older_key_is_anchored_the_first_time_its_passphrase_opens_it(office) -> None:
    kabid = office.keys["kabid"]
    HolderKey.objects.filter(pk=kabid.pk).update(anchor=b"", anchor_office_key="")
    assert not any(kabid.fingerprint in name for name, _ in anchor_files())
    meta = metadata.build(direction="penerimaan", classification="rahasia", number="1",
                          doc_date="2026-11-20", subject="Nota rahasia", correspondent="Sekda")
    doc = document_register(actor=office.users["operator"], meta=meta,
                            files=[InputFile.from_bytes("a.pdf", make_pdf(text="x"))])
    document_open(actor=office.users["kabid"], agenda=doc.agenda, dst=io.BytesIO(),
                  passphrase=PASSPHRASES["kabid"])
    kabid.refresh_from_db()
    assert kabid.anchor_office_key == office_key().fingerprint
    identity = quick_protected_identity(PASSPHRASES["kabid"])[0]  # add_key's
    statement = diskseal.anchor_open(bytes(kabid.anchor), identity)
    assert statement is not None and statement["office_key"] == office_key().public
    other = quick_protected_identity(PASSPHRASES["kasi"])[0]
    assert diskseal.anchor_open(bytes(kabid.anchor), other) is None
    names = [name for name, _ in anchor_files()]
    assert any(kabid.fingerprint in name for name in names)
    assert (office.home / "keys" / "anchors").is_dir()
