"""The report chain end to end (tests/web/reports/test_services.py) on PostgreSQL: a month
of records, the report drafted, returned, forwarded, approved with its signature and the
audit head it records, then verified."""

from __future__ import annotations

import pytest

from tests.web.reports.test_services import (  # noqa: F401 (collected here too)
    test_the_chain_with_a_return_then_approval_and_verification,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """This module's tests on a PostgreSQL database of its own."""
