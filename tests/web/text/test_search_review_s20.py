"""Review of session 20's search changes (the ranked window read once with RANKED + 1
matches and the counts from it, the snippets' id range on SQLite, PostgreSQL's two ways
to the window, the field index's no-row case): the edges each change moved. On SQLite
here, on PostgreSQL in test_search_review_s20_pg.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.web.text.test_search import doc
from tests.web.text.test_search_rank import reference as raw_reference

pytestmark = pytest.mark.django_db


def _results(office: Any, query: str, **filters: Any) -> Any:
    from brankas.web.text.selectors import document_search

    return document_search(actor=office.users["kasi"], query=query, **filters)


@pytest.mark.parametrize("matches", [9, 10, 11, 12, 21, 22])
@pytest.mark.parametrize("fields", [0, 1])
def test_counts_at_the_window_edge_are_exact_or_capped(office, monkeypatch, matches: int,  # type: ignore[no-untyped-def]
                                                       fields: int) -> None:
    """RANKED made 10, the page's cap 10 (as SEARCH_CAP = RANKED on the page), pages of 5:
    the count below the cap exact, at and past it "more than 10", the whole count exact,
    whatever was read before (the first page, a page past the window, none)."""
    from brankas.web.text import selectors
    from brankas.web.ui.common import BoundedPaginator

    monkeypatch.setattr(selectors, "RANKED", 10)
    for i in range(matches):
        doc(office, subject="Tanpa kata", body=f"rapat koordinasi nomor {i}")
    for _ in range(fields):
        doc(office, subject="Rapat pleno", body=None)
    doc(office, subject="Tanpa kata", body="sesuatu yang lain")
    total = matches + fields
    for page in (1, 2, 3, 5, 99):
        paginator = BoundedPaginator(_results(office, "rapat"), 5, 10)
        got = paginator.get_page(page)
        assert paginator.count == min(total, 10), (page, total)
        assert paginator.capped == (total > 10), (page, total)
        rows = list(got.object_list)
        if page * 5 <= total + 4:
            assert len(rows) == min(5, total - (page - 1) * 5), page
    fresh = _results(office, "rapat")
    assert fresh.count() == total
    read = _results(office, "rapat")
    everything = list(read[0:None])
    assert len(everything) == total and read.count() == total
    assert read[0:11].count() == min(total, 11) and read[3:11].count() == min(total, 11) - 3


@pytest.mark.parametrize("gathered", [True, False], ids=["gathered", "walked"])
def test_both_ways_give_one_order_with_ties_missing_texts_and_exempted_rows(  # type: ignore[no-untyped-def]
        office, monkeypatch, gathered: bool) -> None:
    """Equal texts (equal scores), equal registration times, entries without a text, an
    exempted entry with a text row (raw SQL: it must not exist, it never appears), a text
    changed and one deleted: every slice the same whichever way PostgreSQL reads the
    window (on SQLite the one way), with filters, and a filter that empties the window."""
    from brankas.web.text import selectors
    from brankas.web.text.models import DocumentText

    monkeypatch.setattr(selectors, "RANKED", 6)
    if connection.vendor == "postgresql":
        monkeypatch.setattr(selectors, "_gathered", lambda found, wanted: gathered)
    same = [doc(office, subject="Tanpa kata", body="rapat koordinasi desa", minutes_ago=5,
                direction="pengiriman" if i % 2 else "penerimaan") for i in range(9)]
    other = [doc(office, subject="Tanpa kata", body="rapat " + "dinas " * (i + 1),
                 year=2025 if i % 3 else 2026) for i in range(8)]
    nobody = [doc(office, subject="Tanpa kata", body=None) for _ in range(3)]
    secret = doc(office, subject="Tanpa kata", classification="rahasia", body=None)
    DocumentText.objects.create(document=secret, status="text", method="pdf",
                                body="rapat koordinasi desa rahasia", pages=1, engine="test",
                                content_sha256="0" * 64, read_at=secret.registered_at)
    changed = DocumentText.objects.get(document=other[0])
    changed.body = "tidak ada lagi"
    changed.save()
    DocumentText.objects.filter(document=other[1]).delete()
    gone = {other[0].pk, other[1].pk, secret.pk, *(d.pk for d in nobody)}

    def reference(rows: list[Any], query: str) -> list[int]:
        pool = {d.pk for d in rows}
        scored = {i: s for i, s in raw_reference(query, 10**6) if i in pool}
        newest = sorted(scored, reverse=True)
        ranked = sorted(newest[:6], key=lambda i: (-scored[i], -i))
        return ranked + newest[6:]

    for query, filters, pool in (
            ("rapat", {}, same + other),
            ("rapat koordinasi", {}, same),
            ("rapat", {"direction": "pengiriman"}, [d for d in same + other
                                                    if d.direction == "pengiriman"]),
            ("rapat dinas", {"year": 2025}, [d for d in other if d.year == 2025]),
            ("rapat", {"year": 2024}, []),
            ("rapat", {"classification": "rahasia"}, [])):
        expected = [i for i in reference(pool, query) if i not in gone]
        results = _results(office, query, **filters)
        ids = [d.pk for d in results[0:None]]
        assert ids == expected, (query, filters)
        assert secret.pk not in ids and results.count() == len(expected)
        for start, stop in ((0, 4), (4, 8), (5, 7), (6, 12), (11, 30)):
            page = _results(office, query, **filters)[start:stop]
            assert [d.pk for d in page] == expected[start:stop], (query, filters, start)
            assert all(d.snippet for d in page), (query, filters, start)


def test_snippets_of_ids_far_apart_are_theirs_only(office) -> None:  # type: ignore[no-untyped-def]
    """The page's lowest and highest ids with matching texts between them not on the page:
    snippets for the page's ids only, each of its own text; an exempted row in the range
    gives none."""
    from brankas.web.text.models import DocumentText
    from brankas.web.text.selectors import text_snippets

    first = doc(office, body="rapat pertama di awal")
    between = [doc(office, body=f"rapat tengah nomor{i}") for i in range(30)]
    secret = doc(office, classification="rahasia", body=None)
    DocumentText.objects.create(document=secret, status="text", method="pdf",
                                body="rapat rahasia", pages=1, engine="test",
                                content_sha256="0" * 64, read_at=secret.registered_at)
    last = doc(office, body="rapat terakhir di ujung")
    got = text_snippets("rapat", [last.pk, first.pk, secret.pk])
    assert set(got) == {first.pk, last.pk}
    assert "pertama" in got[first.pk] and "terakhir" in got[last.pk]
    got = text_snippets("rapat", [between[3].pk, between[20].pk, last.pk + 1000])
    assert set(got) == {between[3].pk, between[20].pk}
    assert "nomor3" in got[between[3].pk] and "nomor20" in got[between[20].pk]
    assert text_snippets("rapat", [first.pk]) and text_snippets("tidakada", [first.pk]) == {}


@pytest.mark.parametrize("query", ["rapat pleno", "zzqq rapat", "apat ple", "RAPAT PLENO",
                                   "pleno rapat", "Pleno"])
def test_a_query_in_no_field_excludes_nothing_from_the_content(office, query: str) -> None:  # type: ignore[no-untyped-def]
    """The field index's no-row case: the content search finds what it found before, and a
    field match is still one (the same results as the scan's icontains)."""
    from brankas.web.documents.models import Document
    from brankas.web.text.fts import words

    field = doc(office, subject="Undangan rapat pleno", body="isi tanpa kata itu")
    content = doc(office, subject="Tanpa kata", body=f"{query} disebut di sini")
    rows = list(_results(office, query)[0:None])
    lower = query.lower()
    expected_fields = [d.pk for d in Document.objects.order_by("-registered_at", "-seq")
                       if lower in d.subject.lower()]
    assert [d.pk for d in rows][:len(expected_fields)] == expected_fields
    if words(query):
        assert content.pk in [d.pk for d in rows]
    assert (field.pk in [d.pk for d in rows]) == (lower in field.subject.lower())


def test_every_result_of_a_search_without_a_limit_gets_its_snippet_past_the_bound_variables(  # type: ignore[no-untyped-def]
        office) -> None:
    """The CLI's ``list --query`` reads every result (``--limit 0``, the default), and
    makes every snippet at once: SQLite builds bound the variables of a statement
    (SQLITE_MAX_VARIABLE_NUMBER: 32,766 by default, 999 before 3.32; this build's 250,000
    made 999 here): a search finding more texts than that must not fail with "too many
    SQL variables"."""
    import sqlite3

    from brankas.web.text.selectors import text_snippets

    made = [doc(office, subject="Tanpa kata", body=f"rapat nomor{i}") for i in range(40)]
    ids = [d.pk for d in made] + list(range(made[-1].pk + 1, made[-1].pk + 1200))
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        before = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    try:
        got = text_snippets("rapat", ids)
        rows = list(_results(office, "rapat")[0:None])
    finally:
        if connection.vendor == "sqlite":
            raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)
    assert set(got) == {d.pk for d in made}
    assert all(f"nomor{i}" in got[d.pk] for i, d in enumerate(made))
    assert {d.pk for d in rows} == {d.pk for d in made} and all(d.snippet for d in rows)


def test_the_estimate_is_read_for_any_words_and_chooses_both_ways(office) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: the real ``EXPLAIN`` (no forcing) for a rare word, a common one, words no
    text holds, the longest words, digits and letters of other scripts: a yes or no, never
    an error, and both answers met on the same texts."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's estimate")
    from brankas.web.text import fts, selectors

    for i in range(60):
        doc(office, subject="Tanpa kata", body=f"dinas kegiatan {'langka' if i == 7 else 'biasa'}")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {fts.TABLE}")
    assert selectors._gathered(["langka"], 1001) is True
    assert selectors._gathered(["dinas"], 1) is False
    for query in ("tidakada sama sekali", "x" * 200 + " y" * 40, "2026 ５０ ٣", "дело 事務 ام",
                  "yang dan di ke", "ǅ ß ﬁ"):
        found = fts.words(query)
        assert selectors._gathered(found, 1001) in (True, False), query
