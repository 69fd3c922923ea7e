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


def test_more_hostile_queries_are_queries(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    """Each of MORE_HOSTILE searched and asked for on the register's page, against the
    same office, document and signed-in client (read only: one query's search changes
    nothing another finds; one test instead of one a query, each with the same set-up);
    every query that went wrong is listed, not only the first."""
    from brankas.web.text.fts import words

    a = doc(office, body="rapat koordinasi daerah")
    client = signed_in("kasi")
    wrong = []
    for query in MORE_HOSTILE:
        try:
            rows = search(office, query)
            found = {w.lower() for w in words(query)}
            if found and found <= {"rapat", "koordinasi", "daerah"}:
                assert a.agenda in agendas(rows), "not found"
            status = client.get("/documents/", {"q": query}).status_code
            assert status == 200, f"the page: {status}"
        except Exception as exc:  # noqa: BLE001 - listed with its query
            wrong.append(f"{query[:40]!r}: {type(exc).__name__}: {str(exc)[:300]}")
    assert wrong == [], "\n".join(wrong)


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


def test_a_role_refused_list_gets_nothing_and_the_refusal_is_audited_without_the_query(
        office, signed_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every role may ``list`` today; were one refused (the matrix is the office's policy),
    the search gives it nothing, page or selector, and the refusal is audited: without
    the query's text (a query can itself be sensitive: a name, a case)."""
    from brankas.core import access
    from brankas.core.errors import AccessDenied
    from brankas.web.audit.models import AuditEvent
    from brankas.web.text.selectors import document_search

    doc(office, subject="Perkara Budi", body="kasus rahasia budi santoso")
    monkeypatch.setitem(access.MATRIX, access.Action.LIST,
                        access.MATRIX[access.Action.LIST] - {access.Role.KASI})
    with pytest.raises(AccessDenied):
        document_search(actor=office.users["kasi"], query="budi santoso", via="cli")
    response = signed_in("kasi").get("/documents/", {"q": "budi santoso"})
    body = response.content.decode()
    assert response.status_code == 403, body
    assert "Perkara" not in body and "kasus" not in body  # (its own query: the page's URL)
    denied = AuditEvent.objects.filter(outcome="denied", actor="kasi")
    assert denied.count() == 2
    for event in denied:
        assert "santoso" not in str(event.target) + str(event.detail)


def test_every_slice_across_both_tiers_and_the_ranked_window_is_one_order(
        office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Field matches, then the ranked window (RANKED made 5), then older content matches:
    every slice [a:b] of the results, with a filter, is the same cut of one order, and its
    count that slice's length (the pager's reads)."""
    from brankas.web.text import selectors

    monkeypatch.setattr(selectors, "RANKED", 5)
    made = []
    for i in range(24):
        direction = "pengiriman" if i % 4 else "penerimaan"
        if i % 6 == 0:
            made.append(doc(office, subject=f"Arsip {i}", body="arsip" if i % 12 else None,
                            direction=direction))
        else:
            made.append(doc(office, body="arsip " * (1 + i % 3) + "lain", direction=direction))
    results = selectors.document_search(actor=office.users["kasi"], query="arsip",
                                        direction="pengiriman")
    whole = [d.pk for d in results[0:None]]
    within = [d for d in made if d.direction == "pengiriman"]
    assert sorted(whole) == sorted(d.pk for d in within) and results.count() == len(whole)
    fields = [d.pk for d in sorted(within, key=lambda d: d.registered_at, reverse=True)
              if d.subject.startswith("Arsip")]
    assert whole[:len(fields)] == fields
    content = sorted((d.pk for d in within if d.pk not in fields), reverse=True)
    assert whole[len(fields) + 5:] == content[5:]  # past the window: newest first
    n = len(whole)
    for a in range(n + 2):
        for b in range(a, n + 3):
            got = results[a:b]
            assert [d.pk for d in got] == whole[a:b], (a, b)
            assert results[a:b].count() == len(whole[a:b]), (a, b)


def test_markup_in_a_text_is_text_on_the_page(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    body = ('rapat "><img src=x onerror=alert(1)> \' onmouseover=\'alert(2) '
            "</mark><script>alert(3)</script> &lt;script&gt; &amp; &#x3C;b&#x3E; rapat")
    a = doc(office, body=body)
    page = signed_in("kasi").get("/documents/", {"q": "rapat"}).content.decode()
    assert a.agenda in page
    snippet = page[page.index('<div class="snippet">'):]
    snippet = snippet[:snippet.index("</div>")]
    assert "<img" not in snippet and "<script" not in snippet and "onmouseover='" not in snippet
    assert "</mark><script>" not in snippet
    assert snippet.count("<mark>") == snippet.count("</mark>") >= 1
    if connection.vendor == "sqlite":  # the entities as written, escaped once more
        assert "&amp;lt;script&amp;gt;" in snippet and "&amp;#x3C;b&amp;#x3E;" in snippet


def test_a_snippet_is_whole_characters(office) -> None:  # type: ignore[no-untyped-def]
    """FTS5 cuts a snippet at token edges (bytes): never inside a character of several
    bytes, a combining sequence or an emoji of several code points."""
    words = ["ñandú", "😀👍🏽", "e\u0301te\u0301", "中文字", "𝒜𝒷𝒸", "🏳️‍🌈", "ﷺ", "ｋｏ"]
    body = " ".join(words * 12) + " rapat " + " ".join(reversed(words * 12))
    doc(office, body=body)
    (row,) = search(office, "rapat")
    snippet = row.snippet
    assert "\ufffd" not in snippet and "rapat" in snippet
    snippet.encode("utf-8")  # no lone surrogate
    from brankas.web.text.fts import START, STOP

    for piece in snippet.replace(START, " ").replace(STOP, " ").replace("…", " ").split():
        assert piece in words or piece == "rapat", piece


def test_a_decomposed_query_finds_what_the_composed_one_finds(office) -> None:  # type: ignore[no-untyped-def]
    """Texts are stored NFC (core/text/normalise.py), the register's fields as typed in a
    browser (NFC); a query typed or pasted decomposed (macOS, some PDFs: "e" + U+0301) is
    the same words."""
    field = doc(office, subject="Undangan ke Café Dinas", body=None)
    text = doc(office, body="rapat di Café dinas kesehatan")
    composed = agendas(search(office, "Café"))
    assert sorted(composed) == sorted([field.agenda, text.agenda])
    assert agendas(search(office, "Cafe\u0301")) == composed


def test_the_index_is_not_in_the_backup_snapshot(office) -> None:  # type: ignore[no-untyped-def]
    """The snapshot holds the texts (rows of models), never the FTS5 index's tables: a
    recover inserts the texts and its triggers index them."""
    from brankas.web.backup.snapshot import snapshot_bytes

    doc(office, body="rapat koordinasi penanganan stunting")
    data = snapshot_bytes()
    assert b"stunting" in data and b"text_fts" not in data and b"search_vector" not in data
