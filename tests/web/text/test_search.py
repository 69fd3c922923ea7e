"""The register's one search over fields and texts (issue 19, web/text/selectors.py), on a
real SQLite database (test_search_pg.py: the same tests on PostgreSQL): the index follows
every write, ranking, snippets escaped, hostile queries, filters, pagination, exempted
documents never matched by their text."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

pytestmark = pytest.mark.django_db

_seq = itertools.count(1)


def doc(office: Any, *, subject: str = "Surat biasa", body: str | None = None,
        direction: str = "penerimaan", classification: str = "biasa", year: int = 2026,
        minutes_ago: int | None = None, number: str = "", correspondent: str = "Instansi"
        ) -> Any:
    """A register entry (made as the bulk bench makes its records) with, unless ``body`` is
    None, a text row as the pipeline writes it."""
    from brankas.web.documents.models import Document
    from brankas.web.text.models import DocumentText

    i = next(_seq)
    at = timezone.now() - dt.timedelta(minutes=i if minutes_ago is None else minutes_ago)
    category = "biasa" if classification == "biasa" else "dikecualikan"
    d = Document.objects.create(
        agenda=f"S-{i:05d}", year=year, seq=50_000 + i, direction=direction,
        classification=classification, category=category, number=number or f"{i}/S/{year}",
        doc_date=at.date(), subject=subject, correspondent=correspondent,
        registered_by=office.users["operator"], form_opened_at=at, registered_at=at,
        source="web", source_sha256=f"{i:064x}", content_sha256="0" * 64, content_size=1000,
        stored_path=f"arsip/s/{i}.pdf", stored_sha256="0" * 64, stored_size=1000)
    if body is not None:
        DocumentText.objects.create(document=d, status="text", method="pdf", body=body, pages=1,
                                    engine="test", content_sha256="0" * 64, read_at=at)
    return d


def search(office: Any, query: str, role: str = "kasi", **filters: Any) -> list[Any]:
    from brankas.web.text.selectors import document_search

    return list(document_search(actor=office.users[role], query=query, **filters)[0:None])


def agendas(rows: list[Any]) -> list[str]:
    return [d.agenda for d in rows]


def test_the_index_follows_every_insert_change_and_delete(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text.models import DocumentText

    a = doc(office, body="Undangan rapat koordinasi penanganan stunting")
    assert agendas(search(office, "stunting")) == [a.agenda]
    text = DocumentText.objects.get(document=a)
    text.body = "Laporan kegiatan bulanan bidang persandian"
    text.save()
    assert search(office, "stunting") == []
    assert agendas(search(office, "persandian")) == [a.agenda]
    DocumentText.objects.filter(document=a).update(body="anggaran perubahan")  # bulk UPDATE
    assert search(office, "persandian") == []
    assert agendas(search(office, "anggaran")) == [a.agenda]
    DocumentText.objects.filter(document=a).delete()
    assert search(office, "anggaran") == []
    b = doc(office, body="anggaran perubahan kedua")
    with connection.cursor() as cursor:  # a write no service makes (recover, raw SQL)
        cursor.execute("DELETE FROM text_documenttext WHERE document_id = %s", [b.pk])
        cursor.execute("INSERT INTO text_documenttext (document_id, status, method, body, "
                       "pages, engine, content_sha256, read_at) VALUES (%s, 'text', 'ocr', "
                       "'jadwal sosialisasi peraturan daerah', 1, 'x', %s, %s)",
                       [b.pk, "0" * 64, timezone.now()])
    assert search(office, "anggaran") == []
    assert agendas(search(office, "sosialisasi")) == [b.agenda]
    b.delete()  # the register entry (CASCADE to its text)
    assert search(office, "sosialisasi") == []


def test_every_word_must_appear_in_any_order_case_and_accents_folded(office) -> None:  # type: ignore[no-untyped-def]
    a = doc(office, body="Rapat KOORDINASI tentang pelaksanaan kegiatan di Café Dinas")
    doc(office, body="Rapat evaluasi tanpa kata yang lain")
    assert agendas(search(office, "koordinasi rapat")) == [a.agenda]
    # (PostgreSQL folds the case of non-ASCII letters by the database's locale: none in
    # the tests' C-locale cluster)
    assert agendas(search(office, "CAFÉ dinas" if connection.vendor == "sqlite"
                          else "café DINAS")) == [a.agenda]
    # accents folded by FTS5 (remove_diacritics); PostgreSQL's indonesian configuration
    # keeps them (docs/search.md)
    assert agendas(search(office, "cafe")) == ([a.agenda] if connection.vendor == "sqlite"
                                                else [])
    assert search(office, "koordinasi nirkabel") == []


def test_field_matches_first_then_the_texts_best_first(office) -> None:  # type: ignore[no-untyped-def]
    once = doc(office, body="rapat " + "kata lain " * 40, minutes_ago=1)
    thrice = doc(office, body="rapat rapat rapat " + "kata lain " * 40, minutes_ago=5)
    old_field = doc(office, subject="Undangan rapat", body=None, minutes_ago=50)
    new_field = doc(office, subject="Rapat anggaran", body="tidak ada kata itu", minutes_ago=20)
    both = doc(office, subject="Notulen rapat", body="rapat dan rapat", minutes_ago=30)
    doc(office, subject="Tidak terkait", body="tidak terkait sama sekali")
    rows = search(office, "rapat")
    assert agendas(rows) == [new_field.agenda, both.agenda, old_field.agenda,
                             thrice.agenda, once.agenda]
    # a snippet wherever the text matched, field match or not
    assert [bool(getattr(d, "snippet", None)) for d in rows] == [False, True, False, True, True]


def test_the_snippet_is_escaped_and_only_the_matches_are_marked(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text.fts import snippet_html, snippet_text

    body = 'Lampiran <script>alert("x")</script> & <b>undangan</b> rapat <mark>palsu</mark>'
    a = doc(office, body=body)
    (row,) = search(office, "undangan")
    html = snippet_html(row.snippet)
    assert "<script>" not in html and "<b>" not in html and "<mark>palsu" not in html
    assert html.count("<mark>") == 1 == html.count("</mark>")
    if connection.vendor == "sqlite":  # the text as it is, escaped
        assert "&lt;script&gt;" in html and "&lt;b&gt;<mark>undangan</mark>&lt;/b&gt;" in html
    else:  # ts_headline leaves out what its parser reads as HTML tags
        assert "<mark>undangan</mark>" in html and "script" not in html
    assert "«undangan»" in snippet_text(row.snippet)
    page = signed_in("kasi").get("/documents/", {"q": "undangan"}).content.decode()
    assert a.agenda in page
    assert '<div class="snippet">' in page and "<mark>undangan</mark>" in page
    assert "<script>alert" not in page
    # a private-use mark inside a text is dropped, not made a tag
    assert snippet_html("a\ue001b\ue000c") == "ab<mark>c</mark>"


HOSTILE = [
    '"', '""', "'", '"rapat', 'rapat"', "NEAR(rapat koordinasi)", "rapat NEAR koordinasi",
    "*", "rap*", "^rapat", "body:rapat", "{body}:rapat", "- rapat", "rapat AND", "OR rapat",
    "NOT", "rapat NOT koordinasi", "AND OR NOT", "((rapat", "rapat)", "(", ")", "rapat ) (",
    "x" * 10_000, "rapat " * 2_000, "rapat\x00koordinasi", "\x00", "%", "_", "%_%", "\\",
    "rapat & koordinasi | !x", "<->", "rapat:*", "a:b", "😀 rapat", "ـ", "\u200b", "::",
]


@pytest.mark.parametrize("query", HOSTILE, ids=[repr(q)[:30] for q in HOSTILE])
def test_a_hostile_query_is_a_query_not_an_error(office, query: str) -> None:  # type: ignore[no-untyped-def]
    a = doc(office, body="rapat koordinasi daerah")
    rows = search(office, query)  # no error, whatever the database's query language
    from brankas.web.text.fts import words

    found = {w.lower() for w in words(query)}
    if found and found <= {"rapat", "koordinasi", "daerah"}:  # every word in the text
        assert a.agenda in agendas(rows)


def test_the_page_answers_every_hostile_query(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    doc(office, body="rapat koordinasi daerah")
    client = signed_in("kasi")
    for query in HOSTILE:
        assert client.get("/documents/", {"q": query}).status_code == 200, query


def test_the_filters_combine_with_the_text_match(office) -> None:  # type: ignore[no-untyped-def]
    a = doc(office, body="sosialisasi anggaran", direction="penerimaan", year=2025)
    b = doc(office, body="sosialisasi anggaran", direction="pengiriman", year=2026)
    c = doc(office, body="sosialisasi anggaran", direction="pengiriman", year=2025)
    assert sorted(agendas(search(office, "sosialisasi"))) == sorted([a.agenda, b.agenda, c.agenda])
    assert agendas(search(office, "sosialisasi", direction="pengiriman", year=2025)) == [c.agenda]
    assert agendas(search(office, "sosialisasi", year=2026)) == [b.agenda]
    assert search(office, "sosialisasi", classification="rahasia") == []
    assert search(office, "sosialisasi", category="dikecualikan") == []
    assert len(search(office, "sosialisasi", category="biasa")) == 3


def test_an_exempted_document_is_never_a_content_match(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    # Even a text row that should never exist (the pipeline writes none for them).
    secret = doc(office, classification="rahasia", subject="tersegel", body="sandi operasi")
    plain = doc(office, body="sandi operasi biasa")
    assert agendas(search(office, "sandi", role="kadis")) == [plain.agenda]
    assert search(office, "sandi", category="dikecualikan") == []
    page = signed_in("kadis").get("/documents/", {"q": "sandi"}).content.decode()
    assert plain.agenda in page and secret.agenda not in page


def test_pages_of_a_search_are_the_ranked_list_cut_in_fifties(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text.selectors import document_search

    fields = [doc(office, subject=f"Pengadaan {i}", body="lain") for i in range(30)]
    texts = [doc(office, body="pengadaan " * (1 + i % 5) + "barang") for i in range(95)]
    results = document_search(actor=office.users["kasi"], query="pengadaan")
    whole = agendas(list(results[0:None]))
    assert len(whole) == 125 == len(set(whole)) == results.count()
    assert set(whole[:30]) == {d.agenda for d in fields}
    assert set(whole[30:]) == {d.agenda for d in texts}
    for start, stop in [(0, 50), (50, 100), (100, 150), (25, 35), (29, 31), (124, 200), (200, 250)]:
        assert agendas(list(results[start:stop])) == whole[start:stop], (start, stop)
        assert results[start:stop].count() == len(whole[start:stop]), (start, stop)
    client = signed_in("kasi")
    seen = []
    for number in (1, 2, 3):
        page = client.get("/documents/", {"q": "pengadaan", "page": number})
        assert page.status_code == 200
        seen += [a for a in whole if f">{a}</a>" in page.content.decode()]
    assert sorted(seen) == sorted(whole)
    assert "125" in client.get("/documents/", {"q": "pengadaan"}).content.decode()


def test_the_list_page_counts_a_capped_search(office, signed_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.ui.documents import views

    for _ in range(8):
        doc(office, body="pengumuman lelang")
    monkeypatch.setattr(views, "SEARCH_CAP", 5)
    monkeypatch.setattr(views, "PER_PAGE", 3)
    page = signed_in("kasi").get("/documents/", {"q": "lelang"}).content.decode()
    assert "Lebih dari 5 dokumen" in page


def test_no_content_search_without_a_word(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text.selectors import text_count, text_search

    doc(office, body="rapat")
    from brankas.web.documents.models import Document

    for query in ["", "   ", "!!!", '"*"', "\x00"]:
        assert text_search(query, within=Document.objects.all()) == []
        assert text_count(query, within=Document.objects.all()) == 0


def test_the_text_match_drives_the_query_then_the_filters(office) -> None:  # type: ignore[no-untyped-def]
    """The trap of FTS5 MATCH in a join: the match is the outer loop (CROSS JOIN), read in
    its own order (no sort), the register joined to each match by primary key (SQLite's
    plan; PostgreSQL: the GIN index or the text table's primary key, never a scan)."""
    from brankas.web.documents.models import Document
    from brankas.web.text import fts
    from brankas.web.text.selectors import DOC, _where

    doc(office, body="rapat")
    within = Document.objects.filter(direction="penerimaan", year=2026)
    where, params = _where(within)  # type: ignore[misc]
    sql = fts.matches_sql(connection.vendor, where, score=True, below=False, limit=True,
                          offset=False, doc_table=DOC)
    args = [fts.match_param(connection.vendor, ["rapat"]), *params, 51]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql.replace("%s", "?"), args)
            plan = " | ".join(str(r[-1]) for r in cursor.fetchall())
            assert plan.startswith("SCAN text_fts VIRTUAL TABLE INDEX"), plan
            assert f"SEARCH {DOC} USING INTEGER PRIMARY KEY" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, args)
            plan = " | ".join(r[0] for r in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
            assert "Seq Scan" not in plan, plan
            assert "text_search_idx" in plan or "text_documenttext_pkey" in plan, plan


def test_past_the_ranked_matches_older_ones_follow_newest_first(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Only the newest RANKED content matches (after the filters) are ranked by score; the
    older ones follow newest first, and every slice is a cut of that one order."""
    from brankas.web.text import selectors

    monkeypatch.setattr(selectors, "RANKED", 6)
    made = [doc(office, body="laporan " * (1 + (i * 7) % 5) + "keuangan", direction=d)
            for i in range(20) for d in ("penerimaan", "pengiriman") if (i + len(d)) % 3]
    within = [d for d in made if d.direction == "pengiriman"]
    results = selectors.document_search(actor=office.users["kasi"], query="laporan",
                                        direction="pengiriman")
    whole = list(results[0:None])
    newest = sorted(within, key=lambda d: -d.pk)
    assert {d.pk for d in whole[:6]} == {d.pk for d in newest[:6]}
    scores = [h.score for h in selectors.text_search("laporan", within=results.content,
                                                     limit=6)]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
    assert [d.pk for d in whole[6:]] == [d.pk for d in newest[6:]]
    for start, stop in [(0, 4), (4, 9), (5, 7), (6, 8), (9, 100), (0, None)]:
        assert [d.pk for d in results[start:stop]] == [d.pk for d in whole[start:stop]]
        assert results[start:stop].count() == len(whole[start:stop])


def test_the_first_page_and_its_capped_count_read_the_index_once(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The ranked window is read with one match more than it ranks: the first page, and
    the capped count of up to that many, come from one pass over the index (and the
    snippets' pass for the page's own rows); the counts stay exact, capped or not, below,
    at and past the window (RANKED made 6)."""
    from django.test.utils import CaptureQueriesContext

    from brankas.web.text import selectors
    from brankas.web.ui.common import BoundedPaginator

    monkeypatch.setattr(selectors, "RANKED", 6)
    doc(office, subject="Lelang pengadaan", body="lain")  # one field match
    for i in range(12):
        doc(office, body="pengumuman " * (1 + i % 4) + "lelang")
    kasi = office.users["kasi"]
    index = "text_fts" if connection.vendor == "sqlite" else "@@"
    # (cap, per page, passes): the window and the snippets; a capped count past the
    # window's RANKED + 1 matches counts in the index; a page past them reads the older ones
    for cap, per_page, reads in ((3, 2, 2), (6, 2, 2), (7, 2, 2), (8, 3, 3), (13, 5, 3),
                                 (20, 4, 3), (100, 50, 3)):
        results = selectors.document_search(actor=kasi, query="lelang")
        paginator = BoundedPaginator(results, per_page, cap=cap)
        with CaptureQueriesContext(connection) as queries:
            page = paginator.get_page(1)
            count, capped = paginator.count, paginator.capped
        assert (count, capped) == (min(13, cap), cap < 13), (cap, per_page)
        assert len(page.object_list) == min(per_page, 13)
        passes = [q["sql"] for q in queries.captured_queries  # (PostgreSQL's estimate: no row)
                  if index in q["sql"] and not q["sql"].startswith("EXPLAIN")]
        assert len(passes) == reads, (cap, passes)
    results = selectors.document_search(actor=kasi, query="lelang")
    assert results.count() == 13
    whole = list(results[0:None])
    assert len(whole) == 13 and results.count() == 13


def test_the_snippets_read_the_page_s_id_range_once(office) -> None:  # type: ignore[no-untyped-def]
    """SQLite: the snippets' query gives FTS5 the ids' range (one pass over the words'
    doclists), not the ids (``rowid IN``: the whole match started again for each id); the
    ids are still the only rows with a snippet."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 query plan (PostgreSQL's snippets: test_search_pg.py)")
    from brankas.web.text import fts
    from brankas.web.text.selectors import DOC, text_snippets

    made = [doc(office, body=f"rapat koordinasi ke-{i} stunting") for i in range(6)]
    doc(office, body="rapat tanpa kata lain")
    chosen = [made[1].pk, made[4].pk]
    assert set(text_snippets("rapat stunting", chosen)) == set(chosen)
    sql = fts.snippets_sql("sqlite", 2, DOC).replace("%s", "?")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql,
                       ["[", "]", '"rapat"', min(chosen), max(chosen), *chosen, "x"])
        plan = " | ".join(str(r[-1]) for r in cursor.fetchall())
    index = plan.split("VIRTUAL TABLE INDEX ", 1)[1].split(" ", 1)[0]
    assert "=" not in index and ">" in index and "<" in index, plan
