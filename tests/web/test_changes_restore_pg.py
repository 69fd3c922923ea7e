"""PostgreSQL: a database put back from a ``pg_dump`` (docs/server.md, section 5:
``pg_restore --clean`` into the same database) while ``brankas serve`` runs. The dump holds
the change counters as they were, epoch included: counted on from there, the register's
counter comes back to a value it had before the restore, for other contents, and a figure
cached then must not be shown for them."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_changes import fresh, shown
from tests.web.ui.test_query_counts import add_rows

pytestmark = pytest.mark.postgres

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pgcluster.py"


def _bindir() -> Path:
    spec = importlib.util.spec_from_file_location("pgcluster", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.find_bindir())


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


def test_a_figure_cached_before_a_restore_is_not_shown_after_it(
        transactional_db: Any, office: Any, pg_database: str, tmp_path: Path) -> None:
    from django.db import connection

    bindir = _bindir()
    add_rows(office, documents=6, runs=0, audit=0)
    dump = tmp_path / "brankas.dump"
    subprocess.run([str(bindir / "pg_dump"), "--format=custom", f"--file={dump}",
                    pg_database], check=True, capture_output=True)
    add_rows(office, documents=3, runs=0, audit=0)  # after the dump: one INSERT statement
    assert shown() == fresh()  # cached now
    connection.close()
    subprocess.run([str(bindir / "pg_restore"), "--clean", f"--dbname={pg_database}",
                    str(dump)], check=True, capture_output=True)
    add_rows(office, documents=1, runs=0, audit=0)  # no page read meanwhile: the counter
    # is back where the figure was cached (one INSERT statement since the dump, as then)
    assert fresh()["documents"] == 7
    assert shown() == fresh()
