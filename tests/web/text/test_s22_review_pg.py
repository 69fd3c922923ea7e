"""tests/web/text/test_s22_review.py on PostgreSQL: in autocommit, as a web request and
the CLI run it (the window's settings and statement in one query string), and inside a
caller's transaction; the settings never outlive the window."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from tests.web.text.test_s22_review import SOME, _corpus, _main_way, _seen
from tests.web.text.test_s22_search import _settings

pytestmark = [pytest.mark.postgres]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


@pytest.mark.django_db(transaction=True)
def test_s22_review_the_search_is_main_s_in_autocommit(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _corpus(office)
    before = _settings()
    assert connection.get_autocommit() and not connection.in_atomic_block
    branch = _seen(office)
    assert _settings() == before
    with monkeypatch.context() as m:
        _main_way(m)
        main = _seen(office)
    for key in branch:
        assert branch[key] == main[key], key
    # inside a caller's transaction (the savepoint path), the same, settings gone after
    with transaction.atomic():
        inside = _seen(office, SOME)
        assert _settings() == before
    assert inside == {key: branch[key] for key in inside}
    assert _settings() == before


@pytest.mark.django_db(transaction=True)
def test_s22_review_settings_end_with_an_error_inside_a_transaction(office) -> None:  # type: ignore[no-untyped-def]
    from django.db.utils import DataError

    from brankas.web.text.selectors import _serial

    before = _settings()
    with transaction.atomic():
        with pytest.raises(DataError):
            _serial("SELECT 1, 1 / (0 * %s)", [1])
        assert _settings() == before  # the window's savepoint rolled back with its error
        assert _serial("SELECT 1, %s::float8", [2]) == [(1, 2.0)]
    assert _settings() == before
    # a hostile value through the one query string is a value, never a statement
    hostile = "x'); SELECT set_config('jit', 'off', false); --\\"
    assert _serial("SELECT 1, length(%s)::float8", [hostile]) == [(1, float(len(hostile)))]
    assert _settings() == before


@pytest.mark.django_db(transaction=True)
def test_s22_review_the_search_works_with_server_side_binding(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``BRANKAS_DATABASE_URL=postgresql://...?server_side_binding=true`` (Django's option,
    parsed by dj-database-url): psycopg prepares each statement, one command a statement;
    the search is main's there too (no query string of two statements)."""
    _corpus(office)
    branch = _seen(office, SOME)
    before = _settings()
    connection.close()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    try:
        bound = _seen(office, SOME)
        assert _settings() == before
    finally:
        connection.close()
    assert bound == branch
