"""Hand-over (grant), rekey and revocation through the services: real SQLite, real files,
real age. The office fixture gives the Kasi and the Kabid a key; ``kabid2`` joins (a
second user of the Kabid role) and receives the archive."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from brankas.core import crypto
from brankas.core.errors import AccessDenied, Conflict, CryptoFailure, InvalidInput
from brankas.core.keyring import agehdr
from brankas.core.register import lock as archivelock
from brankas.core.register import metadata, store
from brankas.core.register.intake import InputFile
from brankas.web.accounts.services import user_create
from brankas.web.audit.models import AuditEvent
from brankas.web.backup.models import BackupCopy
from brankas.web.backup.services import backup_run
from brankas.web.custody.models import SafeCombination
from brankas.web.custody.services import safe_add, safe_combinations_read
from brankas.web.documents.models import Document
from brankas.web.documents.renames import documents_rename, letters_rename
from brankas.web.documents.services import document_open, document_register
from brankas.web.keys.grants import key_grant, key_rekey
from brankas.web.keys.models import HolderKey, RewrapJob, SupersededCopy, SupersededFile
from brankas.web.keys.revocation import key_revoke
from brankas.web.sendrequests.models import SendRequest
from brankas.web.sendrequests.services import request_create, request_letter_open
from tests.conftest import (
    PASSPHRASES,
    PASSWORDS,
    add_key,
    make_pdf,
    office_once,
    quick_protected_identity,
)

KABID2_PASSPHRASE = "elang putih terbang di atas danau toba"


def register(office, subject: str, classification: str = "rahasia") -> Document:  # type: ignore[no-untyped-def]
    meta = metadata.build(direction="penerimaan", classification=classification, number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Sekda")
    return document_register(actor=office.users["operator"], meta=meta,
                             files=[InputFile.from_bytes("s.pdf", make_pdf(text=subject))])


def identity(passphrase: str):  # type: ignore[no-untyped-def]
    return crypto.parse_identity(quick_protected_identity(passphrase)[0])


def join_kabid2(office) -> HolderKey:  # type: ignore[no-untyped-def]
    user = user_create(actor=office.users["admin"], username="kabid2", role="kabid",
                       password=PASSWORDS["kabid"], full_name="Kabid Baru",
                       position="kabid", nip="198001012005011999")
    office.users["kabid2"] = user
    return add_key(user, KABID2_PASSPHRASE)


def open_doc(office, who: str, agenda: str, passphrase: str) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    document_open(actor=office.users[who], agenda=agenda, dst=out, passphrase=passphrase)
    return out.getvalue()


def open_letter(office, who: str, number: int, passphrase: str) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    request_letter_open(actor=office.users[who], number=number, dst=out, passphrase=passphrase)
    return out.getvalue()


Archive = dataclasses.make_dataclass("Archive", ["docs", "biasa", "req"])


def _made(office) -> Any:  # type: ignore[no-untyped-def]
    """Three rahasia documents, a biasa one, a request letter and a safe combination."""
    docs = [register(office, f"Operasi Senyap {i}") for i in range(3)]
    biasa = register(office, "Undangan Rapat", classification="biasa")
    req = request_create(actor=office.users["kadis"], subject="Berita rahasia",
                         classification="rahasia", addressee="Gubernur",
                         files=[InputFile.from_bytes("s.pdf", make_pdf(text="surat"))])
    safe_add(actor=office.users["operator"], name="Brankas-A", location="Ruang Sandi",
             combination="12-34-56")
    return Archive(docs, biasa, req)


def _archive(office, base: Path) -> dict:  # type: ignore[no-untyped-def, type-arg]
    made = _made(office)
    return {"docs": [d.pk for d in made.docs], "biasa": made.biasa.pk, "req": made.req.pk}


@pytest.fixture(scope="module")
def archive_office(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The office with its archive (``_archive``), built once for the module (five
    registrations and a combination: about 0.05 CPU-s a test)."""
    with office_once(django_db_blocker, tmp_path_factory, _archive) as template:
        yield template


@pytest.fixture
def office(archive_office, db, settings, tmp_path):  # type: ignore[no-untyped-def]
    """This test's copy of the module's office (a savepoint, a copy of its data folder)."""
    return archive_office.copy_for(settings, tmp_path)


