"""Review of the full-text search (session 19, s19-rev-search): the defects found, each a
test that failed on the merged code (b705d4d), on a real SQLite database (and PostgreSQL
where marked)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.web.text.test_search import agendas, doc, search

pytestmark = pytest.mark.django_db


def test_an_exempted_document_found_by_its_fields_shows_no_snippet_of_its_text(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    """A text row that should never exist for an exempted document (raw SQL, a hostile
    recovered disk): found by its agenda (a field every role searches), its text must not
    come out in a snippet, on the page, in the CLI's rows, to anyone."""
    secret = doc(office, classification="rahasia", subject="tersegel",
                 body="operasi sandi rahasia sekali")
    for who in ("kasi", "kadis", "operator"):
        rows = search(office, f"{secret.agenda} operasi", role=who)
        # (the whole query is no field's substring: only a text would match)
        assert rows == []
        rows = search(office, secret.agenda, role=who)
        assert agendas(rows) == [secret.agenda]
        assert not getattr(rows[0], "snippet", None)
    # the words of an agenda ("S", "00001") in the text: a field match and a text match
    with connection.cursor() as cursor:
        cursor.execute("UPDATE text_documenttext SET body = %s WHERE document_id = %s",
                       [f"nomor {secret.agenda}: operasi sandi rahasia", secret.pk])
    rows = search(office, secret.agenda, role="kadis")
    assert agendas(rows) == [secret.agenda]
    assert not getattr(rows[0], "snippet", None), rows[0].snippet
    page = signed_in("kadis").get("/documents/", {"q": secret.agenda}).content.decode()
    assert secret.agenda in page and "operasi" not in page and 'class="snippet"' not in page
