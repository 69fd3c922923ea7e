"""Review of session 21's search (r21), on SQLite (test_r21_pg.py: the same on
PostgreSQL): two characters with filters and pages, hostile queries, snippets of long
texts whose match is late, among multi-byte letters, never of an exempted document, and
the bigram migration backward and forward."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.web.text.test_search import agendas, doc, search
from tests.web.text.test_search_fields import old_match

pytestmark = pytest.mark.django_db


def test_r21_two_characters_with_filters_and_pages(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from brankas.web.text import fts
    from brankas.web.text.selectors import document_search

    for i in range(30):
        doc(office, body=None if i % 3 else "zq di dalam teks", minutes_ago=i,
            subject=f"Perihal {'ZQ' if i % 2 else 'biasa'} {i}",
            number=f"{i}/zq%/_" if i % 7 == 0 else "",
            direction="pengiriman" if i % 4 == 0 else "penerimaan", year=2025 + i % 2)
    register = Document.objects.order_by("-registered_at", "-seq")
    for filters in ({}, {"direction": "pengiriman"}, {"year": 2025}, {"classification": "biasa"},
                    {"direction": "penerimaan", "year": 2026}):
        fields = agendas(register.filter(old_match("zq"), **filters))
        results = {}
        for sparse in (2000, -1):  # the bigram index (PostgreSQL), the scan
            monkeypatch.setattr(fts, "FIELD_SPARSE", sparse)
            found = agendas(search(office, "zQ", **filters))
            assert found[:len(fields)] == fields, filters  # the field matches first, newest first
            paged = document_search(actor=office.users["kasi"], query="zq", **filters)
            assert paged.count() == len(found)
            assert [d.agenda for s in range(0, len(found) + 5, 4) for d in paged[s:s + 4]] == found
            results[sparse] = found
        assert results[2000] == results[-1], filters


HOSTILE = ["a" * 5000, " ".join(["rapat"] * 600), "!!!", "\x00\x00", "ra\x00pat", "%%", "__",
           "\\\\", "'\"", "%_\\", "  ", "…", "12", "\u200b\u200b", "-- ;", "rapat" + "\x00" * 50,
           "\ue000\ue001", "😀😀", "<b>", "ꦲꦏ"]


def test_r21_hostile_queries_are_answered(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text.selectors import document_search

    a = doc(office, body="rapat 12 koordinasi <b> 😀😀 ꦲꦏ", subject="Rapat 12 %_\\ '\"")
    for query in HOSTILE:
        found = document_search(actor=office.users["kasi"], query=query)
        found.count()
        rows = list(found[0:20])
        assert all(d.agenda == a.agenda for d in rows), query
    assert agendas(search(office, "ra\x00pat")) == [a.agenda]
    assert agendas(search(office, "12")) == [a.agenda]


def test_r21_snippets_of_long_texts(office) -> None:  # type: ignore[no-untyped-def]
    """A match only at the end of a long text, among multi-byte letters: the snippet marks
    it and its words are the text's own (no letter cut); an exempted document's text gives
    none, long or short."""
    from brankas.web.text.fts import snippet_text
    from brankas.web.text.selectors import text_snippets

    filler = " ".join(f"kata{i} ꦲꦏ꧀ꦱꦫ{i} café{i} 😀{i} naïve{i}" for i in range(600))
    late = doc(office, body=f"{filler} ☃☃ rapat ünïcödé 😀x")
    both = doc(office, body=f"rapat {filler} koordinasi 😀 {filler} rapat ꦲꦏ꧀ꦱꦫ koordinasi")
    secret = doc(office, body=f"{filler} rapat rahasia", classification="rahasia")
    short = doc(office, body="rapat rahasia singkat", classification="rahasia")
    snippets = text_snippets("rapat", [late.pk, both.pk, secret.pk, short.pk])
    assert set(snippets) == {late.pk, both.pk}
    words = set(late.text.body.split()) | set(both.text.body.split())
    for s in snippets.values():
        text = snippet_text(s)
        assert "«rapat»" in text.lower(), text
        for word in text.replace("«", "").replace("»", "").replace("…", " ").split():
            assert word in words or any(word in w for w in words), (word, text)
    assert set(text_snippets("rapat koordinasi", [both.pk, secret.pk])) == {both.pk}
    assert "«koordinasi»" in snippet_text(text_snippets("koordinasi", [both.pk])[both.pk]).lower()


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor: outside a transaction
def test_r21_the_bigram_migration_goes_back_and_forth() -> None:
    from django.db.migrations.executor import MigrationExecutor

    from brankas.web.text import fts

    def indexes() -> set[str]:
        with connection.cursor() as cursor:
            return {i for i in connection.introspection.get_constraints(
                cursor, fts.FIELD_TABLE)}

    here = connection.vendor == "postgresql"
    assert (fts.BIGRAM_INDEX in indexes()) == here
    executor = MigrationExecutor(connection)
    executor.migrate([("documents", "0008_s19_field_fts")])
    assert fts.BIGRAM_INDEX not in indexes()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert (fts.BIGRAM_INDEX in indexes()) == here


def test_r21_an_excerpt_is_never_cut_inside_a_tag() -> None:
    """``fts.excerpt`` (PostgreSQL's snippets): a cut at a space inside a markup tag moves
    out of the tag (ts_headline drops a whole tag; a cut one's tail showed as words); a
    stray "<" gives an excerpt still holding the match, or the whole text."""
    from brankas.web.text.fts import excerpt

    words = " ".join(f"kata{i}" for i in range(400))
    tag = "<span " + " ".join(f'data-k{i}="v{i}"' for i in range(40)) + ">"
    isi = " ".join(["isi"] * 30)
    for body in (f"{words} {tag} {isi} rapat {isi} {tag} {words}",
                 f"{words} {tag} rapat {tag} {words}"):
        piece = excerpt(body, ["rapat"])
        assert piece is not None and "rapat" in piece
        assert piece.count("<") == piece.count(">"), piece
        assert piece.find(">") < 0 or piece.find("<") < piece.find(">"), piece
    stray = f"{words} nilai < 5 dan {' '.join(['isi'] * 40)} rapat {words}"
    piece = excerpt(stray, ["rapat"])
    assert piece is None or "rapat" in piece
