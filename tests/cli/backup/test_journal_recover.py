"""A recover from a disk whose snapshot is a base and journal parts (``web/backup/journal``)
rebuilds the same instance as a recover from a whole snapshot of the same moment: the same
office, from the same disk, backed up once with a journal part and once (its twin) with
the whole snapshot, recovered through the real ``brankas recover``, table by table."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.cli.backup.conftest import Office, newest_seal
from tests.conftest import cli

pytestmark = pytest.mark.slow  # backups and two recovers through the command

PARTS = {"BRANKAS_JOURNAL_MIN_BYTES": "0"}
# Columns that differ between the twins by when they ran (the run's own clock and folder)
# or by the files the third run wrote (a part against a whole snapshot: its counts of files
# and bytes), not by what the database holds; and the bookkeeping a recover writes itself.
TIMED = ("_at", "folder", "dest", "last_", "error", "files_added", "bytes_added", "disk_")
SKIPPED = {"audit_auditevent", "backup_mediumcheck", "brankas_changes", "django_migrations",
           "django_session", "sqlite_sequence", "backup_medium", "audit_auditsequence"}


def _tables(home: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(home / "brankas.sqlite3")
    try:
        out = {}
        names = [n for (n,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for name in names:
            if name in SKIPPED or name.startswith(("auth_", "django_")):
                continue
            columns = [c[1] for c in con.execute(f'PRAGMA table_info("{name}")')]
            kept = [f'"{c}"' for c in columns if not any(t in c for t in TIMED)]
            if not kept:
                continue
            rows = con.execute(f'SELECT {", ".join(kept)} FROM "{name}"').fetchall()  # noqa: S608
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _recover(office: Office, disk: Path, name: str) -> tuple[Path, dict[str, Any]]:
    new = office.base / name
    r = cli(new, office.base, "recover", str(disk), "--home", str(new), "--identity",
            str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return new, r.json()


@pytest.mark.usefixtures("quick_rebuilds")  # the drill's rebuild (conftest.py)
def test_a_base_and_its_parts_recover_the_instance_a_whole_snapshot_does(
        office: Office) -> None:
    office.register("penerimaan", "biasa", "Laporan triwulan")
    r = office.cli("backup", str(office.disk), "--json", user="operator", env=PARTS)
    assert r.returncode == 0, r.stderr
    assert "journal" in newest_seal(office.disk)["snapshot"]
    office.register("pengiriman", "rahasia", "Operasi senyap kedua")
    # The twin: the same office and disk, copied before the third run.
    twin = Office(base=office.base, home=office.base / "twin-home",
                  disk=office.base / "twin-disk", secrets=office.secrets,
                  recovery_file=office.recovery_file, docs=dict(office.docs))
    shutil.copytree(office.home, twin.home)
    shutil.copytree(office.disk, twin.disk)
    r = office.cli("backup", str(office.disk), "--json", user="operator", env=PARTS)
    assert r.returncode == 0, r.stderr
    named = newest_seal(office.disk)["snapshot"]
    assert len(named["journal"]) == 2, named
    r = twin.cli("backup", str(twin.disk), "--json", user="operator",
                 env={**PARTS, "BRANKAS_JOURNAL_MAX_PARTS": "1"})  # the whole snapshot
    assert r.returncode == 0, r.stderr
    assert "journal" not in newest_seal(twin.disk)["snapshot"]
    from_parts, report = _recover(office, office.disk, "from-parts")
    from_whole, whole_report = _recover(twin, twin.disk, "from-whole")
    assert report["documents"] == whole_report["documents"] == len(office.docs)
    assert report["snapshot_run"] == newest_seal(office.disk)["folder"]
    parts, whole = _tables(from_parts), _tables(from_whole)
    assert parts.keys() == whole.keys()
    for table in parts:
        assert parts[table] == whole[table], table
    assert len(parts["documents_document"]) == len(office.docs)
    assert parts["backup_backupcopy"]  # the copies came back (appended rows included)
    # verify and the restore drill (a key holder rebuilding an instance) take the disk.
    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 0 and r.json()["ok"] is True, r.stdout + r.stderr
    r = office.cli("drill", str(office.disk), "--json", "--passphrase-file",
                   office.secret("kabid.pp"), user="kabid")
    assert r.returncode == 0, r.stdout + r.stderr
