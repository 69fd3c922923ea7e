"""tests/web/text/test_search_review_s20.py on PostgreSQL (both ways to the window)."""

from __future__ import annotations

import pytest

from tests.web import pgoffice
from tests.web.text.test_search_review_s20 import (  # noqa: F401 (collected here too)
    test_a_query_in_no_field_excludes_nothing_from_the_content,
    test_both_ways_give_one_order_with_ties_missing_texts_and_exempted_rows,
    test_counts_at_the_window_edge_are_exact_or_capped,
    test_every_result_of_a_search_without_a_limit_gets_its_snippet_past_the_bound_variables,
    test_snippets_of_ids_far_apart_are_theirs_only,
    test_the_estimate_is_read_for_any_words_and_chooses_both_ways,
)

office, pg_office = pgoffice.office, pgoffice.pg_office  # the office, built once (PostgreSQL)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
