"""Exempted archive files named by their agenda number alone (issue 11).

``arsip/dikecualikan/<direction>/<year>/<agenda>-<slug>.pdf.age`` becomes
``…/<agenda>.pdf.age``; only ``stored_path`` and the file's name change, every hash stays.
Not atomic on purpose: each batch of renames is committed as soon as its files are
durable, so a run killed anywhere resumes where it stopped (see ``documents.renames``).
"""

import sys

from django.conf import settings
from django.db import migrations


def rename_exempted(apps, schema_editor):  # type: ignore[no-untyped-def]
    from brankas.web.documents.renames import documents_rename

    home = settings.BRANKAS.home
    summary = documents_rename(home=home, document_model=apps.get_model("documents", "Document"))
    for line in summary.lines("arsip dikecualikan / exempted archive"):
        print(f"brankas: {line}", file=sys.stderr)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("documents", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(rename_exempted, migrations.RunPython.noop, elidable=False),
    ]
