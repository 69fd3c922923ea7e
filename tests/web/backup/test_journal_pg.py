"""tests/web/backup/test_journal.py's composition on PostgreSQL: there the change stamp
counts every write (a statement trigger), so a changed table is written whole and an
unchanged one left out; the base and its parts still compose to the full snapshot."""

from __future__ import annotations

import pytest

from tests.web.backup.test_journal import (  # noqa: F401 (collected here too)
    test_a_base_and_its_parts_compose_to_the_full_snapshot_of_that_moment,
    test_parts_out_of_place_or_malformed_are_refused,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
