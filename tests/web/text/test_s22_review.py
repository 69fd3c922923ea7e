"""Session 22's review: the register's search of this branch against main's way of making
it, for many queries (hostile ones too: quotes, backslashes, NUL, tsquery syntax, SQL),
every role (in turn), filters and windows: the same rows, the same order, the same snippets and
counts. Main's way is this code with session 22's changes undone (the window's lookups
always in the register less its field matches, the snippets' texts always tested again,
the whole texts headlined by the database, the window's settings in a savepoint of its
own, the estimate and the texts' number in two statements). Both databases
(test_s22_review_pg.py, in autocommit as a web request)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection, transaction

from tests.web.text.test_search import doc

pytestmark = pytest.mark.django_db

WORDS = ["rapat", "koordinasi", "undangan", "stunting", "anggaran", "laporan", "bulanan",
         "dinas", "persandian", "kegiatan", "evaluasi", "surat", "keputusan", "kepala",
         "bidang", "sekretariat"]
QUERIES = [
    "rapat", "koordinasi rapat", "undangan rapat koordinasi stunting", "anggaran",
    "laporan bulanan", "xrapatx", "ra", "Rapat", "RAPAT DINAS", "surat", "kepala bidang",
    "tidakada", "rapat tidakada", "persandian evaluasi kegiatan",
    # hostile: the words are taken out of them, the whole string is the fields' LIKE
    "rapat'", "rapat\\", "'; DROP TABLE brankas_document_text; --", "rapat & !dinas",
    "rapat:* | koordinasi", "rapat <-> dinas", "%s rapat %%", "$$rapat$$", "rapat\x00dinas",
    "E'\\\\' rapat", "\"rapat\"", "rapat" * 40, "r%p_t", "rapat " * 30,
]


def _corpus(office: Any) -> None:
    rng = random.Random(22)
    filler = " ".join(f"kata{i}" for i in range(150))
    for i in range(40):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        shape = i % 6
        body: str | None
        if shape == 0:
            body = words
        elif shape == 1:
            body = f"{filler} {words} {filler}"
        elif shape == 2:  # the words far apart: headlined whole
            body = " ".join(f"{w} {filler}" for w in words.split()[:4])
        elif shape == 3:  # past WHOLE_SENT_MAX: headlined by the database
            body = f"rapat {filler * 20} {words} {filler * 2} dinas xrapatx"
        elif shape == 4:
            body = None
        else:
            body = f"{filler} xrapatx {filler} merapikan {words}"
        doc(office, body=body,
            subject=("Rapat " if i % 7 == 0 else "") + " ".join(rng.sample(WORDS, 2)),
            number=f"{i}/R'a\\pat" if i % 5 == 0 else str(i),
            correspondent="Dinas" if i % 4 == 0 else "Instansi",
            classification="rahasia" if i % 8 == 3 else "biasa",
            direction="pengiriman" if i % 3 == 0 else "penerimaan")


def _main_way(monkeypatch: Any) -> None:
    """This code with session 22's search changes undone (main's, statement for
    statement)."""
    from brankas.web.text import fts, selectors

    def serial(sql: str, params: list[Any]) -> list[tuple[int, float]]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(selectors.SERIAL)
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            transaction.set_rollback(True)
        return [(int(i), float(s)) for i, s in rows]

    def gathered(found: list[str], wanted: int) -> bool:
        with connection.cursor() as cursor:
            estimated = fts.estimated_rows(cursor, fts.estimate_sql(),
                                           [fts.match_param("postgresql", found)])
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                           [fts.TABLE])
            (texts,) = cursor.fetchone()
        return fts.gather_matches(estimated, float(texts), wanted)

    snippets = selectors.text_snippets
    monkeypatch.setattr(selectors, "_serial", serial)
    monkeypatch.setattr(selectors, "_gathered", gathered)
    monkeypatch.setattr(selectors.SearchResults, "within", lambda self: self.content)
    monkeypatch.setattr(selectors, "text_snippets",
                        lambda query, ids, matched=(): snippets(query, ids))
    monkeypatch.setattr(selectors, "WHOLE_SENT_MAX", 0)


# A few of QUERIES taking every path (content and its snippets, the fields' LIKE, two
# characters, nothing found, a hostile string): for the tests that check a
# way of running the same search (inside a transaction, server-side binding), not the rules.
SOME = ["undangan rapat koordinasi stunting", "laporan bulanan", "ra", "xrapatx",
        "rapat tidakada", "'; DROP TABLE brankas_document_text; --"]


ROLES = ("kasi", "kabid", "operator", "kadis")
FILTERS: tuple[dict[str, str], ...] = ({}, {"direction": "penerimaan"},
                                       {"category": "dikecualikan"})


def _seen(office: Any, queries: list[str] = QUERIES) -> dict[Any, Any]:
    """Each query with each filter, searched as one of the roles (each role in turn: the
    register's search has no rule by role, ``document_list`` shows every role the same
    register; every role is still searched with every filter and most queries, a quarter
    of the searches of each query under every role)."""
    from brankas.web.text.selectors import document_search

    seen: dict[Any, Any] = {}
    for query in queries:
        for f, filters in enumerate(FILTERS):
            role = ROLES[(QUERIES.index(query) + f) % len(ROLES)]
            results = document_search(actor=office.users[role], query=query, **filters)
            key = (query, role, tuple(filters.items()))
            pages = [[(d.agenda, d.snippet) for d in results[a:b]]
                     for a, b in ((0, 3), (3, 7), (7, None))]
            seen[key] = (results.count(), results[0:5].count(), pages,
                         [(d.agenda, d.snippet) for d in results[0:None]])
    return seen


def test_s22_review_the_search_is_main_s(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _corpus(office)
    branch = _seen(office)
    with monkeypatch.context() as m:
        _main_way(m)
        main = _seen(office)
    assert branch.keys() == main.keys()
    for key in branch:
        assert branch[key] == main[key], key
    # the corpus gives every path: content matches, field matches, snippets, exempted
    hits = {k: v for k, v in branch.items() if v[3]}
    assert len(hits) > 30 and any(s for v in hits.values() for _a, s in v[3])
