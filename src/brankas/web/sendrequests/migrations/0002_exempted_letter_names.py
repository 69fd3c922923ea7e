"""Encrypted letters of requests to send named by their number alone (issue 11).

``permintaan/<year>/P-NNNNN-<slug>.pdf.age`` becomes ``…/P-NNNNN.pdf.age``; only
``letter_path`` and the file's name change, every hash stays (see ``documents.renames``).
"""

import sys

from django.conf import settings
from django.db import migrations


def rename_exempted_letters(apps, schema_editor):  # type: ignore[no-untyped-def]
    from brankas.web.documents.renames import letters_rename

    home = settings.BRANKAS.home
    summary = letters_rename(home=home, request_model=apps.get_model("dispatch", "SendRequest"))
    for line in summary.lines("surat permintaan / request letters"):
        print(f"brankas: {line}", file=sys.stderr)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("dispatch", "0001_initial"),
        ("documents", "0002_exempted_names"),
    ]

    operations = [
        migrations.RunPython(rename_exempted_letters, migrations.RunPython.noop,
                             elidable=False),
    ]
