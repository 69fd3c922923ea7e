# The backup copies' changes counted by the database (web/changes.py): the dashboard's backup
# status, an aggregate over every copy, is computed again only when the copies change.

from django.db import migrations

from brankas.web.changes import changes_tracked


class Migration(migrations.Migration):

    dependencies = [
        ('backup', '0002_run_sealed'),
    ]

    operations = [
        changes_tracked('backup_backupcopy'),
    ]
