# The full-text index over the documents' texts (issue 19; web/text/fts.py): SQLite an FTS5
# table with external content kept in step by triggers, PostgreSQL a generated tsvector
# column (the ``indonesian`` configuration) with a GIN index. Built from the rows already
# there. No model state changes: the index is the database's, not a Django field.

from django.db import migrations

from brankas.web.text import fts


class Migration(migrations.Migration):

    dependencies = [
        ('text', '0001_s19_text'),
    ]

    operations = [
        migrations.RunPython(fts.migration_step(fts.create_sql), fts.migration_step(fts.drop_sql)),
    ]
