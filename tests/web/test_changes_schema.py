"""The register's change counter survives a later migration that remakes its table.

On SQLite, Django changes most columns (an ``AlterField``; an ``AddField`` with a default,
such as a JSON field ``default=dict``) by making the table again: a new table, the rows
copied, the old one dropped. Dropping a table drops its triggers, so the triggers
web/changes.py counts deletes and updates with are gone, and a figure cached before would be
shown after an update it never saw. Here the table is remade exactly as a migration does
(the operation applied by the schema editor from the migrations' state) and the figures
must still follow every change; the next ``migrate`` puts the triggers back."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from tests.web.test_changes import aggregates_run, fresh, shown
from tests.web.ui.test_query_counts import add_rows

TABLE = "documents_document"
TRIGGERS = {f"{TABLE}_changes_delete", f"{TABLE}_changes_update"}


def triggers_there() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                       [TABLE])
        return {name for (name,) in cursor.fetchall()} & TRIGGERS


def remake_the_register_table() -> None:
    """Two ``AlterField`` of the register's subject (500 -> 501 -> 500 characters), as a
    migration applies them: on SQLite each remakes the table; the schema ends as it was."""
    from django.db import migrations, models
    from django.db.migrations.loader import MigrationLoader

    state = MigrationLoader(connection).project_state()
    for length in (501, 500):
        op = migrations.AlterField("document", "subject", models.CharField(max_length=length))
        after = state.clone()
        op.state_forwards("documents", after)
        with connection.schema_editor() as editor:
            op.database_forwards("documents", editor, state, after)
        state = after


def _put_back() -> None:
    from brankas.web.changes import trigger_sql

    missing = TRIGGERS - triggers_there()
    with connection.cursor() as cursor:
        for statement in trigger_sql("sqlite", TABLE):
            if any(f'"{name}"' in statement for name in missing):
                cursor.execute(statement)


@pytest.fixture
def remade(transactional_db: Any, office: Any) -> Any:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL alters a table in place (its triggers stay)")
    add_rows(office, documents=8, runs=0, audit=0)
    assert shown() == fresh()  # cached under the stamp read now
    assert triggers_there() == TRIGGERS
    remake_the_register_table()
    yield office
    _put_back()
    from brankas.web.documents.apps import widen_search_index

    widen_search_index()


def _recipients_changed() -> None:
    from brankas.web.documents.models import Document

    first = Document.objects.filter(category="dikecualikan").order_by("pk").values("pk")[:1]
    assert Document.objects.filter(pk=first).update(recipients=["age1remade"]) == 1


def test_a_remade_register_table_still_shows_every_change(remade: Any) -> None:
    before = fresh()
    _recipients_changed()
    assert fresh() != before, "the change changes a figure (the test could fail)"
    assert shown() == fresh()


def test_the_next_migrate_counts_changes_again(remade: Any) -> None:
    """After ``migrate`` the triggers are back (the figures are cached again), and a change
    made while they were missing is not hidden by a figure cached before the remake."""
    before = fresh()
    _recipients_changed()  # while the triggers are missing
    assert fresh() != before
    call_command("migrate", verbosity=0)
    assert triggers_there() == TRIGGERS
    assert shown() == fresh()
    assert aggregates_run() == [], "counted again: read once, then kept"
    from brankas.web.documents.models import Document

    Document.objects.filter(category="dikecualikan").update(category="biasa")
    assert shown() == fresh()


def _search_index() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pragma_index_info('doc_registered_idx') ORDER BY seqno")
        return [name for (name,) in cursor.fetchall()]


WIDE = ["registered_at", "seq", "agenda", "number", "subject", "correspondent"]


def test_the_next_migrate_widens_the_search_index_again(remade: Any) -> None:
    """The remade table has its indexes as the model declares them: the register's ordering
    index narrow again (documents 0006 widened it on SQLite for the search by text); the
    next ``migrate`` widens it again."""
    assert _search_index() == ["registered_at", "seq"], "the remake narrows it (can fail)"
    call_command("migrate", verbosity=0)
    assert _search_index() == WIDE
