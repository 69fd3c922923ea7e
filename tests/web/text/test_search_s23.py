"""The register's search page, session 23 (the page of a search on PostgreSQL at 100,000
documents): the same page for less work. The snippets' marks replaced in one pass where a
snippet is well formed (``fts.marked``, ``snippet_html``, ``snippet_text``: checked here
against the general way, character by character, on hostile snippets); the bodies' pass
bounds a text by its stored bytes (``octet_length``: no decompression), so a text of
fewer characters than bytes (not ASCII) near a bound takes another path to the same
snippet; the register page reads its results without their registrant (no user joined
and built per row), the CLI's with it. On both databases (test_search_s23_pg.py)."""

from __future__ import annotations

import random
from html import escape

import pytest
from django.db import connection

from tests.web.text.test_search import agendas, doc, search

START, STOP = "\ue000", "\ue001"


def _marked_general(snippet: str, marks: tuple[str, str]) -> str:
    """``fts.marked``'s general way (session 21), the reference."""
    start, stop = marks
    return START.join(STOP.join(part.replace(START, "").replace(STOP, "")
                                for part in piece.split(stop))
                      for piece in snippet.split(start))


def _html_general(snippet: str) -> str:
    from brankas.web.text.fts import marked_parts

    return "".join(f"<mark>{escape(t)}</mark>" if hit else escape(t)
                   for t, hit in marked_parts(snippet))


def _text_general(snippet: str, start: str = "«", stop: str = "»") -> str:
    from brankas.web.text.fts import marked_parts

    return "".join(f"{start}{t}{stop}" if hit else t for t, hit in marked_parts(snippet))


def _snippets(count: int) -> list[str]:
    """Hostile snippets: words, HTML's characters, the marks themselves (stray, nested,
    empty, unclosed), a tag's characters and the private-use character after it."""
    rnd = random.Random(23)
    pieces = ["rapat", " ", "<b>", "&amp;", '"', "'", "é", "…", START, STOP, START, STOP,
              "\ue002", "0a", "x" * 40, ""]
    made = ["", "plain words", f"{START}rapat{STOP}", f"{START}{STOP}", f"a{START}{STOP}b",
            f"{START}a{STOP}{START}b{STOP}", f"{START}{START}a{STOP}", f"a{STOP}b",
            f"{START}a", f"a{STOP}{START}b{STOP}", f"{STOP}{START}a{STOP}"]
    while len(made) < count:
        made.append("".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 30))))
    return made


def test_s23_a_snippet_s_marks_made_as_the_general_way() -> None:
    from brankas.web.text import fts

    rnd = random.Random(7)
    marks = fts.snippet_marks()
    start, stop = marks
    for snippet in _snippets(3000):
        # the database's headline: the query's marks around some words, the text's own
        # private-use characters (a PDF font's) anywhere
        made = snippet.replace(START, start if rnd.random() < 0.8 else START)
        made = made.replace(STOP, stop if rnd.random() < 0.8 else STOP)
        assert fts.marked(made, marks) == _marked_general(made, marks), repr(made)
    # a text that holds a mark's own START beside the query's marks: dropped
    own = f"{START}tag{start}rapat{stop} dinas{STOP}"
    assert fts.marked(own, marks) == f"tag{START}rapat{STOP} dinas"


def test_s23_a_snippet_shown_as_the_general_way() -> None:
    from brankas.web.text import fts

    for snippet in _snippets(3000):
        assert fts.snippet_html(snippet) == _html_general(snippet), repr(snippet)
        assert fts.snippet_text(snippet) == _text_general(snippet), repr(snippet)
        assert fts.snippet_text(snippet, "[", "]") == _text_general(snippet, "[", "]")
        # marks of the caller's that hold the private-use marks themselves
        assert (fts.snippet_text(snippet, f"<{STOP}", f"{START}>")
                == _text_general(snippet, f"<{STOP}", f"{START}>")), repr(snippet)
    assert fts.snippet_html(f"a <b> {START}rapat & x{STOP} {START}{STOP}") == (
        "a &lt;b&gt; <mark>rapat &amp; x</mark> ")


# Texts of fewer characters than bytes (not ASCII): 800 characters and more than 900
# bytes (under the bodies' lower bound in characters, over it in bytes), and 1,200
# characters (over it either way); the words in the middle.
WIDE = "é" * 3


