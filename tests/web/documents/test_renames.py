"""The data migration that renames exempted files made before issue 11
(``<agenda>-<slug>.pdf.age`` → ``<agenda>.pdf.age``, ``P-NNNNN-<slug>.pdf.age`` →
``P-NNNNN.pdf.age``): every hash kept, nothing overwritten, safe to cut short and re-run."""

from __future__ import annotations

import io
import os
from pathlib import Path, PurePosixPath

import pytest
from django.core.management import call_command

from brankas.core.names import safe_component, slug
from brankas.core.register import metadata, store
from brankas.core.register.intake import InputFile
from brankas.web.documents.models import Document
from brankas.web.documents.renames import documents_rename, letters_rename
from brankas.web.documents.services import document_open, document_register
from brankas.web.sendrequests import services as sendrequests
from brankas.web.sendrequests.models import SendRequest
from tests.conftest import PASSPHRASES, make_pdf

SUBJECTS = ["Operasi Senyap Gunung Merapi", "Sandi Rahasia Pelabuhan Bitung",
            "Kunjungan Tertutup Menteri", "Laporan Intelijen Perbatasan",
            "Pengamanan Pemilu Distrik"]


def old_name(number: str, subject: str) -> str:
    """How an exempted file was named before issue 11."""
    return safe_component(f"{number}-{slug(subject, max_len=50)}", max_len=100) + ".pdf.age"


def register(office, subject: str, classification: str = "rahasia") -> Document:
    meta = metadata.build(direction="pengiriman", classification=classification,
                          number="7/2026", doc_date="2026-11-20", subject=subject,
                          correspondent="Kapolda")
    return document_register(actor=office.users["operator"], meta=meta,
                             files=[InputFile.from_bytes("s.pdf", make_pdf(text=subject))])


def make_old(home: Path, doc: Document) -> str:
    """Give a registered document its pre-issue-11 name, on disk and in the register."""
    old = PurePosixPath(doc.stored_path).with_name(old_name(doc.agenda, doc.subject)).as_posix()
    os.rename(home / doc.stored_path, home / old)
    Document.objects.filter(pk=doc.pk).update(stored_path=old)
    return old


def make_old_letter(home: Path, req: SendRequest) -> str:
    old = PurePosixPath(req.letter_path).with_name(
        old_name(f"P-{req.pk:05d}", req.subject)).as_posix()
    os.rename(home / req.letter_path, home / old)
    SendRequest.objects.filter(pk=req.pk).update(letter_path=old)
    return old


def tree(home: Path) -> dict[str, tuple[int, str]]:
    """Every file under the data folder: its size and SHA-256."""
    return {p.relative_to(home).as_posix(): (p.stat().st_size, store.file_sha256(p))
            for p in sorted(home.rglob("*")) if p.is_file()}


def opens(office, agenda: str) -> bytes:
    out = io.BytesIO()
    document_open(actor=office.users["kabid"], agenda=agenda, dst=out,
                  passphrase=PASSPHRASES["kabid"])
    return out.getvalue()


@pytest.mark.slow  # the migrations rewound and run again (about 3 s)
@pytest.mark.django_db(transaction=True)
def test_rewinding_and_rerunning_the_migrations_renames_an_old_archive(office):
    home = office.home
    docs = [register(office, s) for s in SUBJECTS[:3]]
    biasa = register(office, "Undangan Rapat Biasa", classification="biasa")
    req = sendrequests.request_create(
        actor=office.users["operator"], subject=SUBJECTS[3], classification="rahasia",
        addressee="Gubernur", files=[InputFile.from_bytes("l.pdf", make_pdf(text="letter"))])
    new_paths = {d.agenda: d.stored_path for d in docs}
    new_letter = req.letter_path
    before = {d.agenda: (d.stored_sha256, d.stored_size, d.content_sha256) for d in docs}
    contents = tree(home)

    # An archive as an older version left it: old names, the migrations not applied.
    olds = {d.agenda: make_old(home, d) for d in docs}
    old_letter = make_old_letter(home, req)
    call_command("migrate", "documents", "0001_initial", verbosity=0)
    assert all((home / p).is_file() for p in olds.values()) and (home / old_letter).is_file()

    call_command("migrate", verbosity=0)
    for d in docs:
        fresh = Document.objects.get(pk=d.pk)
        assert fresh.stored_path == new_paths[d.agenda]
        assert (fresh.stored_sha256, fresh.stored_size, fresh.content_sha256) == before[d.agenda]
        assert store.file_sha256(home / fresh.stored_path) == fresh.stored_sha256
        assert not (home / olds[d.agenda]).exists()
        assert store.file_sha256(home / fresh.stored_path) == contents[new_paths[d.agenda]][1]
    assert SendRequest.objects.get(pk=req.pk).letter_path == new_letter
    assert not (home / old_letter).exists()
    assert Document.objects.get(pk=biasa.pk).stored_path == biasa.stored_path  # untouched
    assert tree(home) == contents  # the same files and bytes as before, under the new names
    text = opens(office, docs[0].agenda)
    assert SUBJECTS[0].encode() in text

    # A second run changes nothing.
    again = documents_rename(home=home, document_model=Document)
    letters = letters_rename(home=home, request_model=SendRequest)
    assert not again.changed and not letters.changed
    assert again.missing == again.conflicts == letters.missing == letters.conflicts == []
    call_command("migrate", "documents", "0001_initial", verbosity=0)
    call_command("migrate", verbosity=0)
    assert tree(home) == contents


