"""tests/web/text/test_search_rank.py on PostgreSQL (ts_rank after the window is cut)."""

from __future__ import annotations

import pytest

from tests.web import pgoffice
from tests.web.text.test_search_rank import (  # noqa: F401 (collected here too)
    test_both_ways_to_the_window_give_the_reference_order,
    test_the_content_order_is_the_reference_order,
)

office, pg_office = pgoffice.office, pgoffice.pg_office  # the office, built once (PostgreSQL)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
