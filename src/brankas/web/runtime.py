"""What every app uses from inside Django: the Brankas settings object, one row by its key
or the app's ``NotFound``, and the distinct values of an indexed column."""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Model, QuerySet

from brankas.core.config import Settings
from brankas.core.errors import NotFound

M = TypeVar("M", bound=Model)


def brankas_settings() -> Settings:
    return settings.BRANKAS  # type: ignore[no-any-return]


def get_or_not_found(rows: QuerySet[M], code: str, **key: Any) -> M:
    """The one row of ``rows`` with ``key``, or ``NotFound(code, **key)``."""
    try:
        return rows.get(**key)
    except ObjectDoesNotExist:
        raise NotFound(code, **key) from None


def distinct_values(model: type[Model], column: str, *, descending: bool = False) -> list[Any]:
    """The distinct non-null values of ``column`` (which an index leads with), sorted: a
    loose index scan, one seek per value (the next one after the last found), so the cost
    grows with the number of values, not of rows. DISTINCT reads every index entry (every
    row of a million-entry audit log, for its thirty actions)."""
    table = connection.ops.quote_name(model._meta.db_table)
    col = connection.ops.quote_name(column)
    pick, beyond = ("MAX", "<") if descending else ("MIN", ">")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE found(v) AS ("  # noqa: S608 (names from the model, no input)
            f" SELECT {pick}({col}) FROM {table}"
            f" UNION ALL SELECT (SELECT {pick}({col}) FROM {table} WHERE {col} {beyond} found.v)"
            f" FROM found WHERE found.v IS NOT NULL)"
            f" SELECT v FROM found WHERE v IS NOT NULL")
        return [row[0] for row in cursor.fetchall()]