@pytest.fixture
def archived(office, archive_office):  # type: ignore[no-untyped-def]
    """The archive's records as this test's copy of the module's office holds them."""
    made = archive_office.extra
    return Archive([Document.objects.get(pk=pk) for pk in made["docs"]],
                   Document.objects.get(pk=made["biasa"]),
                   SendRequest.objects.get(pk=made["req"]))


@pytest.fixture
def archive(office):  # type: ignore[no-untyped-def]
    """The same archive made for the test on the ``office`` fixture's office (the modules
    that import this fixture)."""
    return _made(office)


def test_a_holder_hands_over_every_file_and_combination_to_a_new_holder(office, archived,
                                                                       tmp_path: Path):
    key2 = join_kabid2(office)
    plain = {d.agenda: open_doc(office, "kabid", d.agenda, PASSPHRASES["kabid"])
             for d in archived.docs}
    letter = open_letter(office, "kabid", archived.req.pk, PASSPHRASES["kabid"])
    with pytest.raises(AccessDenied):
        open_doc(office, "kabid2", archived.docs[0].agenda, KABID2_PASSPHRASE)
    seen = []
    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"], on_progress=seen.append)
    assert (summary.files, summary.documents, summary.letters, summary.combinations) == \
        (4, 3, 1, 1)
    assert summary.failed == [] and summary.skipped == 0
    assert seen[-1].files_done == seen[-1].files_total == 4
    assert seen[-1].bytes_done == seen[-1].bytes_total == summary.bytes > 0
    for d in archived.docs:
        d.refresh_from_db()
        assert d.file_version == 2 and d.stored_path.endswith(f"/{d.agenda}.v2.pdf.age")
        assert key2.fingerprint in d.recipients
        assert open_doc(office, "kabid2", d.agenda, KABID2_PASSPHRASE) == plain[d.agenda]
        assert open_doc(office, "kabid", d.agenda, PASSPHRASES["kabid"]) == plain[d.agenda]
        assert open_doc(office, "kasi", d.agenda, PASSPHRASES["kasi"]) == plain[d.agenda]
        assert store.file_sha256(office.home / d.stored_path) == d.stored_sha256
        old = SupersededFile.objects.get(kind="document", object_id=d.pk)
        assert old.path.endswith(f"/{d.agenda}.pdf.age") and not (office.home / old.path).exists()
    archived.req.refresh_from_db()
    assert archived.req.letter_path.endswith(f"/P-{archived.req.pk:05d}.v2.pdf.age")
    assert open_letter(office, "kabid2", archived.req.pk, KABID2_PASSPHRASE) == letter
    assert safe_combinations_read(actor=office.users["kabid2"],
                                  passphrase=KABID2_PASSPHRASE)[0].combination == "12-34-56"
    archived.biasa.refresh_from_db()
    assert archived.biasa.file_version == 1  # a biasa file is not encrypted: untouched
    # The standard age tool opens a re-encrypted file with the new holder's identity.
    ident = tmp_path / "kabid2.key"
    ident.write_text(quick_protected_identity(KABID2_PASSPHRASE)[0] + "\n")
    d = archived.docs[0]
    out = subprocess.run(["age", "-d", "-i", str(ident), str(office.home / d.stored_path)],
                         capture_output=True, check=True).stdout
    assert out == plain[d.agenda]
    # Audited per file, with the start and the summary.
    files = AuditEvent.objects.filter(action="key.grant.file")
    assert files.count() == 4
    entry = files.get(target=d.agenda)
    assert entry.actor == "kabid" and entry.detail["grantee"] == "kabid2"
    assert entry.detail["new_sha256"] == d.stored_sha256
    stages = list(AuditEvent.objects.filter(action="key.grant").values_list("detail__stage",
                                                                            flat=True))
    # sealed: issue 16; sealed.rows: each batch of sealed rows, as it commits (between files)
    assert [s for s in stages if s != "sealed.rows"] == ["start", "combinations", "sealed",
                                                         "summary"]
    assert "sealed.rows" in stages
    job = RewrapJob.objects.get()
    assert (job.state, job.files_done, job.kind) == (RewrapJob.DONE, 4, RewrapJob.GRANT)
    # A re-run finds everything readable already.
    again = key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    assert (again.files, again.combinations, again.skipped) == (0, 0, 4)


