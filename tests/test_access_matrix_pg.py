"""The access matrix through the services and the web (tests/test_access_matrix.py) on
PostgreSQL: the same pairs, on a database of this module's own. (The CLI's pairs read the
SQLite file of their data folder directly: they stay on SQLite.)"""

from __future__ import annotations

import pytest

from tests.test_access_matrix import (  # noqa: F401 (collected here too)
    matrix_office,
    office,
    service_ctx,
    test_the_services_refuse_exactly_the_matrix,
    test_the_web_refuses_exactly_the_matrix,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


def test_this_module_runs_on_postgresql(office) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from django.db import connection

    from brankas.web.accounts.models import User

    assert connection.vendor == "postgresql" and User.objects.filter(username="admin").exists()
