"""``brankas recover`` into PostgreSQL killed (SIGKILL) midway: the database is left
holding no row (its one transaction never committed), nothing is left in NEW, and the
next recover into the same database completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from tests import pg
from tests.cli.backup.conftest import Office
from tests.cli.backup.test_migrate_db_killed import _counts
from tests.conftest import cli, cli_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(os.name == "nt", reason="SIGKILL")]


def test_recover_killed_midway_leaves_the_database_empty(office: Office) -> None:
    url = pg.empty_database("recover_killed")
    home = office.base / "rumah"
    env = cli_env(home, office.base, None, {"BRANKAS_DATABASE_URL": url})
    proc = subprocess.Popen(
        [sys.executable, "-m", "brankas", "recover", str(office.disk), "--home", str(home),
         "--identity", str(office.recovery_file)], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=office.base)
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(pg.server_url(), autocommit=True) as watch:
        for _ in range(100_000):  # killed once its transaction has written a row
            (writing,) = watch.execute(
                "select count(*) from pg_stat_activity where datname = %s and "
                "backend_xid is not null", (name,)).fetchone()
            if writing or proc.poll() is not None:
                break
            time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    counts = _counts(url)
    assert not any(counts.values()), counts
    assert not home.exists() or not any(home.iterdir())
    r = cli(home, office.base, "recover", str(office.disk), "--home", str(home),
            "--identity", str(office.recovery_file), "--json",
            env={"BRANKAS_DATABASE_URL": url})
    assert r.returncode == 0, r.stderr
    assert _counts(url)["documents_document"] == len(office.docs)
