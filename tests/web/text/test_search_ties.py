"""Equal scores in the ranked window (session 23 sorts the window by its score alone and
relies on the SQL's newest-first order for equals): texts written identically score the
same, so the window's order among them is the SQL's own. Checked against the (-score, -id)
reference on the database's own scores, through ``text_search`` and the register's search
pages (``document_search`` slices), with filters, across the ranked window's end (the
``below`` continuation), on SQLite here and on PostgreSQL's two plans
(test_search_ties_pg.py)."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from tests.web.text.test_search import doc
from tests.web.text.test_search_rank import reference

pytestmark = pytest.mark.django_db

BODIES = ["rapat koordinasi stunting desa", "rapat koordinasi anggaran dinas kegiatan desa",
          "rapat rapat laporan"]


@pytest.mark.parametrize("gathered", [True, False], ids=["gathered", "walked"])
def test_equal_scores_keep_newest_first_on_every_page(office, monkeypatch,  # type: ignore[no-untyped-def]
                                                      gathered: bool) -> None:
    from brankas.web.documents.models import Document
    from brankas.web.text import selectors

    if connection.vendor != "postgresql" and gathered:
        pytest.skip("SQLite has one plan: test_search_ties_pg.py runs the gathered one on "
                    "PostgreSQL")
    rng = random.Random(23)
    made = [doc(office, subject="Tanpa kata", direction=rng.choice(["penerimaan", "pengiriman"]),
                body=rng.choice(BODIES)) for _ in range(36)]
    monkeypatch.setattr(selectors, "RANKED", 10)
    if connection.vendor == "postgresql":
        monkeypatch.setattr(selectors, "_gathered", lambda found, wanted: gathered)
    for direction in (None, "pengiriman"):
        allowed = {d.pk for d in made if direction is None or d.direction == direction}
        within = (Document.objects.filter(direction=direction) if direction
                  else Document.objects.all())
        for query in ("rapat", "rapat desa"):
            matching = [(i, s) for i, s in reference(query, 10**6) if i in allowed]
            newest = sorted(matching, key=lambda r: -r[0])
            scores = [s for _, s in newest[:10]]
            assert len(set(scores)) < len(scores)  # equal scores in the window
            expected = [i for i, _ in sorted(newest[:10], key=lambda r: (-r[1], -r[0]))]
            expected += [i for i, _ in newest[10:]]
            hits = selectors.text_search(query, within=within)
            assert [h.document_id for h in hits] == expected, (query, direction)
            for offset, limit in ((0, 4), (4, 4), (8, 4), (9, 3), (12, 5)):
                page = selectors.text_search(query, within=within, limit=limit,
                                             offset=offset)
                assert [h.document_id for h in page] == expected[offset: offset + limit]
            results = selectors.document_search(actor=office.users["kasi"], query=query,
                                                direction=direction, registrant=False)
            pages = [d.pk for start in range(0, len(expected) + 4, 4)
                     for d in results[start: start + 4]]
            assert pages == expected, (query, direction)