def test_a_run_cut_short_completes_and_reports_what_it_cannot_do(office):
    home = office.home
    docs = [register(office, s) for s in SUBJECTS]
    new = {d.agenda: home / d.stored_path for d in docs}
    olds = {d.agenda: make_old(home, d) for d in docs}
    cut, linked, untouched, missing, taken = docs
    # Renamed on disk, the record not updated yet (killed before the batch committed).
    os.rename(home / olds[cut.agenda], new[cut.agenda])
    # Killed between making the new name (a hard link) and removing the old one.
    os.link(home / olds[linked.agenda], new[linked.agenda])
    # The file is gone altogether.
    (home / olds[missing.agenda]).unlink()
    # Something else stands at the new name: it must not be overwritten.
    new[taken.agenda].write_bytes(b"not this document")

    summary = documents_rename(home=home, document_model=Document)
    assert (summary.renamed, summary.resumed) == (1, 2)
    assert summary.missing == [missing.agenda] and summary.conflicts == [taken.agenda]
    for d in (cut, linked, untouched):
        fresh = Document.objects.get(pk=d.pk)
        assert fresh.stored_path == d.stored_path
        assert store.file_sha256(home / fresh.stored_path) == fresh.stored_sha256
        assert not (home / olds[d.agenda]).exists()
        assert opens(office, d.agenda).startswith(b"%PDF")
    # What it could not do is left exactly as it was, and reported by number only.
    assert Document.objects.get(pk=missing.pk).stored_path == olds[missing.agenda]
    assert Document.objects.get(pk=taken.pk).stored_path == olds[taken.agenda]
    assert new[taken.agenda].read_bytes() == b"not this document"
    assert store.file_sha256(home / olds[taken.agenda]) == taken.stored_sha256
    lines = "\n".join(summary.lines("arsip"))
    assert missing.agenda in lines and taken.agenda in lines
    assert not any(word.lower() in lines.lower() for s in SUBJECTS for word in s.split())

    # Run again: nothing more to do, nothing changed, no error.
    files = tree(home)
    again = documents_rename(home=home, document_model=Document)
    assert not again.changed
    assert again.missing == [missing.agenda] and again.conflicts == [taken.agenda]
    assert tree(home) == files


def test_a_home_without_files_is_no_problem(office, tmp_path):
    docs = [register(office, s) for s in SUBJECTS[:2]]
    for d in docs:
        make_old(office.home, d)
    empty = tmp_path / "elsewhere"  # say, run against the wrong data folder
    summary = documents_rename(home=empty, document_model=Document)
    assert summary.missing == [d.agenda for d in docs] and not summary.changed
    assert not empty.exists()
    # The records keep their paths, so the right data folder is still renamed later.
    assert documents_rename(home=office.home, document_model=Document).renamed == 2


def test_a_fresh_register_has_nothing_to_rename(db, brankas_home):
    assert not documents_rename(home=brankas_home, document_model=Document).changed
    assert not letters_rename(home=brankas_home, request_model=SendRequest).changed


def test_files_set_aside_in_tmp_lose_the_subject_too(office):
    home = office.home
    doc = register(office, SUBJECTS[0])
    plain = register(office, "Undangan Rapat Biasa", classification="biasa")
    tmp = home / "tmp"
    orphan = tmp / f"orphan-0123abcd-{old_name(doc.agenda, SUBJECTS[1])}"
    orphan.write_bytes(b"ciphertext of a killed attempt")
    blocked = tmp / f"orphan-89abcdef-{old_name(doc.agenda, SUBJECTS[2])}"
    blocked.write_bytes(b"another")
    (tmp / f"orphan-89abcdef-{doc.agenda}.pdf.age").write_bytes(b"already there")
    biasa_orphan = tmp / f"orphan-00000000-{Path(plain.stored_path).name}"
    biasa_orphan.write_bytes(b"biasa")
    summary = documents_rename(home=home, document_model=Document)
    assert summary.orphans == 1
    assert (tmp / f"orphan-0123abcd-{doc.agenda}.pdf.age").read_bytes() == (
        b"ciphertext of a killed attempt")
    assert not orphan.exists()
    assert blocked.read_bytes() == b"another"  # its new name is taken: left as it is
    assert (tmp / f"orphan-89abcdef-{doc.agenda}.pdf.age").read_bytes() == b"already there"
    assert biasa_orphan.read_bytes() == b"biasa"
