"""The search by text on PostgreSQL: the ``pg_trgm`` extension its GIN indexes need (the
``*_i15_indexes`` migrations). pg_trgm is a trusted extension: the database's owner may
create it; another role may not, and is told what to do instead of a traceback."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError

from brankas.core.errors import SetupError


def ensure_pg_trgm(schema_editor: Any) -> None:
    """Create ``pg_trgm`` unless the database has it (an administrator may have made it for
    a role that may not); a refusal is a ``SetupError`` naming the fix."""
    connection = schema_editor.connection
    if not schema_editor.collect_sql:  # sqlmigrate prints the statement only
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            if cursor.fetchone():
                return
    try:
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SetupError("pg_trgm_not_allowed", role=connection.settings_dict.get("USER", ""),
                         database=connection.settings_dict.get("NAME", ""),
                         detail=detail) from None


def trigram_indexes(table: str, columns: list[str]) -> Any:
    """The migration operation that gives each of ``columns`` of ``table`` a trigram GIN
    index on PostgreSQL, on the very expression Django's ``icontains`` compares,
    ``UPPER(col::text)`` (nothing on SQLite); reversed by dropping them."""
    from django.db import migrations

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        ensure_pg_trgm(schema_editor)  # a clear refusal when the role may not
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{table}_{column}_trgm" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)')

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_{column}_trgm"')

    return migrations.RunPython(create, drop)