def test_the_admin_grants_with_the_recovery_identity(office, archived):
    join_kabid2(office)
    recovery = crypto.parse_identity(office.recovery_identity)
    with pytest.raises(AccessDenied):  # the admin has no key of their own
        key_grant(actor=office.users["admin"], to="kabid2", passphrase="x" * 20)
    with pytest.raises(AccessDenied):  # a holder may not use the shares
        key_grant(actor=office.users["kabid"], to="kabid2", recovery=recovery)
    summary = key_grant(actor=office.users["admin"], to="kabid2", recovery=recovery)
    assert (summary.files, summary.combinations, summary.via) == (4, 1, "recovery")
    for d in archived.docs:
        open_doc(office, "kabid2", d.agenda, KABID2_PASSPHRASE)
    assert RewrapJob.objects.get().via == "recovery"
    with pytest.raises(InvalidInput) as exc:
        key_grant(actor=office.users["admin"], to="kabid2",
                  recovery=crypto.parse_identity(crypto.generate().identity))
    assert exc.value.code == "field_invalid"


def test_refusals_come_before_any_file_changes(office, archived):
    join_kabid2(office)
    before = list(Document.objects.values_list("stored_path", "stored_sha256"))
    with pytest.raises(CryptoFailure) as exc:
        key_grant(actor=office.users["kabid"], to="kabid2", passphrase="salah sekali frasanya")
    assert exc.value.code == "passphrase_wrong"
    with pytest.raises(InvalidInput) as exc:
        key_grant(actor=office.users["kabid"], to="kabid", passphrase=PASSPHRASES["kabid"])
    assert exc.value.code == "grant_to_self"
    with pytest.raises(InvalidInput) as exc:
        key_grant(actor=office.users["kabid"], to="kadis", passphrase=PASSPHRASES["kabid"])
    assert exc.value.code == "grant_no_key"
    with pytest.raises(AccessDenied):
        key_grant(actor=office.users["operator"], to="kabid2", passphrase="whatever it is")
    assert list(Document.objects.values_list("stored_path", "stored_sha256")) == before
    assert not RewrapJob.objects.exists()


def test_a_grant_waits_for_no_backup_and_a_backup_for_no_grant(office, archived, tmp_path):
    join_kabid2(office)
    tmp = office.home / "tmp"
    with archivelock.archive_lock(tmp, archivelock.BACKUP, shared=True):
        with pytest.raises(Conflict) as exc:
            key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
        assert exc.value.code == "rewrap_running" and "a backup" in exc.value.message("en")
        # Backups share the lock with each other.
        backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A")
    with archivelock.archive_lock(tmp, archivelock.REWRAP):
        with pytest.raises(Conflict) as exc:
            backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A")
        assert "re-encryption" in exc.value.message("en")
    assert AuditEvent.objects.filter(action="backup.run", outcome="refused").exists()


def test_leftovers_of_a_killed_run_are_cleared_and_the_rerun_completes(office, archived):
    key2 = join_kabid2(office)
    first, second = archived.docs[0], archived.docs[1]
    # Killed after publishing first's next version, before its record committed:
    stray = office.home / store.versioned_path(first.stored_path, number=first.agenda,
                                               version=2).as_posix()
    stray.write_bytes(b"left by a killed run")
    # Killed after second's record committed, before its old file was unlinked:
    old_second = second.stored_path
    kept = office.home / "kept.age"
    shutil.copy(office.home / old_second, kept)
    key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    second.refresh_from_db()
    shutil.copy(kept, office.home / old_second)  # as if its unlink had not happened
    RewrapJob.objects.update(state=RewrapJob.RUNNING)
    again = key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    assert again.files == 0
    assert not (office.home / old_second).exists()
    first.refresh_from_db()
    assert store.file_sha256(office.home / first.stored_path) == first.stored_sha256
    assert key2.fingerprint in first.recipients
    assert RewrapJob.objects.filter(state=RewrapJob.FAILED,
                                    summary__error="interrupted").count() == 1


