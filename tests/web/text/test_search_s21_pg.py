"""tests/web/text/test_search_s21.py on PostgreSQL: two characters narrowed by the
bigram index find what the scan found, and the index follows every write; the snippets
of long texts (headlines of an excerpt) mark a match."""

from __future__ import annotations

import pytest

from tests.web import pgoffice
from tests.web.text.test_search_s21 import (  # noqa: F401 (collected here too)
    test_a_common_bigram_is_found_by_the_scan,
    test_every_snippet_marks_a_match,
    test_the_bigram_index_follows_every_write,
    test_the_window_runs_without_parallel_workers_or_jit,
    test_two_characters_find_what_the_scan_found,
)

office, pg_office = pgoffice.office, pgoffice.pg_office  # the office, built once (PostgreSQL)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
