"""The review's sealed-field tests (tests/web/keys/test_sealed_review.py) whose queries
differ by database, on PostgreSQL: the revoked-key check of an unlocked key, seal-fields
finding rows that lack a configured field (JSON keys), a request's sealed subject kept."""

from __future__ import annotations

import pytest

from tests.web.keys.test_sealed_review import (  # noqa: F401 (collected here too)
    test_a_revoked_key_unlocked_in_memory_reveals_nothing,
    test_a_sealed_request_subject_is_kept_when_subject_sealing_is_switched_off,
    test_seal_fields_seals_a_field_added_to_the_configuration,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """This module's tests on a PostgreSQL database of its own."""
