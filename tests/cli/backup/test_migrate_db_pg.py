"""``brankas migrate-db --to URL``: the backed-up CLI office (documents of every kind, a
backup run, its copies) moved from SQLite into PostgreSQL and back into a new SQLite file,
each table counted and hashed; the moved instance works (the audit chain verifies,
documents list and open, a new registration and a backup run on it); a target that is not
empty and a user who is not the admin are refused, and the refusals audited."""

from __future__ import annotations

import sqlite3

import pytest

from tests import pg
from tests.cli.backup.conftest import Office
from tests.conftest import cli, make_pdf

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _works(office: Office, env: dict[str, str], tag: str) -> None:
    r = cli(office.home, office.base, "audit", "verify", "--json", user="admin", env=env)
    assert r.returncode == 0 and r.json()["ok"] is True, r.stdout + r.stderr
    r = cli(office.home, office.base, "list", "--json", user="kasi", env=env)
    assert r.returncode == 0, r.stderr
    assert {d["agenda"] for d in r.json()} >= set(office.docs)
    doc = next(d for d in office.docs.values() if d.exempted)
    target = office.base / f"open-{tag}.pdf"
    r = cli(office.home, office.base, "open", doc.agenda, "--out", str(target),
            "--passphrase-file", office.secret("kabid.pp"), user="kabid", env=env)
    assert r.returncode == 0, r.stderr
    assert target.read_bytes() == doc.original


def test_migrate_db_to_postgresql_and_back(office: Office) -> None:
    import psycopg

    url = pg.empty_database("migrate")
    r = office.cli("migrate-db", "--to", url, "--json", user="admin")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["ok"] is True and out["source"] == "sqlite"
    assert out["target_engine"] == "postgresql" and ":***@" in out["target"]
    tables = {t["table"]: t for t in out["tables"]}
    # Counted by each database itself: every table of the source, as many rows in both.
    with sqlite3.connect(office.home / "brankas.sqlite3") as src:
        names = [n for (n,) in src.execute(
            "select name from sqlite_master where type = 'table' and name not like "
            "'sqlite_%' and name not in ('django_migrations', 'brankas_changes') "
            "and name not like 'text_fts%' and name not like 'documents_field_fts%'")]
        # (brankas_changes: each database counts its own changes, web/changes.py; text_fts,
        # documents_field_fts:
        # SQLite's full-text index, kept by triggers from the texts, web/text/fts.py)
        counts = {n: src.execute(f'select count(*) from "{n}"').fetchone()[0]  # noqa: S608
                  for n in names}
    assert set(tables) == set(names)
    with psycopg.connect(url) as con:
        for name in names:
            [(n,)] = con.execute(f'select count(*) from "{name}"').fetchall()  # noqa: S608
            assert n == counts[name] == tables[name]["rows"], name
    assert tables["documents_document"]["rows"] == len(office.docs)
    # The planner's statistics taken with the copy (refresh_statistics): a table not analysed
    # since it was loaded keeps an empty table's (reltuples 0 or -1), planned as if empty.
    with psycopg.connect(url) as con:
        [(reltuples,)] = con.execute("select reltuples from pg_class "
                                     "where relname = 'documents_document'").fetchall()
    assert reltuples == len(office.docs), reltuples
    on_pg = {"BRANKAS_DATABASE_URL": url}
    _works(office, on_pg, "pg")
    # The sequences moved on: a new document and a backup run on the moved instance.
    make_pdf(office.base / "baru.pdf", text="sesudah pindah")
    r = cli(office.home, office.base, "register", str(office.base / "baru.pdf"),
            "--direction", "penerimaan", "--classification", "biasa", "--number", "9",
            "--date", "2026-11-21", "--subject", "Sesudah pindah", "--correspondent", "Uji",
            "--json", user="operator", env=on_pg)
    assert r.returncode == 0, r.stderr
    r = cli(office.home, office.base, "backup", str(office.disk), "--json", user="operator",
            env=on_pg)
    assert r.returncode == 0, r.stderr
    # The move is in the audit log of both databases.
    r = cli(office.home, office.base, "audit", "list", "--json", user="admin", env=on_pg)
    assert any(e["action"] == "database.migrate" for e in r.json()), r.stdout
    # A target that is not empty is refused; nothing changes there.
    r = office.cli("migrate-db", "--to", url, user="admin")
    assert r.returncode == 1 and "not empty" in r.stderr, r.stderr
    # Back into a new SQLite file: the same rows, an instance that works. The file is given
    # the tables this process migrated first (tests/clirun.py), as a migration from nothing
    # leaves them (tests/test_clirun.py): migrate-db's migrate finds nothing left to apply,
    # the copy is as it is (an SQLite target migrated from nothing: test_migrate_db.py).
    back = office.base / "kembali.sqlite3"
    from tests import clirun

    clirun._MIGRATED.write(back)
    r = cli(office.home, office.base, "migrate-db", "--to", f"sqlite:///{back}", "--json",
            user="admin", env=on_pg)
    assert r.returncode == 0, r.stderr
    assert r.json()["target_engine"] == "sqlite"
    _works(office, {"BRANKAS_DATABASE_URL": f"sqlite:///{back}"}, "back")


def test_migrate_db_is_for_the_admin_only(office: Office) -> None:
    url = pg.empty_database("migrate_denied")
    r = office.cli("migrate-db", "--to", url, user="operator")
    assert r.returncode == 1 and "may not" in r.stderr, r.stderr
    r = office.cli("audit", "list", "--json", user="admin")
    assert any(e["action"] == "access.denied" and e["actor"] == "operator"
               and e["target"] == "migrate-db" for e in r.json())


def test_a_copy_that_differs_is_refused_and_nothing_kept(office: Office) -> None:
    """The target changes a subject as it is written (a trigger): the content hash read
    back differs, the whole copy is rolled back, and the attempt is audited."""
    import psycopg

    url = pg.new_database("migrate_differs")
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE FUNCTION brankas_alter() RETURNS trigger AS $$ BEGIN "
                    "NEW.subject := NEW.subject || ' (diubah)'; RETURN NEW; END $$ "
                    "LANGUAGE plpgsql")
        con.execute("CREATE TRIGGER brankas_alter BEFORE INSERT ON documents_document "
                    "FOR EACH ROW EXECUTE FUNCTION brankas_alter()")
    r = office.cli("migrate-db", "--to", url, user="admin")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "differs" in r.stderr and "documents_document" in r.stderr, r.stderr
    with psycopg.connect(url) as con:
        for table in ("documents_document", "accounts_user", "audit_auditevent"):
            [(n,)] = con.execute(f'select count(*) from "{table}"').fetchall()  # noqa: S608
            assert n == 0, table
    r = office.cli("audit", "list", "--json", user="admin")
    assert any(e["action"] == "database.migrate" and e["outcome"] == "failed"
               for e in r.json()), r.stdout
