"""tests/web/text/test_search_page_queries.py on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.web.text.test_search_page_queries import (  # noqa: F401 (collected here too)
    test_the_search_page_reads_no_user_per_row,
)

pytestmark = [pytest.mark.postgres]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
