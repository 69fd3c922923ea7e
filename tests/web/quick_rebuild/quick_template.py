"""One ``migrate`` that first gives a new, empty SQLite database the tables of a migrated
one, then migrates as always (finding nothing left to apply). Used by the browser tests'
servers (tests/browser/quick_serve.py) and by the rebuild processes of
``sitecustomize.py`` beside this file, which imports it as a top-level module (this folder
is on those processes' ``PYTHONPATH``; the ``tests`` package may not be): so it imports
nothing at module level."""


def from_template(template: str, migrate):  # type: ignore[no-untyped-def]
    def migrate_from_template(database: str = "default") -> None:
        import sqlite3

        from django.db import connections

        connection = connections[database]
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM sqlite_master")
                empty = cursor.fetchone()[0] == 0
            if empty:
                source = sqlite3.connect(template)
                try:
                    source.backup(connection.connection)
                finally:
                    source.close()
        migrate(database)

    return migrate_from_template
