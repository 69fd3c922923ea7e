"""The plans of tests/web/test_indexes.py on PostgreSQL: with sequential scans priced out
(``enable_seqscan = off``: the planner still takes one when no index can serve the query),
no page of the web reads a table from end to end. The search by text: with plain index
scans priced out too (an empty table's cheapest plan walks the ordering index), the
planner can still answer it from the trigram GIN indexes on ``UPPER(column::text)``, the
expression Django's ``icontains`` compares: they match the query."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.web.test_indexes import (  # noqa: F401 (collected here too)
    AUDIT,
    CASES,
    DOCUMENTS,
    IDS,
    REQUESTS,
    _audit,
    _documents,
    test_the_audit_actions_are_every_action_once_in_order,
    test_the_years_are_every_year_with_documents_newest_first,
)

pytestmark = pytest.mark.postgres

TEXT_CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("register search", lambda: _documents(query="rapat"), DOCUMENTS),
    ("audit text", lambda: _audit(text="document"), AUDIT),
]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


@pytest.fixture
def no_seqscan(db: None) -> Iterator[None]:
    yield from _priced_out("enable_seqscan")


@pytest.fixture
def bitmap_only(db: None) -> Iterator[None]:
    yield from _priced_out("enable_seqscan", "enable_indexscan", "enable_indexonlyscan")


def _priced_out(*settings: str) -> Iterator[None]:
    from django.db import connection

    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET {setting} = off")
    yield
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"RESET {setting}")


def pg_plan(qs: Any) -> str:
    return str(qs.explain())


@pytest.mark.parametrize(("name", "make", "table", "index", "ordered"), CASES, ids=IDS)
def test_every_filter_is_served_by_an_index_on_postgresql(
        no_seqscan: None, name: str, make: Callable[[], Any], table: str, index: str,
        ordered: bool) -> None:
    from tests import pg

    assert pg.vendor() == "postgresql"
    plan = pg_plan(make()[:50])
    assert f"Seq Scan on {table}" not in plan, (name, plan)
    assert "Index" in plan, (name, plan)


@pytest.mark.parametrize(("name", "make", "table"), TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_the_search_by_text_uses_the_trigram_indexes(
        bitmap_only: None, name: str, make: Callable[[], Any], table: str) -> None:
    plan = pg_plan(make()[:50])
    assert f"Seq Scan on {table}" not in plan, (name, plan)
    assert "_trgm" in plan, (name, plan)


def test_the_requests_search_uses_the_trigram_indexes(bitmap_only: None) -> None:
    from brankas.web.sendrequests.selectors import request_list
    from tests.web.test_indexes import KASI

    plan = pg_plan(request_list(actor=KASI, query="undangan")[:50])
    assert f"Seq Scan on {REQUESTS}" not in plan, plan
    assert "_trgm" in plan, plan


def test_a_column_without_an_index_is_caught(no_seqscan: None) -> None:
    """The check can fail: a filter on the notes (no index) is a sequential scan even with
    sequential scans priced out."""
    from brankas.web.documents.models import Document

    assert f"Seq Scan on {DOCUMENTS}" in pg_plan(Document.objects.filter(notes="x").order_by())


@pytest.mark.parametrize("name", ["dashboard folder counts",
                                  "dashboard documents only the recovery key opens"])
def test_the_dashboard_counts_read_the_index_alone(no_seqscan: None, name: str) -> None:
    """The dashboard's counts by folder and by recipients: an index-only scan (COUNT(*))."""
    make = {c[0]: c[1] for c in CASES}[name]
    plan = pg_plan(make())
    assert "Index Only Scan" in plan, plan
