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


MORE_HOSTILE = [
    "body : rapat", "rapat:", "^", "^^rapat", "NEAR(rapat koordinasi, 2)", "NEAR/2",
    "rapat NEAR/2 koordinasi", "rapat +koordinasi", "+", "-rapat", "rapat -", '"rapat" "',
    '"""', "'rapat'", "((((((((((rapat))))))))))", "(" * 5000, "\\\\", "rapat\\",
    "\\\"rapat\\\"", "rаpat",  # Cyrillic а: a confusable, another word
    "rapat\u0301", "\u0301\u0301", "ｒａｐａｔ", "\u202erapat\u202c",
    "\u05e9\u05dc\u05d5\u05dd rapat",
    "👍🏽 rapat", "🏳️‍🌈", "rapat%00koordinasi", "rapat & koordinasi", "rapat | koordinasi",
    "!rapat", "rapat <-> koordinasi", "rapat <2> koordinasi", "rapat:*", "rapat:A", "''",
    "!!&&||", ".,;:!?", "-" * 300, "\t\n\r", "\ufeff", "\ue000rapat\ue001", "²", "Ⅻ",
    "rapat " + "koordinasi " * 20, "x" * 70 + " rapat",
]


@pytest.mark.parametrize("query", MORE_HOSTILE, ids=[repr(q)[:30] for q in MORE_HOSTILE])
def test_more_hostile_queries_are_queries(office, signed_in, query: str) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text.fts import words

    a = doc(office, body="rapat koordinasi daerah")
    rows = search(office, query)
    found = {w.lower() for w in words(query)}
    if found and found <= {"rapat", "koordinasi", "daerah"}:
        assert a.agenda in agendas(rows)
    assert signed_in("kasi").get("/documents/", {"q": query}).status_code == 200


def test_a_text_carrying_the_snippet_marks_makes_no_false_match(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    """The marks a snippet's matches come between are private-use characters, which a
    born-digital PDF's text layer may carry (fonts map unnamed glyphs there, from U+E000):
    the text's own must neither mark a word that did not match nor swallow text."""
    from brankas.web.text.fts import snippet_html, snippet_text

    a = doc(office, body="\ue000gratis\ue001 rapat \ue001koordinasi\ue000 daerah")
    (row,) = search(office, "rapat")
    html = snippet_html(row.snippet)
    assert html.count("<mark>") == 1 and "<mark>rapat</mark>" in html, html
    assert "gratis" in html and "koordinasi" in html and "daerah" in html, html
    assert "«gratis»" not in snippet_text(row.snippet)
    page = signed_in("kasi").get("/documents/", {"q": "rapat"}).content.decode()
    assert a.agenda in page and "<mark>gratis</mark>" not in page
