"""``test_snapshot_rows.py`` and ``test_snapshot_hostile.py`` on PostgreSQL: the rows read
through its cursor (aware times, dates, booleans as objects, ``jsonb`` as text) give the
bytes of Django's serializer there too. PostgreSQL's text holds no NUL character (its
``bytea`` does) and keeps a column's length: the hostile texts go there without NUL and
cut to the column."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.backup import test_snapshot_hostile as hostile
from tests.web.backup.test_snapshot_hostile import (  # noqa: F401 (collected here too)
    test_every_model_with_hostile_values_is_byte_for_byte_djangos,
)
from tests.web.backup.test_snapshot_rows import (  # noqa: F401 (collected here too)
    test_each_table_equals_djangos_serializer_and_every_model_is_in_it,
    test_edges_of_the_registers_and_pages_of_rows,
    test_the_big_tables_are_read_as_rows_and_the_others_by_django,
    test_the_registers_from_rows_are_the_registers_row_by_row,
    test_values_stored_in_other_shapes_come_out_as_django_writes_them,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\x01")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


@pytest.fixture(autouse=True)
def _texts_without_nul(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NASTY", "JSON_VALUE"):
        monkeypatch.setattr(hostile, name, _without_nul(getattr(hostile, name)))
    value = hostile._value

    def cut(field: Any, n: int, variant: str) -> Any:
        made = value(field, n, variant)
        if isinstance(made, str) and getattr(field, "max_length", None):
            return made[:field.max_length]
        return made

    monkeypatch.setattr(hostile, "_value", cut)
