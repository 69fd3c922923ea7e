"""Disks that hold two versions of a document: the one written before a grant or rekey
re-encrypted it, and (after the next backup) the new one beside it. Verify knows both,
restore and the drill take the current one when the disk has it, else the older one
(which opens for the keys it was encrypted to), and the next backup carries the new
version as a new path, the old one staying (a disk is append-only)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from brankas.core.disk.format import read_payload_manifest
from brankas.web.backup.models import BackupCopy, Medium
from brankas.web.backup.restore import backup_drill, backup_restore
from brankas.web.backup.services import backup_run, medium_verify
from brankas.web.documents.models import Document
from brankas.web.keys.models import SupersededCopy
from tests.conftest import PASSPHRASES, office_once
from tests.web.backup.test_services import register
from tests.web.keys.supersede import supersede_document


def _disk_then_rekey(office, base: Path) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Two exempted documents and a biasa one on disk A (``base/disk-a``, beside the data
    folder); then the first exempted one is re-encrypted without the Kasi's key (a rekey
    after the Kasi left)."""
    secret = register(office, "Operasi Senyap Gunung", "rahasia")
    other = register(office, "Sandi Pelabuhan Bitung", "rahasia")
    plain = register(office, "Undangan rapat")
    backup_run(actor=office.users["operator"], dest=base / "disk-a", label="A")
    old_path, old_sha = secret.stored_path, secret.stored_sha256
    supersede_document(secret, identity=office.recovery_identity, drop=[office.keys["kasi"]])
    return {"ids": [secret.pk, other.pk, plain.pk], "old": (old_path, old_sha)}


