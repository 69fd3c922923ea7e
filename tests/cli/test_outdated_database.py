"""A command run on a database an older Brankas made (after an upgrade, before ``serve`` or
``worker`` migrated it) is refused with what to do, not a traceback; ``worker --burst``
brings the database up to date and the command then works."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

from tests.conftest import cli


def test_an_outdated_database_is_named_and_worker_burst_updates_it(
        cli_office: SimpleNamespace, cli_home: Path, tmp_path: Path) -> None:
    with sqlite3.connect(cli_home / "brankas.sqlite3") as con:  # as before backup 0004
        con.execute("alter table backup_medium drop column lists")
        con.execute("delete from django_migrations where app = 'backup' and "
                    "name = '0004_s17_medium_lists'")
    disk = tmp_path / "disk"
    refused = cli(cli_home, tmp_path, "backup", str(disk), user="operator",
                  env={"BRANKAS_LANG": "en"})
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.startswith("brankas: the database in "), refused.stderr
    assert "brankas worker --burst" in refused.stderr and "Traceback" not in refused.stderr
    assert "no such column: backup_medium.lists" in refused.stderr

    updated = cli(cli_home, tmp_path, "worker", "--burst")
    assert updated.returncode == 0, updated.stderr
    done = cli(cli_home, tmp_path, "backup", str(disk), "--json", user="operator")
    assert done.returncode == 0, done.stderr
    assert done.json()["run"]


def test_a_database_error_that_is_not_an_old_schema_stays_a_crash(
        cli_office: SimpleNamespace, cli_home: Path, tmp_path: Path) -> None:
    """Only a missing table or column of a pending migration is "outdated": a table gone
    from an up-to-date schema (damage, not an upgrade) is not explained away."""
    with sqlite3.connect(cli_home / "brankas.sqlite3") as con:
        con.execute("alter table backup_medium drop column lists")
    broken = cli(cli_home, tmp_path, "backup", str(tmp_path / "disk"), user="operator",
                 env={"BRANKAS_LANG": "en"})
    assert broken.returncode != 0
    assert "was made by an older Brankas" not in broken.stderr
