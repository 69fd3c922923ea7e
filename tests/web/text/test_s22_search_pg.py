"""tests/web/text/test_s22_search.py on PostgreSQL, and the window's settings in one query
string with it in autocommit (a web request, the CLI): in effect for the window's
statement, gone after it, and after its error."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.web.text.test_s22_search import (  # noqa: F401 (collected here too)
    _settings,
    test_s22_a_long_whole_text_is_headlined_by_the_database,
    test_s22_a_page_of_results_shows_the_same_snippets,
    test_s22_snippets_of_known_matches_are_the_same,
    test_s22_the_estimate_and_the_texts_number_in_one_statement,
    test_s22_the_snippets_of_a_page_take_two_statements,
    test_s22_with_no_field_match_the_window_tests_no_field,
)

pytestmark = [pytest.mark.postgres]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


@pytest.mark.django_db(transaction=True)
def test_s22_the_window_settings_hold_for_its_statement_only_in_autocommit() -> None:
    from django.db.utils import DataError
    from django.test.utils import CaptureQueriesContext

    from brankas.web.text.selectors import _serial

    assert connection.get_autocommit() and not connection.in_atomic_block
    before = _settings()
    assert before != ("off", "0")
    probe = ("SELECT 1, current_setting('max_parallel_workers_per_gather')::float8 "
             "WHERE current_setting('jit') = 'off'")
    with CaptureQueriesContext(connection) as queries:
        assert _serial(probe, []) == [(1, 0.0)]
    assert len(queries.captured_queries) == 1  # one round trip: no BEGIN, no ROLLBACK
    assert _settings() == before
    with pytest.raises(DataError):  # its error: the implicit transaction rolled back
        _serial("SELECT 1, 1 / (0 * %s)", [1])
    assert _settings() == before
    assert connection.get_autocommit() and not connection.in_atomic_block
    # the plan of a window is serial in that string
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('max_parallel_workers_per_gather', '0', true); "
                       "SHOW max_parallel_workers_per_gather")
        cursor.nextset()
        assert cursor.fetchone() == ("0",)
    assert _settings() == before


@pytest.mark.django_db
def test_s22_in_a_callers_transaction_the_window_keeps_its_savepoint(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text.selectors import _serial

    before = _settings()
    probe = ("SELECT 1, current_setting('max_parallel_workers_per_gather')::float8 "
             "WHERE current_setting('jit') = 'off'")
    assert _serial(probe, []) == [(1, 0.0)]
    assert _settings() == before
