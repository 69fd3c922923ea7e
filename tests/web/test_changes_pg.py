"""tests/web/test_changes.py on PostgreSQL: the change counter is a statement-level
trigger there (every INSERT, UPDATE, DELETE and TRUNCATE of the table)."""

from __future__ import annotations

import pytest

from tests.web.test_changes import (  # noqa: F401 (collected here too)
    test_a_transaction_s_own_writes_are_not_kept,
    test_the_figures_follow_every_change_at_once,
    test_the_stamp_would_catch_a_forgotten_change,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
