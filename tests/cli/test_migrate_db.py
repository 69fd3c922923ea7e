"""``brankas migrate-db`` without a PostgreSQL server (SQLite to SQLite): a target that is
not empty is refused BEFORE anything is done to it (migrate-db migrated the target first
and only then looked: a refused target of an older Brankas, or another application's
database, was left with Brankas's tables and migrations added)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import cli


def _schema(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    with sqlite3.connect(path) as con:
        tables = sorted(n for (n,) in con.execute(
            "select name from sqlite_master where type = 'table'"))
        applied = sorted(con.execute("select app, name from django_migrations")) if (
            "django_migrations" in tables) else []
    return tables, applied


def _copy_database(home: Path, target: Path) -> None:
    with sqlite3.connect(home / "brankas.sqlite3") as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def test_an_older_brankas_database_is_refused_untouched(
        cli_office_template: SimpleNamespace, cli_office: SimpleNamespace, cli_home: Path,
        tmp_path: Path) -> None:
    target = tmp_path / "older.sqlite3"
    _copy_database(cli_home, target)
    with sqlite3.connect(target) as con:  # an instance of a Brankas without the jobs
        con.execute("drop table jobs_job")
        con.execute("delete from django_migrations where app = 'jobs'")
    before = _schema(target)
    r = cli(cli_home, tmp_path, "migrate-db", "--to", f"sqlite:///{target}", user="admin")
    assert r.returncode == 1 and "not empty" in r.stderr, r.stdout + r.stderr
    assert _schema(target) == before


def test_another_applications_database_is_refused_untouched(
        cli_office_template: SimpleNamespace, cli_office: SimpleNamespace, cli_home: Path,
        tmp_path: Path) -> None:
    target = tmp_path / "payroll.sqlite3"
    with sqlite3.connect(target) as con:
        con.execute("create table salaries (nip text, amount integer)")
        con.execute("insert into salaries values ('197001011990031001', 5000000)")
    r = cli(cli_home, tmp_path, "migrate-db", "--to", f"sqlite:///{target}", user="admin")
    assert r.returncode == 1 and "not empty" in r.stderr and "salaries" in r.stderr, (
        r.stdout + r.stderr)
    assert _schema(target) == (["salaries"], [])
    r = cli(cli_home, tmp_path, "audit", "list", "--json", user="admin")
    assert any(e["action"] == "database.migrate" and e["outcome"] == "failed"
               and e["detail"]["error"] == "migrate_db_not_empty" for e in r.json()), r.stdout


@pytest.mark.slow  # migrates a new SQLite file (about 2 s)
def test_into_an_empty_sqlite_file_and_a_retry_after_a_refusal(
        cli_office_template: SimpleNamespace, cli_office: SimpleNamespace, cli_home: Path,
        tmp_path: Path) -> None:
    """The check before migrating does not refuse a new file, nor one a refused or
    interrupted attempt left migrated and empty. The new file holds what the data folder's
    database holds (password hashes, the office's signing key, the subjects of exempted
    documents): made 0600, as that one is (SQLite makes a new file 0644 whatever the
    umask), wherever it is put (here a folder others may read)."""
    outside = tmp_path / "shared"
    outside.mkdir(mode=0o755)
    target = outside / "baru.sqlite3"
    r = cli(cli_home, tmp_path, "migrate-db", "--to", f"sqlite:///{target}", "--json",
            user="admin")
    assert r.returncode == 0, r.stderr
    assert r.json()["rows"] > 0
    if os.name != "nt":  # POSIX file modes
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    again = tmp_path / "lagi.sqlite3"
    _copy_database(cli_home, again)  # migrated, then emptied as an interrupted copy leaves it
    with sqlite3.connect(again) as con:
        con.execute("pragma foreign_keys = off")
        for (name,) in con.execute("select name from sqlite_master where type = 'table' "
                                   "and name not like 'sqlite_%' and name not in "
                                   "('django_migrations', 'django_content_type', "
                                   "'auth_permission', 'brankas_changes')").fetchall():
            con.execute(f'delete from "{name}"')  # noqa: S608
        # the change counters (web/changes.py) as the migrations made them: a rolled-back
        # copy leaves them so
        con.execute("update brankas_changes set n = 0")
    r = cli(cli_home, tmp_path, "migrate-db", "--to", f"sqlite:///{again}", "--json",
            user="admin")
    assert r.returncode == 0, r.stderr


def test_a_source_behind_this_version_is_named_as_such(
        cli_office_template: SimpleNamespace, cli_office: SimpleNamespace, cli_home: Path,
        tmp_path: Path) -> None:
    """An instance not yet brought up to this version (migrations not applied: it was
    blamed on the target, 'cannot be opened or prepared: no such table')."""
    with sqlite3.connect(cli_home / "brankas.sqlite3") as con:
        con.execute("drop table jobs_job")
        con.execute("delete from django_migrations where app = 'jobs'")
    target = tmp_path / "baru.sqlite3"
    r = cli(cli_home, tmp_path, "migrate-db", "--to", f"sqlite:///{target}", user="admin")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "not up to date" in r.stderr and "brankas serve" in r.stderr, r.stderr
    assert "target" not in r.stderr, r.stderr
    assert not target.exists()


def test_a_target_prepared_by_a_newer_brankas_is_refused(
        cli_office_template: SimpleNamespace, cli_office: SimpleNamespace, cli_home: Path,
        tmp_path: Path) -> None:
    """An empty database migrated by a newer version: its data migrations ran on no rows
    and are recorded as done, so the rows copied in would never get them; refused, as it
    was left."""
    target = tmp_path / "lebih-baru.sqlite3"
    with sqlite3.connect(target) as con:
        con.execute("create table django_migrations (id integer primary key, app varchar, "
                    "name varchar, applied datetime)")
        con.execute("insert into django_migrations (app, name, applied) values "
                    "('documents', '9999_from_the_future', '2030-01-01 00:00:00')")
    before = _schema(target)
    r = cli(cli_home, tmp_path, "migrate-db", "--to", f"sqlite:///{target}", user="admin")
    assert r.returncode == 1 and "newer" in r.stderr, r.stdout + r.stderr
    assert "documents.9999_from_the_future" in r.stderr, r.stderr
    assert _schema(target) == before
