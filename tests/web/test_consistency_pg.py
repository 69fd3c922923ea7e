"""web/consistency.py on PostgreSQL: what another connection commits while ``one_view``
reads is not in its view (REPEATABLE READ), as it is in a plain transaction's (READ
COMMITTED, PostgreSQL's default: what the backup's snapshot read had before)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import transaction

from brankas.web.consistency import one_view

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """This module's tests on a PostgreSQL database of its own."""


def _commit_elsewhere(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("update audit_auditsequence set last = last + 1 where id = 1")


def _counter() -> int:
    from brankas.web.audit.models import AuditSequence

    return int(AuditSequence.objects.get(id=1).last)


def test_one_view_does_not_see_what_commits_while_it_reads(pg_database, transactional_db) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():  # READ COMMITTED: each statement sees the latest commits
        before = _counter()
        _commit_elsewhere(pg_database)
        assert _counter() == before + 1
    with one_view():
        before = _counter()
        _commit_elsewhere(pg_database)
        assert _counter() == before  # the view of the first read
    assert _counter() == before + 1
