"""Secrets at rest on the laptop (issue 11), through the services: every file and folder
Brankas makes in the data folder is private to its owner, and an exempted document's
subject is in no file or folder name there."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.documents.services import document_open, document_register
from brankas.web.keys.services import key_create
from brankas.web.sendrequests import services as sendrequests
from tests.conftest import PASSPHRASES, make_pdf, quick_key_making

SECRET_SUBJECT = "Operasi Senyap Gunung Merapi"
SECRET_WORDS = ("operasi", "senyap", "gunung", "merapi")
KADIS_PASSPHRASE = "perahu kayu menyeberangi selat lembeh"


@pytest.fixture(autouse=True)
def loose_umask():  # type: ignore[no-untyped-def]
    """A careless process umask (022) while the office is made and used: the private
    modes must come from Brankas's own writers, not from the umask."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def register(office, *, classification: str, subject: str, text: str):  # type: ignore[no-untyped-def]
    meta = metadata.build(direction="penerimaan", classification=classification,
                          number="005/12/2026", doc_date="2026-11-20", subject=subject,
                          correspondent="Kapolres")
    return document_register(actor=office.users["operator"], meta=meta,
                             files=[InputFile.from_bytes("scan.pdf", make_pdf(text=text))])


def everything_under(home: Path) -> list[Path]:
    return sorted(home.rglob("*"))


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_every_file_and_folder_brankas_makes_is_private(office):
    secret = register(office, classification="rahasia", subject=SECRET_SUBJECT, text="r")
    register(office, classification="biasa", subject="Undangan rapat", text="b")
    with quick_key_making():  # the key file's mode is the point here, not its work factor
        key_create(actor=office.users["kadis"], holder_username="kadis",
                   passphrase=KADIS_PASSPHRASE)
    sendrequests.request_create(actor=office.users["operator"], subject=SECRET_SUBJECT,
                            classification="rahasia", addressee="Gubernur",
                            files=[InputFile.from_bytes("surat.pdf", make_pdf(text="l"))])
    sendrequests.request_create(actor=office.users["operator"], subject="Ucapan selamat",
                            classification="biasa", addressee="Gubernur",
                            files=[InputFile.from_bytes("surat.pdf", make_pdf(text="m"))])
    home = office.home
    paths = everything_under(home)
    kinds = {p.relative_to(home).parts[0] for p in paths}
    assert {"arsip", "keys", "permintaan", "tmp", "config", "brankas.sqlite3"} <= kinds
    assert (home / secret.stored_path) in paths
    loose = [(p, oct(stat.S_IMODE(p.lstat().st_mode))) for p in [home, *paths]
             if stat.S_IMODE(p.lstat().st_mode) != (0o700 if p.is_dir() else 0o600)]
    assert loose == []


def test_an_exempted_subject_is_in_no_name_under_the_data_folder(office):
    doc = register(office, classification="sangat-rahasia", subject=SECRET_SUBJECT, text="s")
    req = sendrequests.request_create(
        actor=office.users["operator"], subject=SECRET_SUBJECT, classification="terbatas",
        addressee="Gubernur", files=[InputFile.from_bytes("surat.pdf", make_pdf(text="t"))])
    assert Path(doc.stored_path).name == f"{doc.agenda}.pdf.age"
    assert doc.stored_path == f"arsip/dikecualikan/penerimaan/{doc.year}/{doc.agenda}.pdf.age"
    assert Path(req.letter_path).name == f"P-{req.pk:05d}.pdf.age"
    names = [p.relative_to(office.home).as_posix().lower() for p in everything_under(office.home)]
    assert not [n for n in names if any(word in n for word in SECRET_WORDS)]
    # The register still knows the subject (sealed, issue 16: a holder reads it), and the
    # document still opens.
    from brankas.web.documents.sealing import key_for_passphrase, reveal

    assert doc.subject == "" and "subject" in doc.sealed
    reveal([doc], key_for_passphrase(actor=office.users["kabid"],
                                     passphrase=PASSPHRASES["kabid"], via="test"))
    assert doc.shown("subject") == SECRET_SUBJECT
    out = io.BytesIO()
    document_open(actor=office.users["kabid"], agenda=doc.agenda, dst=out,
                  passphrase=PASSPHRASES["kabid"])
    assert out.getvalue().startswith(b"%PDF")
    # The audit entry of the registration names the file by its new name only.
    from brankas.web.audit.models import AuditEvent

    entry = AuditEvent.objects.get(action="document.register", target=doc.agenda)
    assert entry.detail["stored_path"] == doc.stored_path


def test_the_letter_registered_from_an_exempted_request_is_named_by_its_agenda(office):
    req = sendrequests.request_create(
        actor=office.users["operator"], subject=SECRET_SUBJECT, classification="rahasia",
        addressee="Gubernur", files=[InputFile.from_bytes("surat.pdf", make_pdf(text="u"))])
    u = office.users
    sendrequests.request_assign(actor=u["kadis"], number=req.pk, assignee_username="kabid")
    sendrequests.request_assign(actor=u["kabid"], number=req.pk, assignee_username="kasi")
    sendrequests.request_assign(actor=u["kasi"], number=req.pk, assignee_username="operator")
    sendrequests.request_receive(actor=u["operator"], number=req.pk)
    doc = sendrequests.request_register(actor=u["operator"], number=req.pk, doc_number="1/2026",
                                    doc_date="2026-11-20")
    assert Path(doc.stored_path).name == f"{doc.agenda}.pdf.age"
    names = [p.relative_to(office.home).as_posix().lower()
             for p in everything_under(office.home)]
    assert not [n for n in names if any(word in n for word in SECRET_WORDS)]
