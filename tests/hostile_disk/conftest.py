"""The good disks the hostile-disk corpus starts from, made once per session through the
real CLI, and each case's private copy of an office and its disk.

- ``one``: the office of ``tests/cli/backup`` (four documents of every kind) and its disk
  after one backup run (``backed_up_template``, shared with tests/cli/backup).
- ``two``: the same office after a fifth, larger document (D5) and a second run: a disk
  with two sealed runs, the newer snapshot naming D5.
- ``pending``: the office with D5 registered and not yet backed up, with the one-run
  disk (a run that has something to copy).
- ``journal`` (s17 N): the one-run disk after two more runs that each wrote a snapshot
  journal part (D5, then D6; ``BRANKAS_JOURNAL_MIN_BYTES=0``): a base and two parts.
- ``attacker``: another office, made by the attacker with the CLI (its admin is
  ``mallory``), and its own backup disk.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.backup.conftest import Doc, Office, big_pdf, quick_rebuilds  # noqa: F401
from tests.conftest import PASSWORDS, cli


@dataclass
class Attacker:
    home: Path
    disk: Path
    recovery_identity: str
    office_public: str
    office_private: bytes


@dataclass
class Templates:
    one: Office
    two_home: Path
    two_disk: Path
    pending_home: Path
    d5: Doc
    attacker: Attacker
    journal_home: Path
    journal_disk: Path


def _attacker(base: Path) -> Attacker:
    secrets = base / "secrets"
    secrets.mkdir()
    for name in ("admin", "operator"):
        (secrets / f"{name}.pw").write_text(PASSWORDS[name] + "\n")
    home = base / "home"
    r = cli(home, base, "init", "--office", "Kantor Penyerang", "--admin", "mallory",
            "--password-file", str(secrets / "admin.pw"), "--json")
    assert r.returncode == 0, r.stderr
    recovery = r.json()["recovery_identity"]
    env = {"BRANKAS_USER": "mallory", "BRANKAS_PASSWORD": PASSWORDS["admin"]}
    r = cli(home, base, "user", "add", "operator", "--role", "sandiman", "--password-file",
            str(secrets / "operator.pw"), env=env)
    assert r.returncode == 0, r.stderr
    r = cli(home, base, "backup", str(base / "disk"), "--label", "DISK-01", "--json",
            user="operator")
    assert r.returncode == 0, r.stderr
    con = sqlite3.connect(home / "brankas.sqlite3")
    try:
        public, private = con.execute("select public, private from keys_officekey").fetchone()
    finally:
        con.close()
    return Attacker(home, base / "disk", recovery, public, bytes(private))


@pytest.fixture(scope="session")
def templates(backed_up_template: Office, tmp_path_factory) -> Templates:  # type: ignore[no-untyped-def]
    one = backed_up_template
    base = tmp_path_factory.mktemp("hostile-disk")
    # pending: D5 registered, not backed up.
    work = Office(base=base / "two", home=base / "two" / "home", disk=base / "two" / "disk",
                  secrets=one.secrets, recovery_file=one.recovery_file, docs=dict(one.docs))
    work.base.mkdir()
    shutil.copytree(one.home, work.home)
    shutil.copytree(one.disk, work.disk)
    for pdf in one.base.glob("scan-*.pdf"):
        shutil.copy2(pdf, work.base / pdf.name)
    d5 = work.register("penerimaan", "biasa", "Pindaian besar lampiran anggaran",
                       pdf=big_pdf(300_000, 5))
    pending = base / "pending-home"
    shutil.copytree(work.home, pending)
    r = work.backup()
    assert r.returncode == 0, r.stderr
    attacker_base = base / "attacker"
    attacker_base.mkdir()
    journal = Office(base=base / "journal", home=base / "journal" / "home",
                     disk=base / "journal" / "disk", secrets=one.secrets,
                     recovery_file=one.recovery_file, docs=dict(work.docs))
    journal.base.mkdir()
    shutil.copytree(pending, journal.home)
    shutil.copytree(one.disk, journal.disk)
    for pdf in work.base.glob("scan-*.pdf"):
        shutil.copy2(pdf, journal.base / pdf.name)
    parts = {"BRANKAS_JOURNAL_MIN_BYTES": "0"}
    r = journal.cli("backup", str(journal.disk), "--json", user="operator", env=parts)
    assert r.returncode == 0, r.stderr
    journal.register("pengiriman", "biasa", "Undangan rapat koordinasi keenam")
    r = journal.cli("backup", str(journal.disk), "--json", user="operator", env=parts)
    assert r.returncode == 0, r.stderr
    assert len(list(journal.disk.glob("data/backup/*/database-journal.json.age"))) == 2
    return Templates(one=one, two_home=work.home, two_disk=work.disk, pending_home=pending,
                     d5=d5, attacker=_attacker(attacker_base), journal_home=journal.home,
                     journal_disk=journal.disk)
