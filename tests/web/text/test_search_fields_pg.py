"""tests/web/text/test_search_fields.py on PostgreSQL: the field search (its trigram GIN
indexes) finds what the scan found, and follows every write."""

from __future__ import annotations

import pytest

from tests.web import pgoffice
from tests.web.text.test_search_fields import (  # noqa: F401 (collected here too)
    test_the_field_index_follows_every_write,
    test_the_field_search_finds_what_the_scan_found,
)

office, pg_office = pgoffice.office, pgoffice.pg_office  # the office, built once (PostgreSQL)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
