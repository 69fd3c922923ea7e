"""A grant or rekey cut short in a sealed batch, and what runs beside a grant
(tests/web/keys/test_grant_cut_short.py, test_grant_meanwhile.py) on PostgreSQL: the
batches' row locks and transactions, the per-batch audit entries."""

from __future__ import annotations

import pytest

from tests.web.keys.test_grant_cut_short import (  # noqa: F401 (collected here too)
    test_a_grant_cut_short_in_a_sealed_batch_is_audited_with_what_it_did,
    test_a_rekey_cut_short_in_a_sealed_batch_is_audited_and_resumes,
)
from tests.web.keys.test_grant_meanwhile import (  # noqa: F401 (collected here too)
    test_registered_and_revoked_while_a_grant_runs,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """This module's tests on a PostgreSQL database of its own."""
