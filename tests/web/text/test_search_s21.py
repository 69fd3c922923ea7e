"""The register's search, session 21 (PostgreSQL's speed at 100,000 documents): a query of
two characters is narrowed on PostgreSQL by a GIN index over the fields' bigrams
(web/text/fts.py, "the register's fields (PostgreSQL, 2 chars)"), ``icontains`` staying
the test: the documents found are exactly the scan's, on SQLite (the scan itself) and on
PostgreSQL (test_search_s21_pg.py), paged, counted, excluded from the content tier, and
the index follows every write."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.web.text.test_search import agendas, doc, search
from tests.web.text.test_search_fields import VALUES, ids, old_match

pytestmark = pytest.mark.django_db

# Two characters (after NFC and the strip): ASCII case, accents (LIKE and UPPER fold ASCII
# on a C-locale database), Turkish İ, the Kelvin sign, LIKE's wildcards and escape, quotes,
# a surrogate pair's emoji, digits and the separators of a letter's number, the index's
# own field separator (U+001F), one that is nowhere.
PAIRS = ["di", "DI", "dI", "af", "AF", "fé", "FÉ", "Ém", "ém", "İs", "is", "\u212ae", "ke",
         "0%", "% ", "r_", "_t", "\\a", ":\\", '"k', "(a", "ße", "SS", "ss", "Ω-", "ω-",
         "😀 ", "/s", "1/", "26", "\x1fd", "zq", " a", "a "]


def test_two_characters_find_what_the_scan_found(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from brankas.web.documents.selectors import metadata_match

    for i, value in enumerate(VALUES):
        doc(office, body=None, **{["subject", "correspondent", "number"][i % 3]: value})
    register = Document.objects.order_by("-registered_at", "-seq")
    served = 0
    for query in PAIRS:
        expected = ids(register.filter(old_match(query)))
        match = metadata_match(register, query, None)
        assert ids(register.filter(match)) == expected, query
        assert register.filter(match).count() == len(expected), query
        assert ids(register.exclude(match)) == ids(register.exclude(old_match(query))), query
        served += "brankas_bigrams" in str(register.filter(match).query)
    if connection.vendor == "postgresql":
        assert served >= len(PAIRS) - 6  # the index served (" a", "a " strip to one character)
    else:
        assert served == 0  # SQLite scans two characters


def test_a_common_bigram_is_found_by_the_scan(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from brankas.web.documents.selectors import metadata_match
    from brankas.web.text import fts

    made = [doc(office, body="rapat qx", subject=f"Surat qx {i}", minutes_ago=i) for i in range(4)]
    plain = doc(office, body="qx tanpa kata di perihal", subject="Surat biasa", minutes_ago=9)
    register = Document.objects.order_by("-registered_at", "-seq")
    monkeypatch.setattr(fts, "FIELD_SPARSE", -1)  # every bigram "common": the scan
    assert "brankas_bigrams" not in str(register.filter(metadata_match(register, "qx", None)).query)
    scanned = agendas(search(office, "qx"))
    monkeypatch.setattr(fts, "FIELD_SPARSE", 2000)
    served = str(register.filter(metadata_match(register, "qx", None)).query)
    assert ("brankas_bigrams" in served) == (connection.vendor == "postgresql")
    # the field matches first (newest first), then the content match no field matched
    assert agendas(search(office, "qx")) == scanned == [*(d.agenda for d in made), plain.agenda]


def test_the_bigram_index_follows_every_write(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document

    a = doc(office, body=None, subject="Permohonan zq")
    assert agendas(search(office, "zq")) == [a.agenda]
    a.subject = "Laporan bulanan"
    a.save()
    assert search(office, "zq") == [] and agendas(search(office, "ul")) == [a.agenda]
    Document.objects.filter(pk=a.pk).update(correspondent="Desa Wq")  # bulk UPDATE
    assert agendas(search(office, "wQ")) == [a.agenda]
    with connection.cursor() as cursor:  # a write no service makes (recover, raw SQL)
        cursor.execute("UPDATE documents_document SET number = 'X-Yj' WHERE id = %s", [a.pk])
    assert agendas(search(office, "yj")) == [a.agenda]
    a.delete()
    assert search(office, "yj") == [] and search(office, "wq") == []


def test_the_bigram_migration_is_postgresql_only() -> None:
    from brankas.web.text import fts

    assert fts.bigram_create_sql("sqlite") == [] and fts.bigram_drop_sql("sqlite") == []
    statements: Any = fts.bigram_create_sql("postgresql")
    assert any(fts.BIGRAM_INDEX in s for s in statements)
    assert fts.bigram_match_sql("abc", None) is None  # three characters: the trigram indexes
    assert fts.bigram_match_sql("a", None) is None  # one character: the scan


# ------------------------------------------------------------ PostgreSQL's snippets

FILLER = " ".join(f"kata{i}" for i in range(150))  # about 1,300 characters, no query word


def test_an_excerpt_holds_every_lexeme_cut_at_white_space() -> None:
    from brankas.web.text.fts import EXCERPT, excerpt

    body = f"{FILLER} rapat di desa {FILLER} koordinasi stunting {FILLER} rapat koordinasi"
    piece = excerpt(body, ["rapat", "koordinasi"])
    assert piece is not None and piece in body and len(piece) < EXCERPT + 200
    assert piece.endswith("rapat koordinasi")  # the shortest span holding both
    assert not piece[0].isspace() and body[body.index(piece) - 1] == " "  # cut at a space
    assert excerpt("rapat koordinasi", ["rapat"]) is None  # short: the whole text
    assert excerpt(body, ["sampai"]) is None  # a stem no substring: the whole text
    assert excerpt(body, []) is None
    assert excerpt("İ" * 2000, ["i"]) is None  # lower case longer than the text


def test_every_snippet_marks_a_match(office) -> None:  # type: ignore[no-untyped-def]
    """The snippets of long texts (PostgreSQL: headlines of an excerpt, or of the whole
    text when the excerpt cannot hold the match) mark the query's words: a stem that is
    no substring of its word, a substring that is no match, words far apart."""
    from brankas.web.text.fts import snippet_text
    from brankas.web.text.selectors import text_snippets

    a = doc(office, body=f"{FILLER} kami menyampaikan laporan {FILLER}")
    b = doc(office, body=f"sirapatix {FILLER} {FILLER} rapat dinas {FILLER}")
    c = doc(office, body=f"rapat {FILLER} {FILLER} {FILLER} koordinasi")
    d = doc(office, body=f"{FILLER} rapat koordinasi {FILLER} rapat {FILLER}")
    snippets = text_snippets("rapat", [b.pk, c.pk, d.pk])
    assert set(snippets) == {b.pk, c.pk, d.pk}
    assert all("«rapat»" in snippet_text(s).lower() for s in snippets.values()), snippets
    both = text_snippets("rapat koordinasi", [c.pk, d.pk])
    assert "«rapat» «koordinasi»" in snippet_text(both[d.pk]).lower()
    assert set(both) == {c.pk, d.pk}
    if connection.vendor == "postgresql":  # stemmed: "penyampaian" finds "menyampaikan"
        (found,) = text_snippets("penyampaian", [a.pk]).values()
        assert "«menyampaikan»" in snippet_text(found)


def test_the_window_runs_without_parallel_workers_or_jit(office) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: the ranked window's statement runs with no parallel worker and no JIT
    in its transaction (the planner priced the register's lookup per match past
    jit_optimize_above_cost: 670 ms of compilation for a query of 0.1 ms; session 21):
    ``set_config(..., true)``, local to the transaction the selector opens and rolls back
    (a savepoint inside a caller's, as here: the settings end with it; test_r21_pg.py)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: jit and parallel workers are its settings (run by "
                    "test_search_s21_pg.py)")
    from django.test.utils import CaptureQueriesContext

    doc(office, body="rapat koordinasi", subject="Perihal qx")
    with CaptureQueriesContext(connection) as queries:
        assert len(search(office, "rapat")) == 1
    sql = [q["sql"] for q in queries.captured_queries]
    at = next(i for i, s in enumerate(sql) if "set_config('jit', 'off', true)" in s)
    assert "max_parallel_workers_per_gather" in sql[at] and "ts_rank" in sql[at + 1]
    with connection.cursor() as cursor:  # not past the statement's savepoint (the test's)
        cursor.execute("SELECT current_setting('jit'), "
                       "current_setting('max_parallel_workers_per_gather')")
        assert cursor.fetchone() != ("off", "0")
