"""The access matrix through the services and the web (tests/test_access_matrix.py) on
PostgreSQL, on a database of this module's own: each action as one role it allows and one
it refuses, every role somewhere (``quick_pairs``; the full matrix runs on SQLite: the
role check does not depend on the database, the audited refusal and the records do). The
CLI's pairs read their data folder's SQLite file directly: they stay on SQLite."""

from __future__ import annotations

import pytest

from tests.test_access_matrix import (  # noqa: F401 (fixtures used here)
    ids,
    matrix_office,
    office,
    quick_pairs,
    service_ctx,
)
from tests.test_access_matrix import (
    service_refuses_exactly_the_matrix as services_refuse,
)
from tests.test_access_matrix import (
    web_refuses_exactly_the_matrix as web_refuses,
)

pytestmark = pytest.mark.postgres
PAIRS = quick_pairs()


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


def test_this_module_runs_on_postgresql(office) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from django.db import connection

    from brankas.web.accounts.models import User

    assert connection.vendor == "postgresql" and User.objects.filter(username="admin").exists()


@pytest.mark.parametrize("pair", PAIRS, ids=ids)
def test_the_services_refuse_exactly_the_matrix(service_ctx, pair) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    services_refuse(service_ctx, pair)


@pytest.mark.parametrize("pair", PAIRS, ids=ids)
def test_the_web_refuses_exactly_the_matrix(client, service_ctx, pair) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    web_refuses(client, service_ctx, pair)