@pytest.fixture(scope="module")
def rekeyed_office(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The office with disk A and the rekey (``_disk_then_rekey``), built once for the
    module (three registrations, a backup and a re-encryption: about 0.07 CPU-s a test)."""
    with office_once(django_db_blocker, tmp_path_factory, _disk_then_rekey) as template:
        yield template


@pytest.fixture
def office(rekeyed_office, db, settings, tmp_path):  # type: ignore[no-untyped-def]
    """This test's copy of the module's office (a savepoint, a copy of its folder: the data
    folder ``tmp_path/home`` and disk A ``tmp_path/disk-a``)."""
    return rekeyed_office.copy_for(settings, tmp_path)


@pytest.fixture
def disk_then_rekey(office, rekeyed_office, tmp_path: Path):  # type: ignore[no-untyped-def]
    """(secret, other, plain, disk A, the old version's path and sha256) of this test's copy."""
    secret, other, plain = (Document.objects.get(pk=pk) for pk in rekeyed_office.extra["ids"])
    old_path, old_sha = rekeyed_office.extra["old"]
    return secret, other, plain, tmp_path / "disk-a", old_path, old_sha


def test_the_record_moves_to_the_new_version(office, disk_then_rekey) -> None:
    secret, _other, _plain, _disk, old_path, _sha = disk_then_rekey
    assert secret.stored_path.endswith(".v2.pdf.age") and secret.file_version == 2
    assert not (office.home / old_path).exists() and (office.home / secret.stored_path).exists()
    assert office.keys["kasi"].fingerprint not in secret.recipients
    assert SupersededCopy.objects.filter(superseded__path=old_path).count() == 1
    assert not BackupCopy.objects.filter(document=secret).exists()


def test_verify_knows_the_old_version_and_does_not_yet_expect_the_new(office, disk_then_rekey
                                                                      ) -> None:
    _secret, _other, _plain, disk, _path, _sha = disk_then_rekey
    report, _ = medium_verify(actor=office.users["operator"], dest=disk)
    assert report.ok, (report.register_problems, report.seal_problems)


def test_verify_names_an_older_version_recorded_on_the_disk_but_gone(office, disk_then_rekey,
                                                                     tmp_path: Path) -> None:
    _secret, _other, _plain, disk, old_path, _sha = disk_then_rekey
    elsewhere = backup_run(actor=office.users["operator"], dest=tmp_path / "disk-b", label="B")
    superseded = SupersededCopy.objects.get().superseded
    SupersededCopy.objects.create(superseded=superseded, medium=elsewhere.medium)
    report, _ = medium_verify(actor=office.users["operator"], dest=tmp_path / "disk-b")
    assert not report.ok
    assert any("older version" in p and old_path in p for p in report.register_problems)


def test_the_next_backup_carries_the_new_version_beside_the_old(office, disk_then_rekey) -> None:
    secret, _other, _plain, disk, old_path, old_sha = disk_then_rekey
    run = backup_run(actor=office.users["operator"], dest=disk)
    listed = read_payload_manifest(disk)
    assert listed[old_path] == old_sha  # append-only: the old version stays
    assert listed[secret.stored_path] == secret.stored_sha256
    assert secret.agenda in run.run.agendas
    assert BackupCopy.objects.filter(document=secret, medium=run.medium).exists()
    assert SupersededCopy.objects.filter(medium=run.medium).count() == 1
    report, _ = medium_verify(actor=office.users["operator"], dest=disk)
    assert report.ok, (report.register_problems, report.seal_problems)
    # Restore and the drill take the current version; nothing is an older one.
    restored = backup_restore(actor=office.users["kabid"], dest=disk, to=disk.parent / "out",
                              passphrase=PASSPHRASES["kabid"])
    assert restored.ok and restored.older == []
    assert secret.agenda in restored.decrypted
    out = disk.parent / "out" / Path(secret.stored_path).relative_to("arsip")
    assert hashlib.sha256(out.with_name(out.name.removesuffix(".age")).read_bytes()
                          ).hexdigest() == secret.content_sha256
    drill = backup_drill(actor=office.users["operator"], dest=disk)
    assert drill.ok and drill.restored == 3 and drill.older == []


def test_a_disk_without_the_new_version_restores_the_older_one(office, disk_then_rekey,
                                                               tmp_path: Path) -> None:
    secret, other, _plain, disk, old_path, _sha = disk_then_rekey
    # The Kasi's key is not among the new version's readers, but it is among the old one's.
    report = backup_restore(actor=office.users["kasi"], dest=disk, to=tmp_path / "kasi",
                            passphrase=PASSPHRASES["kasi"])
    assert report.ok and sorted(report.restored) == sorted(
        Document.objects.values_list("agenda", flat=True))
    assert report.older == [f"{secret.agenda}: data/{old_path}"]
    assert secret.agenda in report.decrypted and other.agenda in report.decrypted
    out = tmp_path / "kasi" / Path(old_path).relative_to("arsip")
    plain = out.with_name(out.name.removesuffix(".age"))
    assert hashlib.sha256(plain.read_bytes()).hexdigest() == secret.content_sha256

    drill = backup_drill(actor=office.users["operator"], dest=disk)
    assert drill.ok, drill.as_dict()
    assert drill.restored == 3 and drill.missing == [] and drill.damaged == []
    assert drill.older == [f"{secret.agenda}: data/{old_path}"]


def test_a_damaged_older_version_is_damaged_not_missing(office, disk_then_rekey,
                                                        tmp_path: Path) -> None:
    secret, _other, _plain, disk, old_path, _sha = disk_then_rekey
    target = disk / "data" / old_path
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    report = backup_restore(actor=office.users["operator"], dest=disk, to=tmp_path / "out")
    assert report.damaged == [secret.agenda] and report.missing == []


def test_a_new_disk_gets_only_the_current_version(office, disk_then_rekey,
                                                  tmp_path: Path) -> None:
    secret, _other, _plain, _disk, old_path, _sha = disk_then_rekey
    fresh = tmp_path / "disk-c"
    run = backup_run(actor=office.users["operator"], dest=fresh, label="C")
    listed = read_payload_manifest(fresh)
    assert secret.stored_path in listed and old_path not in listed
    assert Medium.objects.get(label="C") == run.medium
    report, _ = medium_verify(actor=office.users["operator"], dest=fresh)
    assert report.ok, report.register_problems


def test_a_re_encrypted_request_letter_on_a_disk(office, tmp_path: Path) -> None:
    from tests.conftest import make_pdf
    from tests.web.keys.supersede import supersede_letter
    from tests.web.sendrequests.test_services import new_request

    req = new_request(office, classification="rahasia", letter=make_pdf(text="surat rahasia"))
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="A")
    old_path, old_sha = req.letter_path, req.letter_stored_sha256
    supersede_letter(req, identity=office.recovery_identity)
    assert req.letter_path.endswith(".v2.pdf.age")
    report, _ = medium_verify(actor=office.users["operator"], dest=disk)
    assert report.ok, report.register_problems  # the old letter's bytes are known
    backup_run(actor=office.users["operator"], dest=disk)
    listed = read_payload_manifest(disk)
    assert listed[old_path] == old_sha
    assert listed[req.letter_path] == req.letter_stored_sha256
    report, _ = medium_verify(actor=office.users["operator"], dest=disk)
    assert report.ok, report.register_problems
