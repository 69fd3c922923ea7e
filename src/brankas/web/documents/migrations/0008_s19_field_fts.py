# The register's field search on SQLite (issue 19, session 19 O2b; web/text/fts.py, "the
# register's fields"): an FTS5 trigram index over the agenda, number, subject and
# correspondent with external content, kept in step by triggers, built from the rows
# already there. Nothing on PostgreSQL (its trigram GIN indexes: 0004). No model state
# changes: the index is the database's, not a Django field.

from django.db import migrations

from brankas.web.text import fts


def _run(statements):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        for statement in statements(schema_editor.connection.vendor):
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0007_s16_sealed'),
    ]

    operations = [
        migrations.RunPython(_run(fts.field_create_sql), _run(fts.field_drop_sql)),
    ]
