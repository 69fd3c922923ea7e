"""The benchmarks' PostgreSQL is configured as an office server runs it (bench/load.py's
_postgresql, used by the load and search benches): durable, and with PostgreSQL's default
128 MB of shared buffers, not the test cluster's 32 MB (docs/benchmarks.md, "PostgreSQL
search, session 21: the vectors' storage and the buffers")."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _where_postgresql_is_expected() -> None:
    from tests import pg

    pg.server_url()


def test_the_bench_cluster_runs_with_a_servers_settings() -> None:
    import psycopg

    from bench.load import SERVER_SETTINGS, _postgresql

    # A folder the server's user (postgres or nobody, as root) can reach.
    base = Path(tempfile.mkdtemp(prefix="pgcluster-test-"))
    try:
        base.chmod(0o755)
        cluster, url = _postgresql(base)
        try:
            with psycopg.connect(url) as con:
                shown = {name: con.execute(f"SHOW {name}").fetchone()[0]
                         for name in SERVER_SETTINGS}
                database = con.execute("SELECT current_database()").fetchone()[0]
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert database == "brankas_load"
    # Read at the server's start only: in effect because the cluster was restarted.
    assert shown == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
                     "shared_buffers": "128MB"}
