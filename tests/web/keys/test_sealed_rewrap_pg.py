"""Sealed register fields (tests/web/keys/test_sealed_rewrap.py) on PostgreSQL: the JSON
column's queries (``sealed={}``), grant, rekey, ``seal_existing`` and a request's sealed
subject carried to its document."""

from __future__ import annotations

import pytest

from tests.web.keys.test_sealed_rewrap import (  # noqa: F401 (collected here too)
    test_a_sealed_request_subject_goes_to_its_document_as_sealed,
    test_grant_opens_sealed_values_to_the_new_holder,
    test_revoke_with_rekey_seals_afresh_without_the_revoked_key,
    test_seal_existing_with_the_recovery_identity,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """This module's tests on a PostgreSQL database of its own."""
