"""tests/web/text/test_search_s23.py on PostgreSQL: the bodies' bounds in bytes
(``octet_length``) give the database's own headline of a whole text, and the register page
reads its results without their registrant there too."""

from __future__ import annotations

import pytest

from tests.web.text.test_search_s23 import (  # noqa: F401 (collected here too)
    test_s23_review_a_text_of_fewer_characters_than_the_bound_but_more_bytes_is_excerpted,
    test_s23_texts_wider_in_bytes_than_in_characters_give_the_same_snippets,
    test_s23_the_register_page_reads_its_results_without_their_registrant,
)

pytestmark = [pytest.mark.postgres]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
