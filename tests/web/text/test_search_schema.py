"""SQLite: a later migration that remakes the text table drops the index's triggers;
after every migrate (post_migrate) they are made again and the index rebuilt; the index's
tables are no data of their own (a database holding only them is an empty one)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.web.text.test_search import agendas, doc, search

pytestmark = pytest.mark.django_db(transaction=True)


def test_lost_triggers_are_made_again_and_the_index_rebuilt(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text import fts

    with connection.cursor() as cursor:
        for trigger in fts.TRIGGERS:
            cursor.execute(f"DROP TRIGGER {trigger}")
    a = doc(office, body="musyawarah perencanaan pembangunan")
    assert search(office, "musyawarah") == []  # control: without them the index is stale
    fts.repair("default")
    assert agendas(search(office, "musyawarah")) == [a.agenda]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                       "AND tbl_name = 'text_documenttext'")
        assert cursor.fetchone()[0] == len(fts.TRIGGERS)
    from brankas.web.text.models import DocumentText

    DocumentText.objects.filter(document=a).update(body="rapat kerja")  # followed again
    assert search(office, "musyawarah") == [] and agendas(search(office, "kerja")) == [a.agenda]


def test_the_index_tables_are_not_rows_already_there(db) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.databases import rows_already_there
    from brankas.web.text import fts

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {fts.FTS}_config")  # noqa: S608 (our name)
        assert cursor.fetchone()[0] >= 1  # FTS5 keeps its version there from the start
    assert rows_already_there(connection) is None
