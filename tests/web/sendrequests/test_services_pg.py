"""The request chain end to end (tests/web/sendrequests/test_services.py) on PostgreSQL:
a request assigned down the chain, returned, received, registered and sent; an exempted
letter stored encrypted and registered as it is."""

from __future__ import annotations

import pytest

from tests.web.sendrequests.test_services import (  # noqa: F401 (collected here too)
    test_an_exempted_letter_is_stored_encrypted_and_registered_as_is,
    test_the_whole_chain_with_a_return,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """This module's tests on a PostgreSQL database of its own."""
