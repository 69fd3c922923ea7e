"""The content search's order against a reference computed by hand from the database's own
scores (session 19, O2b: PostgreSQL ranks after the window is cut): the newest ``RANKED``
matches best first (newest first among equals), then older ones newest first, with the
scores themselves; on SQLite here, on PostgreSQL in test_search_rank_pg.py."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from tests.web.text.test_search import doc

pytestmark = pytest.mark.django_db

WORDS = ["rapat", "koordinasi", "stunting", "anggaran", "laporan", "kegiatan", "dinas", "desa"]


def reference(query: str, ranked: int) -> list[tuple[int, float]]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT rowid, -bm25(text_fts) FROM text_fts WHERE text_fts MATCH %s",
                           [" ".join(f'"{w}"' for w in query.split())])
        else:
            cursor.execute("SELECT document_id, ts_rank(search_vector, q, 1) FROM "
                           "text_documenttext, plainto_tsquery('indonesian', %s) q "
                           "WHERE search_vector @@ q", [query])
        rows = [(int(i), float(s)) for i, s in cursor.fetchall()]
    newest = sorted(rows, key=lambda r: -r[0])
    return sorted(newest[:ranked], key=lambda r: (-r[1], -r[0])) + newest[ranked:]


def test_the_content_order_is_the_reference_order(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from brankas.web.text import selectors

    rng = random.Random(19)
    for _ in range(40):
        doc(office, subject="Tanpa kata", correspondent="Instansi",
            body=" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30))))
    monkeypatch.setattr(selectors, "RANKED", 10)
    checked = 0
    for query in ("rapat", "rapat koordinasi", "stunting desa anggaran", "dinas"):
        expected = reference(query, 10)
        hits = selectors.text_search(query, within=Document.objects.all())
        assert [h.document_id for h in hits] == [i for i, _ in expected], query
        assert [h.score for h in hits[:10]] == pytest.approx([s for _, s in expected[:10]])
        for offset, limit in ((0, 5), (5, 10), (8, 7), (12, 3)):
            page = selectors.text_search(query, within=Document.objects.all(), limit=limit,
                                         offset=offset)
            assert [h.document_id for h in page] == [i for i, _ in
                                                     expected[offset: offset + limit]], query
        checked += len(expected) > 10
    assert checked >= 3  # past the ranked window for most queries


@pytest.mark.parametrize("gathered", [True, False], ids=["gathered", "walked"])
def test_both_ways_to_the_window_give_the_reference_order(office, monkeypatch,  # type: ignore[no-untyped-def]
                                                          gathered: bool) -> None:
    """PostgreSQL finds the newest matches either way (``fts.gather_matches``): gathered
    from the GIN index then sorted, or the primary key walked backwards testing each text;
    both give the same order, with the filters (direction, year) combined."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one plan: test_search_rank_pg.py runs both on PostgreSQL")
    from brankas.web.documents.models import Document
    from brankas.web.text import selectors

    rng = random.Random(20)
    made = [doc(office, subject="Tanpa kata", direction=rng.choice(["penerimaan", "pengiriman"]),
                year=rng.choice([2025, 2026]),
                body=" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30))))
            for _ in range(40)]
    monkeypatch.setattr(selectors, "RANKED", 10)
    monkeypatch.setattr(selectors, "_gathered", lambda found, wanted: gathered)
    within = Document.objects.filter(direction="pengiriman", year=2026)
    allowed = {d.pk for d in made if d.direction == "pengiriman" and d.year == 2026}
    for query in ("rapat", "rapat koordinasi", "stunting desa anggaran"):
        expected = [(i, s) for i, s in reference(query, 10**6) if i in allowed]
        newest = sorted(expected, key=lambda r: -r[0])
        expected = sorted(newest[:10], key=lambda r: (-r[1], -r[0])) + newest[10:]
        hits = selectors.text_search(query, within=within)
        assert [h.document_id for h in hits] == [i for i, _ in expected], query
        for offset, limit in ((0, 5), (8, 7), (12, 3)):
            page = selectors.text_search(query, within=within, limit=limit, offset=offset)
            assert [h.document_id for h in page] == [i for i, _ in
                                                     expected[offset: offset + limit]], query


def test_the_gathered_way_is_chosen_by_the_estimate() -> None:
    from brankas.web.text.fts import gather_matches

    assert gather_matches(3_707, 74_699, 1_001)  # four words found together in 5 %
    assert gather_matches(8_600, 74_699, 1_001)
    assert not gather_matches(8_700, 74_699, 1_001)
    assert not gather_matches(74_655, 74_699, 1_001)  # "dinas": walked, 1,340 texts tested
    assert gather_matches(0, 0, 51)
