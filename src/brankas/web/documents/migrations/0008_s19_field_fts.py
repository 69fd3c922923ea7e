# The register's field search on SQLite (issue 19, session 19 O2b; web/text/fts.py, "the
# register's fields"): an FTS5 trigram index over the agenda, number, subject and
# correspondent with external content, kept in step by triggers, built from the rows
# already there. Nothing on PostgreSQL (its trigram GIN indexes: 0004). No model state
# changes: the index is the database's, not a Django field.

from django.db import migrations

from brankas.web.text import fts


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0007_s16_sealed'),
    ]

    operations = [
        migrations.RunPython(fts.migration_step(fts.field_create_sql), fts.migration_step(fts.field_drop_sql)),
    ]
