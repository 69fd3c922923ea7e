"""scripts/pgcluster.py, the throw-away cluster make test runs the PostgreSQL part on (and
the benchmarks use): ``run -- CMD`` hands CMD a superuser URL that works, returns CMD's
exit status and leaves nothing behind; without PostgreSQL it says so and fails."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _where_postgresql_is_expected() -> None:
    """Run where the PostgreSQL part runs (make test, make test-pg): skipped elsewhere, as
    the other ``postgres`` tests are (tests/pg.py)."""
    from tests import pg

    pg.server_url()

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pgcluster.py"

CHILD = """
import os, sys, time, psycopg
from pathlib import Path
url = os.environ["BRANKAS_TEST_PG_URL"]
ready = Path(os.environ["BRANKAS_TEST_PG_READY"])
for _ in range(3000):  # run --early: started before the cluster is up; the file says when
    if ready.exists() and ready.read_text():
        break
    time.sleep(0.02)
assert ready.read_text() == "ready\\n", ready.read_text()
with psycopg.connect(url) as con:
    con.execute("create table t (n int)")
    con.execute("insert into t values (41)")
    answer = con.execute("select n + 1 from t").fetchone()[0]
from pathlib import Path
print(answer, url, len(list(Path(sys.argv[1]).glob("brankas-pg-*"))))
sys.exit(7)
"""


def test_run_hands_the_command_a_working_cluster_and_cleans_up() -> None:
    """As make test runs it (``run --early``: the command starts at once, the file
    ``BRANKAS_TEST_PG_READY`` names says when the URL answers). Without --early the
    command starts once the cluster is up: the tests below find its server running."""
    # A folder the server's user (postgres or nobody, when the tests run as root) can
    # reach: pytest's own temporary folders are the owner's alone.
    base = Path(tempfile.mkdtemp(prefix="pgcluster-test-"))
    try:
        base.chmod(0o755)
        r = subprocess.run([sys.executable, str(SCRIPT), "run", "--early", "--base", str(base),
                            "--", sys.executable, "-c", CHILD, str(base)], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 7, r.stderr
        answer, url, folders = r.stdout.split()
        assert answer == "42" and url.startswith("postgresql://postgres:")
        assert folders == "1"  # the cluster's folder, in base while CMD ran
        assert "@127.0.0.1:" in url
        assert list(base.iterdir()) == []  # the cluster was there; stopped and removed
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_without_postgresql_run_says_so_and_fails(tmp_path: Path) -> None:
    env = dict(os.environ, BRANKAS_PG_BINDIR=str(tmp_path))
    r = subprocess.run([sys.executable, str(SCRIPT), "run", "--", sys.executable, "-c",
                        "print('ran')"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 3 and r.stdout == ""
    assert "PostgreSQL could not be started" in r.stderr


# initdb failing once the command has started (it waits for the command's mark, up to 60 s)
FAILING = ("#!/bin/sh\ni=0\nwhile [ ! -e {started} ] && [ $i -lt 1200 ]; do sleep 0.05; "
           "i=$((i + 1)); done\necho 'initdb: rusak di sini' >&2\nexit 1\n")
STARTED = """
import sys, time
from pathlib import Path
Path(sys.argv[1]).write_text("started")
time.sleep(120)
"""


def test_early_run_whose_cluster_fails_stops_the_command_and_says_why() -> None:
    """``run --early``: the command runs while the cluster is made; initdb fails: the
    command is stopped, run says why and exits 3, and nothing is left."""
    base = Path(tempfile.mkdtemp(prefix="pgcluster-test-"))
    try:
        base.chmod(0o755)
        bindir = base / "bin"
        bindir.mkdir()
        started = base / "started"
        for name in ("initdb", "pg_ctl"):
            (bindir / name).write_text(FAILING.format(started=shlex.quote(str(started))))
            (bindir / name).chmod(0o755)
        clusters = base / "clusters"
        clusters.mkdir()
        clusters.chmod(0o755)
        r = subprocess.run([sys.executable, str(SCRIPT), "run", "--early", "--base",
                            str(clusters), "--", sys.executable, "-c", STARTED, str(started)],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, BRANKAS_PG_BINDIR=str(bindir)))
        assert r.returncode == 3, r.stderr
        assert "PostgreSQL could not be started" in r.stderr and "rusak di sini" in r.stderr
        assert started.read_text() == "started"  # it ran, and was stopped (run waited)
        assert list(clusters.iterdir()) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


WAITER = """
import os, sys, time
from pathlib import Path
[folder] = Path(sys.argv[1]).glob("brankas-pg-*")
Path(sys.argv[2]).write_text(str(folder))
time.sleep(120)
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_run_ended_by_a_signal_stops_the_cluster() -> None:
    """The terminal closed (SIGHUP): the command ends, the cluster is stopped and its
    folder removed (the runner died at once and left the server running)."""
    signum = signal.SIGHUP
    base = Path(tempfile.mkdtemp(prefix="pgcluster-test-"))
    try:
        base.chmod(0o755)
        said = base / "said"
        proc = subprocess.Popen([sys.executable, str(SCRIPT), "run", "--base", str(base),
                                 "--", sys.executable, "-c", WAITER, str(base), str(said)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        for _ in range(3000):  # the cluster is up and the command runs
            if said.exists() and said.read_text():
                break
            proc.poll()
            assert proc.returncode is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        folder = Path(said.read_text())
        pid_file = folder / "data" / "postmaster.pid"
        server = int(pid_file.read_text().split()[0])
        proc.send_signal(signum)
        assert proc.wait(timeout=120) != 0
        assert not folder.exists()
        with pytest.raises(ProcessLookupError):
            for _ in range(600):  # pg_ctl stop -w waited; the pid is gone at once
                os.kill(server, 0)
                time.sleep(0.1)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="Linux /proc")
def test_the_server_gets_none_of_the_callers_environment() -> None:
    """The server runs as another user (postgres, as root) whose processes can read its
    environment: none of the caller's variables (a token, an outer cluster's URL with its
    password) reach it."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import pgcluster
    finally:
        sys.path.pop(0)
    base = Path(tempfile.mkdtemp(prefix="pgcluster-test-"))
    marker = "BRANKAS_REVIEW_SECRET"
    os.environ[marker] = "rahasia-kantor-1234"
    try:
        base.chmod(0o755)
        cluster = pgcluster.start(base)
        try:
            server = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
            environ = Path(f"/proc/{server}/environ").read_bytes()
            assert b"rahasia-kantor-1234" not in environ
            assert b"BRANKAS_TEST_PG_URL" not in environ
        finally:
            cluster.stop()
    finally:
        del os.environ[marker]
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")
def test_a_cluster_whose_runner_was_killed_is_swept_by_the_next_start() -> None:
    """SIGKILL of ``run`` (or of a process that called start()) leaves its server running
    and its folder behind; the next start in the same base stops and removes it. A
    cluster whose runner lives is left alone."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import pgcluster
    finally:
        sys.path.pop(0)
    base = Path(tempfile.mkdtemp(prefix="pgcluster-test-"))
    try:
        base.chmod(0o755)
        said = base / "said"
        proc = subprocess.Popen([sys.executable, str(SCRIPT), "run", "--base", str(base),
                                 "--", sys.executable, "-c", WAITER, str(base), str(said)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(3000):
            if said.exists() and said.read_text():
                break
            assert proc.poll() is None
            time.sleep(0.1)
        orphan = Path(said.read_text())
        server = int((orphan / "data" / "postmaster.pid").read_text().split()[0])
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its command, not the server
        proc.wait()
        os.kill(server, 0)  # left running
        alive = base / "brankas-pg-alive"  # a cluster's folder whose runner (we) lives
        alive.mkdir()
        (alive / pgcluster.RUNNER).write_text(f"{os.getpid()}\n")
        newest = pgcluster.start(base)
        newest.stop()
        assert not orphan.exists()
        with pytest.raises(ProcessLookupError):
            for _ in range(600):
                os.kill(server, 0)
                time.sleep(0.1)
        assert (alive / pgcluster.RUNNER).exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)
