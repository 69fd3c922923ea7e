"""``brankas recover`` into the database ``BRANKAS_DATABASE_URL`` names (here an sqlite:///
URL: no server needed; tests/cli/backup/test_recover_pg.py does it on PostgreSQL): a
database that already holds rows, even in tables that are not Brankas's, is refused
before anything is written to it (it was migrated first and looked at after: another
application's database received Brankas's tables and the recovered instance)."""

from __future__ import annotations

import sqlite3

from tests.cli.backup.conftest import Office
from tests.conftest import cli


def _tables(path) -> list[str]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(path) as con:
        return sorted(n for (n,) in con.execute(
            "select name from sqlite_master where type = 'table'"))


def test_recover_into_another_applications_database_is_refused(office: Office) -> None:
    target = office.base / "payroll.sqlite3"
    with sqlite3.connect(target) as con:
        con.execute("create table salaries (nip text, amount integer)")
        con.execute("insert into salaries values ('197001011990031001', 5000000)")
    home = office.base / "rumah"
    r = cli(home, office.base, "recover", str(office.disk), "--home", str(home),
            "--identity", str(office.recovery_file), "--json",
            env={"BRANKAS_DATABASE_URL": f"sqlite:///{target}"})
    assert r.returncode == 1 and r.stderr.startswith("brankas: "), r.stdout + r.stderr
    assert "salaries" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert _tables(target) == ["salaries"]
    assert not home.exists() or not any(home.iterdir())


def test_recover_into_a_database_of_a_newer_brankas_is_refused(office: Office) -> None:
    target = office.base / "lebih-baru.sqlite3"
    with sqlite3.connect(target) as con:
        con.execute("create table django_migrations (id integer primary key, app varchar, "
                    "name varchar, applied datetime)")
        con.execute("insert into django_migrations (app, name, applied) values "
                    "('documents', '9999_from_the_future', '2030-01-01 00:00:00')")
    home = office.base / "rumah"
    r = cli(home, office.base, "recover", str(office.disk), "--home", str(home),
            "--identity", str(office.recovery_file), "--json",
            env={"BRANKAS_DATABASE_URL": f"sqlite:///{target}"})
    assert r.returncode == 1 and "newer" in r.stderr, r.stdout + r.stderr
    assert _tables(target) == ["django_migrations"]
    assert not home.exists() or not any(home.iterdir())
