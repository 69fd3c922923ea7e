"""tests/web/backup/test_journal_review.py's composition with issue 17's tables on
PostgreSQL (where a changed table's stamp moves on every write)."""

from __future__ import annotations

import pytest

from tests.web.backup.test_journal_review import (  # noqa: F401 (collected here too)
    test_equipment_changes_between_parts_compose_to_the_full_snapshot,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
