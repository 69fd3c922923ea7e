"""Recover from a disk that holds two versions of a re-encrypted document, through the
real ``brankas recover`` (a process of its own): with the snapshot written after the
re-encryption (the old version is known as superseded, not set aside as unregistered),
and with a snapshot from before it (the old version is the one it expects; the newer one
is named, not set aside). Either way every record points at a file that exists, with the
recorded hash."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from brankas.core.disk.format import read_payload_manifest
from brankas.web.backup.services import backup_run
from tests.conftest import cli, make_pdf
from tests.web.backup.test_services import register
from tests.web.keys.supersede import supersede_document, supersede_letter
from tests.web.sendrequests.test_services import new_request

pytestmark = [pytest.mark.slow,  # two real recover processes
              pytest.mark.usefixtures("quick_rebuilds")]


def _recover(tmp_path: Path, disk: Path, identity: str, name: str, *extra: str) -> dict:  # type: ignore[type-arg]
    new = tmp_path / name
    key = tmp_path / "recovery.txt"
    key.write_text(identity + "\n")
    r = cli(new, tmp_path, "recover", str(disk), "--home", str(new), "--identity", str(key),
            "--json", *extra)
    assert r.returncode in (0, 1), r.stderr
    out = r.json()
    assert r.returncode == (0 if out["ok"] else 1)
    out["home_path"] = new
    return out


def _records(home: Path) -> list[tuple[str, str, str, int]]:
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return db.execute("SELECT agenda, stored_path, stored_sha256, file_version "
                          "FROM documents_document ORDER BY id").fetchall()


def _all_files_exist(home: Path) -> None:
    for agenda, path, sha, _v in _records(home):
        target = home.joinpath(*path.split("/"))
        assert target.is_file(), (agenda, path)
        assert hashlib.sha256(target.read_bytes()).hexdigest() == sha, agenda


@pytest.fixture
def two_versions(office, tmp_path: Path):  # type: ignore[no-untyped-def]
    secret = register(office, "Operasi Senyap Gunung", "rahasia")
    register(office, "Undangan rapat")
    letter = new_request(office, classification="rahasia", letter=make_pdf(text="surat"))
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="A")
    old_path, old_sha = secret.stored_path, secret.stored_sha256
    old_letter = letter.letter_path
    supersede_document(secret, identity=office.recovery_identity, drop=[office.keys["kasi"]])
    supersede_letter(letter, identity=office.recovery_identity)
    secret.refresh_from_db()
    second = backup_run(actor=office.users["operator"], dest=disk)
    listed = read_payload_manifest(disk)
    assert listed[old_path] == old_sha and listed[secret.stored_path] == secret.stored_sha256
    assert old_letter in listed and letter.letter_path in listed
    office.letter = (old_letter, letter.letter_path)
    return secret, disk, old_path, old_sha, second.run.folder


def _letter_paths(home: Path) -> list[str]:
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        rows = db.execute("SELECT letter_path, letter_stored_sha256 FROM dispatch_sendrequest "
                          "WHERE letter_path != ''").fetchall()
    for path, sha in rows:  # each names a file that exists, with the recorded hash
        assert hashlib.sha256(home.joinpath(*path.split("/")).read_bytes()).hexdigest() == sha
    return [p for p, _s in rows]


def test_recover_after_the_grant_knows_the_old_version(office, two_versions,
                                                       tmp_path: Path) -> None:
    secret, disk, old_path, _sha, _folder = two_versions
    out = _recover(tmp_path, disk, office.recovery_identity, "after")
    assert out["ok"] is True, out
    assert out["unregistered"] == [] and out["newer_versions"] == []
    assert out["older_versions"] == 2  # the document's and the letter's
    assert out["documents"] == out["restored"] == 2 and out["letters"] == 1
    home = out["home_path"]
    _all_files_exist(home)
    [path] = _letter_paths(home)
    assert home.joinpath(*path.split("/")).is_file()
    versions = {agenda: (sha, v) for agenda, _p, sha, v in _records(home)}
    assert versions[secret.agenda] == (secret.stored_sha256, 2)
    assert secret.agenda in out["exempted_opened"]
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        kept = db.execute("SELECT COUNT(*) FROM keys_supersededcopy").fetchone()[0]
    # Both old versions are known to be on this disk: the document's (moved from its
    # BackupCopy by the re-encryption) and the letter's (found on the disk by recover).
    assert kept == 2


def test_recover_from_a_snapshot_before_the_grant_takes_the_old_version(
        office, two_versions, tmp_path: Path) -> None:
    secret, disk, old_path, old_sha, folder = two_versions
    # The newest snapshot is unreadable (a bad sector): --allow-older takes the one of the
    # first run, written before the document was re-encrypted.
    snapshot = disk / "data" / "backup" / folder / "database.json.age"
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    out = _recover(tmp_path, disk, office.recovery_identity, "before", "--allow-older")
    # (not "ok": the audit entries after the older snapshot are lost, as with any older one)
    assert out["passed_over"] and out["snapshot_run"] != folder
    assert out["authenticated"] is True and out["problems"] == []
    assert out["unregistered"] == [] and out["older_versions"] == 0
    assert out["newer_versions"] == sorted([secret.stored_path, office.letter[1]])
    assert out["missing"] == [] and out["damaged"] == [] and out["letters"] == 1
    home = out["home_path"]
    _all_files_exist(home)
    assert _letter_paths(home) == [office.letter[0]]
    assert home.joinpath(*office.letter[0].split("/")).is_file()
    versions = {agenda: (path, sha, v) for agenda, path, sha, v in _records(home)}
    # The file is the old version; its number is the newer one the disk holds, so that the
    # next grant names its file after it (test_version_names_after_older_recover.py).
    assert versions[secret.agenda] == (old_path, old_sha, 2)
    assert not home.joinpath(*secret.stored_path.split("/")).exists()
    assert secret.agenda in out["exempted_opened"]


def test_recover_keeps_the_version_name(office, two_versions, tmp_path: Path) -> None:
    secret, disk, old_path, _sha, _folder = two_versions
    out = _recover(tmp_path, disk, office.recovery_identity, "named")
    home = out["home_path"]
    paths = {agenda: path for agenda, path, _sha, _v in _records(home)}
    assert paths[secret.agenda] == secret.stored_path
    assert not home.joinpath(*old_path.split("/")).exists()
    assert _letter_paths(home) == [office.letter[1]]


def test_a_drill_with_a_passphrase_compares_the_version_the_disk_holds(office, tmp_path: Path
                                                                       ) -> None:
    from brankas.web.backup.restore import backup_drill
    from tests.conftest import PASSPHRASES

    secret = register(office, "Operasi Senyap Gunung", "rahasia")
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="A")
    old_path = secret.stored_path
    supersede_document(secret, identity=office.recovery_identity)
    # The disk's snapshot names version 1, which is on the disk: nothing is mismatched.
    drill = backup_drill(actor=office.users["kabid"], dest=disk,
                         passphrase=PASSPHRASES["kabid"])
    assert drill.recovered is not None and drill.recovered["ok"] is True
    assert drill.mismatched == [] and drill.ok, drill.as_dict()
    assert drill.older == [f"{secret.agenda}: data/{old_path}"]