def test_a_damaged_file_fails_alone_and_stays_as_it_was(office, archived):
    join_kabid2(office)
    bad = archived.docs[1]
    path = office.home / bad.stored_path
    data = bytearray(path.read_bytes())
    data[-20] ^= 1
    path.write_bytes(bytes(data))
    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"])
    assert summary.files == 3 and [f["number"] for f in summary.failed] == [bad.agenda]
    bad.refresh_from_db()
    assert bad.file_version == 1 and path.read_bytes() == bytes(data)
    assert RewrapJob.objects.get().state == RewrapJob.FAILED
    assert not list((office.home / "tmp").glob("*.part"))


def test_versioned_names_are_never_renamed_back(office, archived):
    join_kabid2(office)
    key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    paths = dict(Document.objects.values_list("agenda", "stored_path"))
    letter = SendRequest.objects.get().letter_path
    docs = documents_rename(home=office.home, document_model=Document)
    letters = letters_rename(home=office.home, request_model=SendRequest)
    assert not docs.changed and not letters.changed and not docs.missing + letters.missing
    assert dict(Document.objects.values_list("agenda", "stored_path")) == paths
    assert SendRequest.objects.get().letter_path == letter
    for rel in [*paths.values(), letter]:
        assert (office.home / rel).is_file()


def test_revocation_shuts_the_key_out_and_rekey_leaves_it_nothing_current(office, archived,
                                                                           tmp_path: Path):
    key2 = join_kabid2(office)
    kabid_key = office.keys["kabid"]
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="Disk-A")
    key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    # The copies of the old versions moved with them: the disk holds version 1.
    assert not BackupCopy.objects.filter(document__in=archived.docs).exists()
    assert SupersededCopy.objects.filter(superseded__kind="document").count() == 3
    with pytest.raises(AccessDenied):
        key_revoke(actor=office.users["kabid2"], holder="kabid")
    result = key_revoke(actor=office.users["admin"], holder="kabid")
    assert result.newly_revoked == [kabid_key.fingerprint] and result.rekey is None
    kabid_key.refresh_from_db()
    assert kabid_key.revoked and kabid_key.revoked_by == office.users["admin"]
    (exposure,) = result.still_opens
    assert exposure.medium_label == "Disk-A"
    assert exposure.documents == sorted(d.agenda for d in archived.docs)
    assert exposure.letters == [f"P-{archived.req.pk:05d}"]
    # Brankas no longer opens anything with a revoked key.
    with pytest.raises(AccessDenied) as exc:
        open_doc(office, "kabid", archived.docs[0].agenda, PASSPHRASES["kabid"])
    assert exc.value.code == "key_revoked"
    with pytest.raises(AccessDenied):
        key_grant(actor=office.users["kabid"], to="kasi", passphrase=PASSPHRASES["kabid"])
    # A new registration goes to the active holders and the recovery key only.
    new = register(office, "Sesudah Mutasi")
    recovery_fp = crypto.recipient_fingerprint(office.office.recovery_recipient)
    assert set(new.recipients) == {office.keys["kasi"].fingerprint, key2.fingerprint,
                                   recovery_fp}
    # Rekey needs the shares; with them, no current file opens for the revoked key.
    with pytest.raises(InvalidInput):
        key_revoke(actor=office.users["admin"], holder="kabid", rekey=True)
    recovery = crypto.parse_identity(office.recovery_identity)
    again = key_revoke(actor=office.users["admin"], holder="kabid", rekey=True,
                       recovery=recovery)
    assert again.newly_revoked == [] and again.rekey is not None
    assert again.rekey.files == 5 and again.rekey.combinations == 1
    kabid_identity = identity(PASSPHRASES["kabid"])
    for d in Document.objects.exclude(suite=""):
        data = (office.home / d.stored_path).read_bytes()
        with pytest.raises(Exception):  # noqa: B017,PT011 - pyrage: not a recipient
            crypto.decrypt_bytes(data, [kabid_identity])
        assert kabid_key.fingerprint not in d.recipients
        open_doc(office, "kabid2", d.agenda, KABID2_PASSPHRASE)
    combo = SafeCombination.objects.get()
    assert combo.fingerprints == [key2.fingerprint]
    # The disk still holds what the revoked key opens (listed), and later versions.
    assert [e.medium_label for e in again.still_opens] == ["Disk-A"]
    rekey_job = RewrapJob.objects.get(kind=RewrapJob.REKEY)
    assert rekey_job.revoked_key == kabid_key and rekey_job.state == RewrapJob.DONE


