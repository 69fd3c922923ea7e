# The register's field search of two characters on PostgreSQL (issue 19, session 21;
# web/text/fts.py, "the register's fields (PostgreSQL, 2 chars)"): a GIN index over the
# bigrams of the four searched columns, its function, the table analysed for its
# statistics. Nothing on SQLite. No model state changes: the index is the database's.

from django.db import migrations

from brankas.web.text import fts


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0008_s19_field_fts'),
    ]

    operations = [
        migrations.RunPython(fts.migration_step(fts.bigram_create_sql),
                             fts.migration_step(fts.bigram_drop_sql)),
    ]
