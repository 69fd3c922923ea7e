"""The register's search, session 22 (the page of a search on PostgreSQL at 100,000
documents): fewer statements for the same results. The snippets of the window's hits are
made without testing their texts again (``text_snippets(..., matched)``), the excerpts'
and the whole texts' headlines in one statement; the window's settings and statement in
one query string in autocommit, the estimate and the texts' number in another. What is
checked: the snippets are the same with and without the known matches (exempted documents
and texts that do not match give none, whatever the caller says), on both databases
(test_s22_search_pg.py); the statements and the settings' end on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.web.text.test_search import agendas, doc, search

pytestmark = pytest.mark.django_db

FILLER = " ".join(f"kata{i}" for i in range(150))  # about 1,300 characters, no query word


def _pieces(office: Any) -> dict[str, Any]:
    """Texts of every path a snippet takes: short (headlined with its body), long with an
    excerpt, long with its words far apart (headlined whole), a substring that is no match
    near the real one (the excerpt's headline marks nothing: the whole text), a text
    without the words (a field match's), and exempted documents' texts (rows that should
    not exist), long and short."""
    return {
        "short": doc(office, body="Undangan rapat koordinasi stunting di aula"),
        "excerpt": doc(office, body=f"{FILLER} undangan rapat koordinasi stunting {FILLER}"),
        "apart": doc(office, body=f"rapat {FILLER} koordinasi {FILLER} stunting undangan"),
        # one word: its last substring taken first, here no match ("xrapatx")
        "false": doc(office, body=f"{FILLER} rapat dinas {FILLER} {FILLER} xrapatx {FILLER}"),
        "other": doc(office, body=f"{FILLER} laporan bulanan {FILLER}", subject="Rapat"),
        "secret": doc(office, body=f"{FILLER} rapat rahasia {FILLER}", classification="rahasia"),
        "secret short": doc(office, body="rapat rahasia", classification="rahasia"),
    }


def test_s22_snippets_of_known_matches_are_the_same(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.text.fts import snippet_text
    from brankas.web.text.selectors import text_snippets

    d = _pieces(office)
    ids = [x.pk for x in d.values()]
    matching = {"rapat": ("short", "excerpt", "apart", "false"),
                "undangan rapat koordinasi stunting": ("short", "excerpt", "apart"),
                "koordinasi": ("short", "excerpt", "apart")}
    for query, texts in matching.items():
        plain = text_snippets(query, ids)
        assert set(plain) == {d[k].pk for k in texts}, query
        assert text_snippets(query, ids, matched=[d[k].pk for k in texts]) == plain, query
        assert all("«" in snippet_text(s) for s in plain.values()), plain
    plain = text_snippets("rapat", ids)
    assert set(plain) == {d[k].pk for k in ("short", "excerpt", "apart", "false")}
    assert "«rapat» dinas" in snippet_text(plain[d["false"].pk])  # the real match marked
    # the caller's word never gives an exempted document's text a snippet
    told = text_snippets("rapat", ids, matched=ids)
    assert d["secret"].pk not in told and d["secret short"].pk not in told


def test_s22_a_page_of_results_shows_the_same_snippets(office) -> None:  # type: ignore[no-untyped-def]
    """The register's search (its window's hits given as known matches): every content
    match has its snippet, the field match whose text does not match has none, exempted
    documents are never found by their text."""
    from brankas.web.text.fts import snippet_text
    from brankas.web.text.selectors import text_snippets

    d = _pieces(office)
    rows = search(office, "rapat")
    assert set(agendas(rows)) == {d[k].agenda for k in ("short", "excerpt", "apart", "false",
                                                        "other")}
    got = {x.pk: x.snippet for x in rows}
    assert got[d["other"].pk] is None
    reference = text_snippets("rapat", list(got))
    assert {k: v for k, v in got.items() if v is not None} == reference
    assert all("«rapat»" in snippet_text(s).lower() for s in reference.values())


def _settings() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), "
                       "current_setting('max_parallel_workers_per_gather')")
        row = cursor.fetchone()
    return (str(row[0]), str(row[1]))


def test_s22_the_snippets_of_a_page_take_two_statements(office) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: the bodies, then the headlines of the excerpts and of the whole texts
    together; a third only for an excerpt whose headline marked no match."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: ts_headline's statements (run by "
                    "test_s22_search_pg.py)")
    from django.test.utils import CaptureQueriesContext

    from brankas.web.text.selectors import text_snippets

    d = _pieces(office)
    ids = [d[k].pk for k in ("short", "excerpt", "apart", "other", "secret")]
    with CaptureQueriesContext(connection) as queries:
        got = text_snippets("undangan rapat koordinasi stunting", ids,
                            matched=[d[k].pk for k in ("short", "excerpt", "apart")])
    assert set(got) == {d[k].pk for k in ("short", "excerpt", "apart")}
    assert len(queries.captured_queries) == 2, [q["sql"][:80] for q in queries]
    with CaptureQueriesContext(connection) as queries:
        assert set(text_snippets("rapat", [d["false"].pk])) == {d["false"].pk}
    assert len(queries.captured_queries) == 3


def test_s22_the_estimate_and_the_texts_number_in_one_statement(office) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the planner's EXPLAIN estimate (run by "
                    "test_s22_search_pg.py)")
    from django.test.utils import CaptureQueriesContext

    from brankas.web.text import selectors

    doc(office, body="rapat koordinasi")
    with CaptureQueriesContext(connection) as queries:
        assert selectors._gathered(["rapat"], 1001) in (True, False)
    assert len(queries.captured_queries) == 1
    with connection.cursor() as cursor:  # the cursor left on the second statement's row
        from brankas.web.text import fts

        estimated = fts.estimated_rows(cursor, fts.estimate_sql(), ["rapat"],
                                       then="SELECT 7::float8")
        assert estimated >= 1 and cursor.fetchone() == (7.0,)


def _window_sql(queries: Any) -> str:
    (sql,) = [q["sql"] for q in queries.captured_queries
              if "ts_rank" in q["sql"] or "bm25" in q["sql"]]
    return str(sql)


def test_s22_with_no_field_match_the_window_tests_no_field(office) -> None:  # type: ignore[no-untyped-def]
    """No register row matched by its fields (most searches of several words): the content
    matches are looked for in the register itself, the same rows as the register less its
    field matches, without four LIKE tests a match; with a field match, the content tier
    still leaves it out (each document once, field matches first)."""
    from django.test.utils import CaptureQueriesContext

    from brankas.web.text.selectors import document_search

    older = doc(office, body="undangan rapat koordinasi stunting", minutes_ago=30)
    newer = doc(office, body="rapat koordinasi stunting dan undangan", minutes_ago=20)
    doc(office, body="rapat koordinasi", classification="rahasia", minutes_ago=10)
    with CaptureQueriesContext(connection) as queries:
        rows = search(office, "undangan rapat koordinasi stunting")
    assert agendas(rows) in ([older.agenda, newer.agenda], [newer.agenda, older.agenda])
    assert "LIKE" not in _window_sql(queries).upper()
    field = doc(office, subject="Undangan rapat koordinasi stunting",
                body="undangan rapat koordinasi stunting", minutes_ago=40)
    with CaptureQueriesContext(connection) as queries:
        rows = search(office, "undangan rapat koordinasi stunting")
    assert agendas(rows)[0] == field.agenda and len(rows) == 3
    assert sorted(agendas(rows)[1:]) == sorted([older.agenda, newer.agenda])
    if connection.vendor == "postgresql":  # SQLite: the fields' own index names the row
        assert "LIKE" in _window_sql(queries).upper()
    # a page past the first, counted: the same documents, each once
    found = document_search(actor=office.users["kasi"], query="koordinasi stunting")
    assert found.count() == 3
    later = [d.agenda for d in found[1:3]]
    assert [d.agenda for d in found[0:1]] == [field.agenda]
    assert sorted(later) == sorted([older.agenda, newer.agenda])


def test_s22_a_long_whole_text_is_headlined_by_the_database(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A text headlined whole that is longer than ``WHOLE_SENT_MAX`` is not sent back: the
    database headlines it from the table (a third statement), the same snippet."""
    from django.test.utils import CaptureQueriesContext

    from brankas.web.text import selectors

    apart = doc(office, body=f"rapat {FILLER} koordinasi {FILLER} stunting undangan")
    query = "undangan rapat koordinasi stunting"
    sent = selectors.text_snippets(query, [apart.pk], matched=[apart.pk])
    monkeypatch.setattr(selectors, "WHOLE_SENT_MAX", 1000)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.text_snippets(query, [apart.pk], matched=[apart.pk]) == sent
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 2  # the bodies, then the table's headline
        assert "unnest" not in queries.captured_queries[-1]["sql"]
