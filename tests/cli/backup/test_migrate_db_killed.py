"""``brankas migrate-db`` killed (SIGKILL) while it copies: the target is left holding no
row (migrated, as a fresh migration leaves it), never half a copy, and the source as it
was; the next attempt into the same target completes. SQLite and PostgreSQL targets."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from tests import pg
from tests.cli.backup.conftest import Office
from tests.conftest import cli_env

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name == "nt", reason="SIGKILL")]

# Rows a fresh migration makes, which an "empty" target holds (and the audit counter at 0).
# made by the migrations themselves, not data: the change counters (web/changes.py) are each
# database's own bookkeeping, moved on by the migrations (changes.retrack after 0007)
MADE = {"django_migrations", "django_content_type", "auth_permission", "brankas_changes",
        # the full-text index (web/text/fts.py): made by the migration, kept by triggers
        "text_fts", "text_fts_data", "text_fts_idx", "text_fts_docsize", "text_fts_config",
        # the register's field index (session 19, O2b), the same
        "documents_field_fts", "documents_field_fts_data", "documents_field_fts_idx",
        "documents_field_fts_docsize", "documents_field_fts_config"}


def _count(con, table: str) -> int:  # type: ignore[no-untyped-def]
    # the audit counter at 0
    where = {"audit_auditsequence": " where last <> 0"}.get(table, "")
    return int(con.execute(f'select count(*) from "{table}"{where}').fetchone()[0])  # noqa: S608


def _counts(url: str, skip: frozenset[str] = frozenset(MADE)) -> dict[str, int]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as con:
            names = [n for (n,) in con.execute(
                "select name from sqlite_master where type = 'table' and name not like "
                "'sqlite_%'")]
            return {n: _count(con, n) for n in names if n not in skip}
    import psycopg

    with psycopg.connect(url) as con:
        names = [n for (n,) in con.execute(
            "select tablename from pg_tables where schemaname = 'public'")]
        return {n: _count(con, n) for n in names if n not in skip}


def _kill_at(office: Office, url: str, line: int) -> None:
    """Start migrate-db; SIGKILL it once it has said it copies its ``line``-th table."""
    env = cli_env(office.home, office.base, "admin")
    proc = subprocess.Popen(
        [sys.executable, "-m", "brankas", "migrate-db", "--to", url], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        text=True, cwd=office.base)
    assert proc.stderr is not None
    seen = 0
    for text in proc.stderr:
        seen += text.startswith("menyalin / copying")
        if seen >= line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"finished before the kill (line {line})"


@pytest.mark.parametrize("kind", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)])
def test_killed_mid_copy_leaves_the_target_empty(office: Office, kind: str,
                                                request: pytest.FixtureRequest) -> None:
    if kind == "sqlite":
        # The new SQLite target is given the tables this process migrated, then migrated as
        # always, finding nothing left to apply (conftest.py quick_rebuilds): the empty,
        # migrated target a migration from nothing makes (tests/test_clirun.py), without
        # its CPU-seconds; the copy that is killed is as it was.
        request.getfixturevalue("quick_rebuilds")
    # The PostgreSQL target likewise: a database cloned from the migrated template
    # (tests/pg.py), as a migration from nothing leaves it, which the killed command's
    # migrate finds complete (the migrations on an empty PostgreSQL database, seconds of
    # CPU, are tested by test_migrate_db_pg and test_recover_pg).
    source = office.home / "brankas.sqlite3"
    url = (f"sqlite:///{office.base / 'baru.sqlite3'}" if kind == "sqlite"
           else pg.new_database("killed"))
    for line in (1, 20):  # the first table, and well into the copy
        before = hashlib.sha256(source.read_bytes()).hexdigest()
        _kill_at(office, url, line)
        assert hashlib.sha256(source.read_bytes()).hexdigest() == before
        counts = _counts(url)
        assert counts and not any(counts.values()), (line, counts)
    r = office.cli("migrate-db", "--to", url, "--json", user="admin")
    assert r.returncode == 0, r.stderr
    counts = _counts(url, skip=frozenset({"django_migrations"}))
    for table in r.json()["tables"]:
        assert counts[table["table"]] == table["rows"], table
    assert counts["documents_document"] == len(office.docs)
