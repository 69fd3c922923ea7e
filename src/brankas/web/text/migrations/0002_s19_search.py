# The full-text index over the documents' texts (issue 19; web/text/fts.py): SQLite an FTS5
# table with external content kept in step by triggers, PostgreSQL a generated tsvector
# column (the ``indonesian`` configuration) with a GIN index. Built from the rows already
# there. No model state changes: the index is the database's, not a Django field.

from django.db import migrations

from brankas.web.text import fts


def _run(statements):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        for statement in statements(schema_editor.connection.vendor):
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('text', '0001_s19_text'),
    ]

    operations = [
        migrations.RunPython(_run(fts.create_sql), _run(fts.drop_sql)),
    ]
