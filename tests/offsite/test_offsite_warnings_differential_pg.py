"""Review (s24): tests/offsite/test_offsite_warnings_differential.py and the equipment one on
PostgreSQL (the last push not after now is an aggregate's FILTER there)."""

from __future__ import annotations

import pytest

from tests.offsite.test_offsite_warnings_differential import (  # noqa: F401 (collected here too)
    test_the_warnings_are_main_s_over_generated_records,
)
from tests.web.equipment.test_equipment_warning_items_differential import (  # noqa: F401
    test_the_warnings_are_those_of_every_item_over_generated_registers,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
