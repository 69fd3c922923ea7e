# The register's changes counted by the database (web/changes.py): the dashboard's figures
# over every document (the folder counts, the exempted documents by recipients) are computed
# again only when the register changes; a registration shows at once.

from django.db import migrations

from brankas.web.changes import changes_tracked


class Migration(migrations.Migration):

    dependencies = [
        ('documents', '0004_i15_indexes'),
    ]

    operations = [
        changes_tracked('documents_document'),
    ]