def _wide(length: int) -> str:
    words = " undangan rapat koordinasi stunting "
    side = (length - len(words)) // 2
    filler = (f"kata{WIDE} " * (side // 8 + 1))[:side]
    return filler + words + filler


@pytest.mark.django_db
def test_s23_texts_wider_in_bytes_than_in_characters_give_the_same_snippets(office) -> None:  # type: ignore[no-untyped-def]
    """The bodies' bounds are bytes (``octet_length``): a short text in characters and
    long in bytes is sent and headlined whole beside the excerpts, the same snippet as
    the database's headline of the whole text (``snippets_sql``), and every page's
    snippet is the one ``text_snippets`` gives each text alone."""
    from brankas.web.text import fts
    from brankas.web.text.selectors import text_snippets

    short = doc(office, body=_wide(800))
    longer = doc(office, body=_wide(1200))
    assert len(short.text.body) == 800 < fts.EXCERPT * 3 // 2 < len(short.text.body.encode())
    query = "undangan rapat koordinasi stunting"
    ids = [short.pk, longer.pk]
    got = text_snippets(query, ids)
    assert set(got) == set(ids)
    assert text_snippets(query, ids, matched=ids) == got
    assert all("«undangan»" in fts.snippet_text(s) for s in got.values())
    if connection.vendor == "postgresql":  # the database's headline of the whole text
        marks = fts.snippet_marks()
        with connection.cursor() as cursor:
            cursor.execute(fts.snippets_sql("postgresql", 1, "documents_document"),
                           [*marks, query, short.pk, "dikecualikan"])
            ((_, whole),) = cursor.fetchall()
        assert got[short.pk] == fts.marked(whole, marks)
    rows = search(office, query)
    assert sorted(agendas(rows)) == sorted([short.agenda, longer.agenda])
    assert {d.pk: d.snippet for d in rows} == got


@pytest.mark.django_db
def test_s23_the_register_page_reads_its_results_without_their_registrant(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    """The page's statements join no user to the results (it shows no registrant); the
    CLI's search (``registrant`` by default) reads it with them, no statement per row."""
    from django.test.utils import CaptureQueriesContext

    from brankas.web.text.selectors import document_search

    made = [doc(office, body=f"undangan rapat koordinasi stunting {i}",
                subject=f"Rapat {i}") for i in range(3)]
    made.append(doc(office, body="rapat koordinasi", subject="Laporan"))
    client = signed_in("kasi")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/documents/", {"q": "rapat"})
    assert response.status_code == 200
    page = response.content.decode()
    for d in made:
        assert d.agenda in page
    assert "<mark>" in page
    rows = [q["sql"] for q in queries.captured_queries if 'FROM "documents_document"' in q["sql"]]
    assert rows and not any("accounts_user" in sql for sql in rows), rows
    results = document_search(actor=office.users["kasi"], query="rapat")
    found = list(results[0:None])
    with CaptureQueriesContext(connection) as queries:
        names = {d.registered_by.username for d in found}
    assert names == {"operator"} and not queries.captured_queries
    bare = list(document_search(actor=office.users["kasi"], query="rapat",
                                registrant=False)[0:None])
    assert [(d.pk, d.snippet) for d in bare] == [(d.pk, d.snippet) for d in found]


@pytest.mark.django_db
def test_s23_the_window_ranked_best_first_newest_first_among_equals(office) -> None:  # type: ignore[no-untyped-def]
    """``text_search`` given a window (newest first, as ``_window`` reads it) ranks its
    ``RANKED`` newest by score, newest first among equal scores, as the (-score, -id)
    order of session 22; the older ones follow newest first; every page of it alike."""
    from brankas.web.documents.models import Document
    from brankas.web.text.selectors import RANKED, text_search

    rnd = random.Random(19)
    within = Document.objects.all()
    for size in (0, 1, 5, RANKED, RANKED + 1):
        scores = [0.0, 1e-20, 0.06079271, 0.1, 0.25]
        window = [(500_000 - 3 * k, rnd.choice(scores) if k % 3 else rnd.random())
                  for k in range(size)]
        expected = sorted(window[:RANKED], key=lambda h: (-h[1], -h[0]))
        for offset, limit in ((0, 51), (50, 51), (0, None), (RANKED - 10, 10)):
            got = text_search("rapat", within=within, limit=limit, offset=offset,
                              window=window)
            want = expected[offset: None if limit is None else offset + limit]
            assert [(h.document_id, h.score) for h in got][: len(want)] == want


@pytest.mark.django_db
def test_s23_review_a_text_of_fewer_characters_than_the_bound_but_more_bytes_is_excerpted(
        office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A text of at most ``EXCERPT_BODY_MAX`` characters and more bytes (a non-Latin
    script) is sent and excerpted as in session 22, where the bounds were characters: the
    same snippet (headlined whole from the table it was another one, and 4x the server's
    time). Each bound's side checked against session 22's ``length`` bounds."""
    from brankas.web.text import fts
    from brankas.web.text.selectors import text_snippets

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no bodies' pass by bytes: test_search_s23_pg.py runs it "
                    "on PostgreSQL")
    filler = " ".join("ꦲꦤꦕꦫꦏ ꦢꦠꦱꦮ rapat dinas kegiatan" for _ in range(2000))
    body = (filler[:40000] + " undangan koordinasi stunting desa " + filler[:40000]
            + " koordinasi rapat undangan koordinasi")
    assert len(body) <= fts.EXCERPT_BODY_MAX < len(body.encode())
    wide = [doc(office, body=body) for _ in range(2)]
    over = doc(office, body=filler * 2 + " undangan koordinasi")  # more characters
    assert len(over.text.body) > fts.EXCERPT_BODY_MAX
    ids = [d.pk for d in (*wide, over)]
    query = "undangan koordinasi"
    got = text_snippets(query, ids, ids)
    assert set(got) == set(ids)
    made = fts.bodies_sql
    monkeypatch.setattr(fts, "bodies_sql",
                        lambda count, table: made(count, table).replace("octet_length",
                                                                        "length"))
    assert got == text_snippets(query, ids, ids)
    # the excerpt's (the shortest span holding both words), not the whole text's headline
    # (two fragments, the first "«undangan» «koordinasi» stunting")
    shown = fts.snippet_text(got[wide[0].pk])
    assert shown.endswith("«koordinasi» rapat «undangan» «koordinasi»"), shown
