"""tests/web/text/test_search_review.py on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.web import pgoffice
from tests.web.text.test_search_review import (  # noqa: F401 (collected here too)
    test_a_decomposed_query_finds_what_the_composed_one_finds,
    test_a_role_refused_list_gets_nothing_and_the_refusal_is_audited_without_the_query,
    test_a_snippet_is_whole_characters,
    test_a_text_carrying_the_snippet_marks_makes_no_false_match,
    test_an_exempted_document_found_by_its_fields_shows_no_snippet_of_its_text,
    test_every_slice_across_both_tiers_and_the_ranked_window_is_one_order,
    test_markup_in_a_text_is_text_on_the_page,
    test_more_hostile_queries_are_queries,
)

office, pg_office = pgoffice.office, pgoffice.pg_office  # the office, built once (PostgreSQL)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
