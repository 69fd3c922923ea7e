"""The request, report and custody chains (tests/test_chains.py) on PostgreSQL: the same
tests, their services, inboxes and pages on a database of this module's own."""

from __future__ import annotations

import pytest

from tests.test_chains import (  # noqa: F401 (collected here too)
    disk,
    draft_report,
    letter_request,
    people,
    test_the_custody_service_refuses_exactly_what_the_chain_refuses,
    test_the_disk_page_offers_exactly_the_open_moves,
    test_the_report_page_offers_exactly_the_open_steps,
    test_the_report_services_and_inbox_refuse_exactly_what_the_chain_refuses,
    test_the_request_page_offers_exactly_the_open_steps,
    test_the_request_services_and_inbox_refuse_exactly_what_the_chain_refuses,
)
from tests.web import pgoffice

office, pg_office = pgoffice.office, pgoffice.pg_office  # the office, built once (PostgreSQL)
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


def test_this_module_runs_on_postgresql(office) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    from brankas.web.accounts.models import User

    assert connection.vendor == "postgresql" and User.objects.filter(username="admin").exists()
