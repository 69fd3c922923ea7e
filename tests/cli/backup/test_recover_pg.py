"""``brankas recover`` across databases: a disk written by an SQLite instance rebuilt into a
PostgreSQL instance (``BRANKAS_DATABASE_URL`` names an empty database), whose own backup
disk is rebuilt into an SQLite instance again: the same documents, files, keys and an
audit chain that verifies, each time; a database that is not empty is refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests import pg
from tests.cli.backup.conftest import Office
from tests.conftest import cli

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _check_rebuilt(office: Office, home: Path, env: dict[str, str], out: dict) -> None:  # type: ignore[type-arg]
    assert out["ok"] is True and out["audit_ok"] is True, out
    assert out["documents"] == out["restored"] == len(office.docs)
    assert out["missing"] == out["damaged"] == out["unregistered"] == []
    r = cli(home, office.base, "list", "--json", user="kasi", env=env)
    assert r.returncode == 0, r.stderr
    listed = {d["agenda"]: d for d in r.json()}
    assert sorted(listed) == sorted(office.docs)
    for agenda, doc in office.docs.items():
        stored = home / listed[agenda]["stored_path"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == doc.stored_sha256
    for doc in [d for d in office.docs.values() if d.exempted]:
        target = office.base / f"open-{home.name}-{doc.agenda}.pdf"
        r = cli(home, office.base, "open", doc.agenda, "--out", str(target),
                "--passphrase-file", office.secret("kabid.pp"), user="kabid", env=env)
        assert r.returncode == 0, r.stderr
        assert target.read_bytes() == doc.original
    r = cli(home, office.base, "audit", "verify", "--json", user="admin", env=env)
    assert r.returncode == 0 and r.json()["ok"] is True, r.stdout + r.stderr


def test_recover_an_sqlite_disk_into_postgresql_and_back(office: Office) -> None:
    import psycopg

    url = pg.empty_database("recover")
    on_pg = {"BRANKAS_DATABASE_URL": url}
    pg_home = office.base / "rumah-pg"
    r = cli(pg_home, office.base, "recover", str(office.disk), "--home", str(pg_home),
            "--identity", str(office.recovery_file), "--json", env=on_pg)
    assert r.returncode == 0, r.stderr
    _check_rebuilt(office, pg_home, on_pg, r.json())
    # The register is in PostgreSQL, not in a file of the new home.
    assert not (pg_home / "brankas.sqlite3").exists()
    with psycopg.connect(url) as con:
        [(count,)] = con.execute("select count(*) from documents_document").fetchall()
        # The planner's statistics taken with the rebuild (refresh_statistics), not left to
        # autovacuum: a table not analysed since the load keeps an empty table's figures.
        [(reltuples,)] = con.execute("select reltuples from pg_class "
                                     "where relname = 'documents_document'").fetchall()
    assert count == len(office.docs)
    assert reltuples == count, reltuples
    # Into that database again (no longer empty): refused, nothing built.
    again = office.base / "rumah-kedua"
    r = cli(again, office.base, "recover", str(office.disk), "--home", str(again),
            "--identity", str(office.recovery_file), "--json", env=on_pg)
    assert r.returncode != 0 and r.stderr.startswith("brankas: "), r.stderr
    assert "Traceback" not in r.stderr
    assert not again.exists() or not any(again.iterdir())
    # Back: the PostgreSQL instance's own backup disk, rebuilt into an SQLite instance.
    disk = office.base / "disk-dari-pg"
    r = cli(pg_home, office.base, "backup", str(disk), "--json", user="operator", env=on_pg)
    assert r.returncode == 0, r.stderr
    sqlite_home = office.base / "rumah-sqlite"
    r = cli(sqlite_home, office.base, "recover", str(disk), "--home", str(sqlite_home),
            "--identity", str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    _check_rebuilt(office, sqlite_home, {}, r.json())
    assert (sqlite_home / "brankas.sqlite3").is_file()

