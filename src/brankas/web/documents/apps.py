from typing import Any

from django.apps import AppConfig

SEARCH_INDEX_MIGRATION = "0006_s16_search_index"


class DocumentsConfig(AppConfig):
    name = "brankas.web.documents"
    label = "documents"

    def ready(self) -> None:
        # After every migrate, whatever the command's other apps: a later migration that
        # remakes the register's table on SQLite (Django's way of changing most columns)
        # drops the change counters' triggers (web/changes.py) and makes the ordering index
        # as the model declares it, narrow (documents 0006 widened it): both made again.
        from django.db.models.signals import post_migrate

        from brankas.web.changes import retrack

        post_migrate.connect(retrack, sender=self, dispatch_uid="brankas.changes.retrack")
        post_migrate.connect(widen_search_index, sender=self,
                             dispatch_uid="brankas.documents.search_index")


def widen_search_index(using: str = "default", **kwargs: Any) -> None:
    """SQLite: the register's ordering index as documents 0006 made it, when that
    migration is applied and the index is not (its table remade since)."""
    import importlib

    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    conn = connections[using]
    if conn.vendor != "sqlite":
        return
    if ("documents", SEARCH_INDEX_MIGRATION) not in MigrationRecorder(conn).applied_migrations():
        return
    made = importlib.import_module(f"{__package__}.migrations.{SEARCH_INDEX_MIGRATION}")
    with conn.cursor() as cursor:
        cursor.execute("SELECT name FROM pragma_index_info(%s) ORDER BY seqno", [made.NAME])
        if [name for (name,) in cursor.fetchall()] == made.WIDE:
            return
        cursor.execute(f'DROP INDEX IF EXISTS "{made.NAME}"')
        cursor.execute(f'CREATE INDEX "{made.NAME}" ON "{made.TABLE}" ('
                       + ", ".join(f'"{c}"' for c in made.WIDE) + ")")
