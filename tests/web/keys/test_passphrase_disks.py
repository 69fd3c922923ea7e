"""A passphrase change and the backup disks: the next backup carries the identity under the
new passphrase as a new file (a disk is append-only: the old file stays), and ``brankas
recover`` with the new passphrase rebuilds the instance from that disk. The old passphrase
still opens the old file wherever it is: on the disks written before, and beside the new
one on later disks (what the output and the docs say)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from brankas.core.disk.format import read_payload_manifest
from brankas.web.backup.services import backup_run, medium_verify
from brankas.web.keys.lifecycle import key_passphrase_change
from brankas.web.keys.services import key_file_name
from tests.conftest import PASSPHRASES, cli, quick_key_making
from tests.web.backup.test_services import register

NEW = "gunung biru menyimpan rahasia lama"

pytestmark = pytest.mark.slow  # real recover processes


def _recover(tmp_path: Path, disk: Path, passphrase: str, name: str) -> dict:  # type: ignore[type-arg]
    secret = tmp_path / f"{name}.pp"
    secret.write_text(passphrase + "\n")
    new = tmp_path / name
    r = cli(new, tmp_path, "recover", str(disk), "--home", str(new), "--passphrase-file",
            str(secret), "--json")
    assert r.returncode == 0, r.stderr
    return r.json()  # type: ignore[no-any-return]


def test_the_next_backup_carries_the_new_identity_file(office, tmp_path: Path) -> None:
    doc = register(office, "Operasi Senyap Gunung", "rahasia")
    disk = tmp_path / "disk"
    operator = office.users["operator"]
    backup_run(actor=operator, dest=disk, label="A")
    before = tmp_path / "disk-before"
    shutil.copytree(disk, before)  # a disk written before the change, kept in the safe
    old_name = key_file_name(office.keys["kabid"])
    with quick_key_making():
        key = key_passphrase_change(actor=office.users["kabid"], holder="kabid",
                                    old=PASSPHRASES["kabid"], new=NEW)
    run = backup_run(actor=operator, dest=disk)
    assert run.run.status == "completed"
    listed = read_payload_manifest(disk)
    assert f"keys/{old_name}" in listed and f"keys/{key_file_name(key)}" in listed
    report, _ = medium_verify(actor=operator, dest=disk)
    assert report.ok, (report.register_problems, report.seal_problems)

    out = _recover(tmp_path, disk, NEW, "with-new")
    assert out["ok"] is True and out["unlocked_with"] == "key holder passphrase"
    assert doc.agenda in out["exempted_opened"]
    keys = Path(out["home"]) / "keys"
    assert (keys / key_file_name(key)).exists() and not (keys / old_name).exists()

    # The old passphrase opens the old file: on the disk written before the change ...
    out = _recover(tmp_path, before, PASSPHRASES["kabid"], "old-disk")
    assert out["ok"] is True and doc.agenda in out["exempted_opened"]
    # ... and on the later disk too, where the old file stays beside the new one.
    out = _recover(tmp_path, disk, PASSPHRASES["kabid"], "old-on-new-disk")
    assert out["ok"] is True
