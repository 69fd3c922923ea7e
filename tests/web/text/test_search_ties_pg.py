"""tests/web/text/test_search_ties.py on PostgreSQL (its gathered and walked plans)."""

from __future__ import annotations

import pytest

from tests.web import pgoffice
from tests.web.text.test_search_ties import (  # noqa: F401 (collected here too)
    test_equal_scores_keep_newest_first_on_every_page,
)

office, pg_office = pgoffice.office, pgoffice.pg_office  # the office, built once (PostgreSQL)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
