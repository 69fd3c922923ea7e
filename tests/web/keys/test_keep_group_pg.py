"""The grant's group recording (tests/web/keys/test_keep_group.py,
test_group_sync_failure.py) on PostgreSQL: the superseded rows inserted together (rows
returned by the bulk insert), a changed record refused alone without a savepoint in a
transaction PostgreSQL would abort on any error, a failed fsync failing its file alone, a grantee
revoked meanwhile caught at the recording (the readers' key rows locked)."""

from __future__ import annotations

import pytest

from tests.web.keys.test_grant_revoked_in_group import (  # noqa: F401 (collected here too)
    test_no_file_is_recorded_to_a_grantee_revoked_meanwhile,
)
from tests.web.keys.test_group_sync_failure import (  # noqa: F401 (collected here too)
    test_a_grant_failing_while_its_group_fsync_runs_leaves_nothing,
    test_an_fsync_failing_for_one_file_fails_that_file_alone,
    test_keep_rewrapped_many_refuses_only_the_file_whose_fsync_failed,
)
from tests.web.keys.test_keep_group import (  # noqa: F401 (collected here too)
    test_a_grant_publishes_only_files_fsynced_after_they_were_written,
    test_a_group_moves_each_files_own_disk_copies_and_refuses_a_changed_one,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """This module's tests on a PostgreSQL database of its own."""
