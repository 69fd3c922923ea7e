"""What differs between the databases Brankas runs on (SQLite, PostgreSQL), in one place.

``reset_sequences``: rows written with their own primary keys (a snapshot loaded by
``recover``, a database copied by ``migrate-db``) leave PostgreSQL's sequences where they
were, and the next row made would take a key already used; SQLite takes the next key from
the table itself and needs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.management.color import no_style
from django.db import connections, models


def reset_sequences(model_list: Iterable[type[models.Model]], using: str = "default") -> None:
    """Move each model's key sequence past its largest key (PostgreSQL; nothing on SQLite)."""
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
