"""``brankas migrate-db`` from a PostgreSQL instance that is still in use (a server or a
worker left running): another transaction writes the audit log while the move begins.
The move's REPEATABLE READ view cannot take its audit entry after a newer one
(PostgreSQL: "could not serialize access"): refused, naming the cause (it blamed the
target: "cannot be opened or prepared"), nothing kept."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg
import pytest

from tests import pg
from tests.cli.backup.conftest import Office
from tests.cli.backup.test_migrate_db_killed import _counts
from tests.conftest import cli_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_a_source_written_meanwhile_is_refused_naming_the_cause(office: Office) -> None:
    # The PostgreSQL instance: the office moved into a database cloned from the migrated
    # template (tests/pg.py; migrations from nothing: test_migrate_db_pg)
    source = pg.new_database("busy_source")
    r = office.cli("migrate-db", "--to", source, user="admin")
    assert r.returncode == 0, r.stderr
    target = office.base / "kembali.sqlite3"
    env = cli_env(office.home, office.base, "admin", {"BRANKAS_DATABASE_URL": source})
    name = source.rsplit("/", 1)[1]
    with psycopg.connect(source) as writer, \
            psycopg.connect(pg.server_url(), autocommit=True) as watch, \
            psycopg.connect(source, autocommit=True) as look:
        (last,) = look.execute("select max(seq) from audit_auditevent").fetchone()
        proc = subprocess.Popen(
            [sys.executable, "-m", "brankas", "migrate-db", "--to", f"sqlite:///{target}"],
            env=env, cwd=office.base, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        for _ in range(100_000):  # the admin signed in (an audit entry): the move begins
            (now,) = look.execute("select max(seq) from audit_auditevent").fetchone()
            if now > last or proc.poll() is not None:
                break
            time.sleep(0.005)
        # A server's transaction, writing the audit log (the counter row locked).
        writer.execute("update audit_auditsequence set last = last + 1 where id = 1")
        for _ in range(100_000):  # the move waits for the counter row
            (waiting,) = watch.execute(
                "select count(*) from pg_stat_activity where datname = %s and "
                "wait_event_type = 'Lock'", (name,)).fetchone()
            if waiting or proc.poll() is not None:
                break
            time.sleep(0.01)
        writer.commit()
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out + err
    assert "changed while" in err and "stop brankas serve" in err, err
    assert "cannot be opened" not in err, err
    assert not any(_counts(f"sqlite:///{target}").values())
