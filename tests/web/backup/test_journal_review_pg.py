"""tests/web/backup/test_journal_review.py on PostgreSQL (where a changed table's stamp
moves on every write): issue 17's tables between parts, backups writing parts, recover
--allow-older's fallback to an older chain, registers after an unrecorded run."""

from __future__ import annotations

import pytest

from tests.web.backup.test_journal_review import (  # noqa: F401 (collected here too)
    test_a_changed_document_writes_whole_registers_and_a_part_not_a_whole_snapshot_too,
    test_a_run_sealed_but_not_recorded_leaves_no_register_rows_twice,
    test_allow_older_falls_back_to_the_newest_usable_chain_not_the_base_alone,
    test_equipment_changes_between_parts_compose_to_the_full_snapshot,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