def test_an_interrupted_rekey_resumes_the_same_job(office, archived):
    recovery = crypto.parse_identity(office.recovery_identity)
    first = key_rekey(actor=office.users["admin"], recovery=recovery)
    assert first.files == 4
    job = RewrapJob.objects.get()
    # Pretend the run was killed after its first file: the rest is still to do.
    SupersededFile.objects.filter(job=job).exclude(
        pk=SupersededFile.objects.filter(job=job).order_by("pk").first().pk).delete()
    RewrapJob.objects.filter(pk=job.pk).update(state=RewrapJob.RUNNING, files_done=1)
    again = key_rekey(actor=office.users["admin"], recovery=recovery)
    assert again.job_id == job.pk and again.files == 3 and again.skipped == 1
    job.refresh_from_db()
    assert job.state == RewrapJob.DONE and job.files_done == 4 and job.files_total == 4


def _header_and_payload(path: Path) -> tuple[bytes, bytes]:
    data = path.read_bytes()
    header = agehdr.read_header(io.BufferedReader(io.BytesIO(data)))
    return data[:header.size], data[header.size:]


def test_a_grant_rewrites_only_the_header_and_a_rekey_makes_a_fresh_file_key(office, archived):
    """Grant: the same file key and payload (nonce and chunks byte for byte), a new header
    whose X25519 stanzas are the readers'. Rekey: everything new."""
    join_kabid2(office)
    d = archived.docs[0]
    old_header, old_payload = _header_and_payload(office.home / d.stored_path)
    key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    d.refresh_from_db()
    new_header, new_payload = _header_and_payload(office.home / d.stored_path)
    assert new_payload == old_payload and new_header != old_header
    stanzas = agehdr.read_header(io.BufferedReader(io.BytesIO(new_header))).stanzas
    assert [s.type for s in stanzas] == ["X25519"] * len(d.recipients)
    recovery = crypto.parse_identity(office.recovery_identity)
    key_rekey(actor=office.users["admin"], recovery=recovery)
    d.refresh_from_db()
    _, rekeyed = _header_and_payload(office.home / d.stored_path)
    assert rekeyed[:agehdr.NONCE_SIZE] != old_payload[:agehdr.NONCE_SIZE]
    assert len(rekeyed) == len(old_payload) and rekeyed != old_payload


def test_a_file_swapped_for_another_openable_file_is_refused_by_its_hash(office, archived):
    """The header path decrypts nothing, so the plaintext's hash is not checked; the stored
    file's own SHA-256 on record is, while it is read: a valid age file for the same
    readers put in place of the recorded one fails alone and stays as it was."""
    join_kabid2(office)
    one, two = archived.docs[0], archived.docs[1]
    path = office.home / one.stored_path
    swapped = (office.home / two.stored_path).read_bytes()
    path.write_bytes(swapped)
    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"])
    assert [(f["number"], f["error"]) for f in summary.failed] == \
        [(one.agenda, "stored_file_changed")]
    one.refresh_from_db()
    assert one.file_version == 1 and path.read_bytes() == swapped
    assert not list((office.home / "tmp").glob("*.part"))


def test_a_header_changed_with_its_hash_on_record_is_refused_by_the_mac(office, archived):
    """Even a record made to match a changed header does not get it through: the header's
    MAC (keyed by the file key) no longer matches, and the file fails alone."""
    join_kabid2(office)
    d = archived.docs[2]
    path = office.home / d.stored_path
    header, payload = _header_and_payload(path)
    parsed = agehdr.read_header(io.BufferedReader(io.BytesIO(header)))
    # the stanzas in another order: still a well-formed header that the Kabid opens
    body = b"".join(agehdr.encode_stanza(s) for s in reversed(parsed.stanzas))
    changed = agehdr.VERSION_LINE + body + header[len(parsed.mac_input) - 3:] + payload
    assert changed != header + payload
    path.write_bytes(changed)
    Document.objects.filter(pk=d.pk).update(stored_sha256=store.file_sha256(path),
                                            stored_size=len(changed))
    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"])
    assert [f["number"] for f in summary.failed] == [d.agenda]
    assert summary.failed[0]["error"] == "rewrap_failed"
    assert "MAC" in summary.failed[0]["message"]
    d.refresh_from_db()
    assert d.file_version == 1 and path.read_bytes() == changed
