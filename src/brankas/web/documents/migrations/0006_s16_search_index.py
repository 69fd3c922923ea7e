# The register's search by text on SQLite (issue 15 C). A substring (``icontains``: LIKE
# '%word%') has no B-tree index: the search reads the register in its order and tests every
# row. Read from the table, that is every column of every row (100,000 rows: about 60 ms of
# CPU for a word found nowhere); read from an index that also holds the four searched
# columns, only those (about 25 ms), and SQLite tests an index entry before it reads the row.
# So on SQLite the register's ordering index (registered_at, seq) is widened by the searched
# columns, under the same name: the same order for every page, the search tested in the index.
# The index holds the columns as the table holds them (no new copy of any text: a column that
# is stored encrypted is indexed encrypted). PostgreSQL: the trigram indexes (0004).

from django.db import migrations

NAME, TABLE = "doc_registered_idx", "documents_document"
WIDE = ["registered_at", "seq", "agenda", "number", "subject", "correspondent"]
NARROW = ["registered_at", "seq"]


def _index(columns: list[str]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "sqlite":
            return
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')
        schema_editor.execute(f'CREATE INDEX "{NAME}" ON "{TABLE}" ('
                              + ", ".join(f'"{c}"' for c in columns) + ")")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0005_s16_document_changes'),
    ]

    operations = [
        migrations.RunPython(_index(WIDE), _index(NARROW)),
    ]
