"""Review of the snapshot journal (s17 review): defects found, each shown by a test."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from brankas.web.backup import journal
from brankas.web.backup.services import backup_run
from tests.web.backup.test_journal import _chain
from tests.web.backup.test_services import register
from tests.web.keys.supersede import supersede_document


def test_a_changed_document_writes_whole_registers_and_a_part_not_a_whole_snapshot_too(
        office, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, journal_min_bytes=0)
    operator = office.users["operator"]
    disk = tmp_path / "disk"
    secret = register(office, "Operasi Senyap", "rahasia")
    backup_run(actor=operator, dest=disk, label="A")
    supersede_document(secret, identity=office.recovery_identity,
                       drop=[office.keys["kasi"]])
    second = backup_run(actor=operator, dest=disk)
    folder = disk / "data" / "backup" / second.run.folder
    names = {p.name for p in folder.iterdir()}
    assert "journal" in _chain(disk)["snapshot"]
    assert journal.JOURNAL in names and "register-biasa.csv" in names
    assert "database.json.age" not in names, names
