"""The register's search by its fields (session 19, O2b): on SQLite a trigram FTS5 index
(web/text/fts.py, "the register's fields") narrows the rows and ``icontains`` stays the test;
the documents found are exactly those of the scan (``icontains`` alone, the search before
the index), checked on a corpus of awkward values on SQLite and on PostgreSQL
(test_search_fields_pg.py), paged and counted, the index following every write."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q

from tests.web.text.test_search import HOSTILE, doc

pytestmark = pytest.mark.django_db

# Field values: ASCII case, Latin letters with accents (LIKE folds ASCII only; the trigram
# tokenizer folds all of Unicode's case), Turkish dotted I, the Kelvin sign (folds to k),
# LIKE's own wildcards and escape, quotes, FTS5 syntax, spaces, digits.
VALUES = [
    "Dinas Komunikasi dan Informatika", "DINAS KESEHATAN", "dinas pendidikan",
    "Café Dinas Tua", "CAFÉ DINAS", "Émile Durkheim", "émile", "İstanbul Büyükşehir",
    "istanbul", "200 \u212aelvin", "200 kelvin", "Diskon 50% akhir_tahun", "50x akhirXtahun",
    "C:\\arsip\\surat", 'Rapat "khusus" NEAR(a b)', "rapat* OR NOT", "Straße", "STRASSE",
    "Ω-omega", "ω-OMEGA", "  spasi  ganda  ", "😀 emoji surat", "1/SK/2026", "01/sk/2026",
]
QUERIES = [
    "dinas", "DINAS", "Dinas K", "café", "CAFÉ", "cafe", "émile", "ÉMILE", "emile", "İst",
    "ist", "İSTANBUL", "\u212aelvin", "kelvin", "KELVIN", "50%", "0% a", "r_t", "_ta",
    "%", "_", "\\ar", "C:\\", '"khusus"', 'khusus"', "NEAR(", "* OR", "straße", "STRASSE",
    "ss", "Ω-o", "ω-o", "Ω-OMEGA", "  spasi", "😀 e", "😀", "/sk/", "SK/2", "2026", "zzzz",
    "ab", "a", "", "   ", *HOSTILE,
]


def corpus(office: Any) -> list[Any]:
    docs = []
    for i, value in enumerate(VALUES):
        slot = ["subject", "correspondent", "number"][i % 3]
        docs.append(doc(office, body=None, **{slot: value}))
    docs.append(doc(office, subject="Surat rahasia dinas", classification="rahasia"))
    return docs


def old_match(query: str) -> Q:
    """The field search before the index: icontains over the four columns, of the query
    in NFC (as the register's search takes it: a decomposed query is the same words)."""
    q = unicodedata.normalize("NFC", query.replace("\x00", "")).strip()
    return (Q(agenda__icontains=q) | Q(number__icontains=q) | Q(subject__icontains=q)
            | Q(correspondent__icontains=q))


def ids(qs: Any) -> list[int]:
    return list(qs.values_list("id", flat=True))


def test_the_field_search_finds_what_the_scan_found(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from brankas.web.documents.selectors import document_list, metadata_match

    corpus(office)
    register = Document.objects.order_by("-registered_at", "-seq")
    served = 0
    for query in QUERIES:
        expected = ids(register.filter(old_match(query)))
        match = metadata_match(register, query, None)
        assert ids(register.filter(match)) == expected, query
        assert register.filter(match).count() == len(expected), query
        assert ids(register.exclude(match)) == ids(register.exclude(old_match(query))), query
        assert ids(document_list(actor=office.users["kasi"], query=query)) == (
            expected if query.replace("\x00", "").strip() else ids(register)), query
        try:
            served += "field_fts" in str(register.filter(match).query)
        except EmptyResultSet:  # the index found no row that may hold it: no query at all
            served += 1
    if connection.vendor == "sqlite":
        assert served >= 30  # the index served (not the scan everywhere)
    # the corpus is awkward where it should be: LIKE and the trigram fold differ there
    assert ids(register.filter(old_match("émile"))) != ids(register.filter(old_match("ÉMILE")))


def test_the_index_serves_a_query_of_three_characters_or_more(office) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's field index (PostgreSQL: the trigram GIN indexes)")
    from brankas.web.documents.models import Document
    from brankas.web.documents.selectors import metadata_match

    corpus(office)
    register = Document.objects.order_by("-registered_at", "-seq")

    def plan(q: Q) -> str:
        sql, params = register.filter(q)[:50].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(str(r[-1]) for r in cursor.fetchall())

    assert "documents_field_fts" in plan(metadata_match(register, "kelvin", None))
    assert "documents_field_fts" not in plan(metadata_match(register, "ab", None))  # the scan


def test_a_common_substring_is_found_by_the_scan(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's field index")
    from brankas.web.documents.models import Document
    from brankas.web.documents.selectors import metadata_match
    from brankas.web.text import fts
    from tests.web.text.test_search import agendas, search

    monkeypatch.setattr(fts, "FIELD_SPARSE", 2)
    made = [doc(office, body=None, subject=f"Surat edaran {i}", minutes_ago=i) for i in range(5)]
    register = Document.objects.order_by("-registered_at", "-seq")
    assert "field_fts" not in str(register.filter(metadata_match(register, "edaran", None)).query)
    assert agendas(search(office, "edaran")) == [d.agenda for d in made]
    assert "field_fts" in str(register.filter(metadata_match(register, "edaran 3", None)).query)
    assert agendas(search(office, "edaran 3")) == [made[3].agenda]


def test_the_field_index_follows_every_write(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from tests.web.text.test_search import agendas, search

    a = doc(office, body=None, subject="Permohonan narasumber")
    assert agendas(search(office, "narasumber")) == [a.agenda]
    a.subject = "Laporan bulanan"
    a.save()
    assert search(office, "narasumber") == [] and agendas(search(office, "bulanan")) == [a.agenda]
    Document.objects.filter(pk=a.pk).update(correspondent="Kecamatan Sukamaju")  # bulk UPDATE
    assert agendas(search(office, "sukamaju")) == [a.agenda]
    Document.objects.filter(pk=a.pk).update(number="77/XYZ/2026")
    assert agendas(search(office, "/xyz/")) == [a.agenda]
    with connection.cursor() as cursor:  # a write no service makes (recover, raw SQL)
        cursor.execute("UPDATE documents_document SET agenda = 'Q-ZETA-1' WHERE id = %s", [a.pk])
    assert agendas(search(office, "q-zeta")) == ["Q-ZETA-1"]
    a.delete()
    assert search(office, "q-zeta") == [] and search(office, "sukamaju") == []


def test_lost_field_triggers_are_made_again_and_the_index_rebuilt(office) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's field index")
    from brankas.web.text import fts
    from tests.web.text.test_search import agendas, search

    with connection.cursor() as cursor:
        for trigger in fts.FIELD_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {trigger}")
    a = doc(office, body=None, subject="Musyawarah desa")
    assert search(office, "musyawarah") == []  # control: without them the index is stale
    fts.repair("default")
    assert agendas(search(office, "musyawarah")) == [a.agenda]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                       "AND name LIKE 'documents_field_fts%%'")
        assert cursor.fetchone()[0] == len(fts.FIELD_TRIGGERS)


def test_the_field_index_tables_are_not_rows_already_there(db) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's field index")
    from brankas.web.databases import rows_already_there
    from brankas.web.text import fts

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {fts.FIELD_FTS}_config")  # noqa: S608 (our name)
        assert cursor.fetchone()[0] >= 1
    assert rows_already_there(connection) is None


def test_a_query_in_no_field_runs_no_field_test(office) -> None:  # type: ignore[no-untyped-def]
    """SQLite: a query the field index finds in no row (most searches of several words) is
    no field match without a query, and excludes nothing from the content search: the
    index's match is not run again there (session 20); the results are the same."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's field index")
    from brankas.web.documents.models import Document
    from brankas.web.documents.selectors import metadata_match
    from brankas.web.text.selectors import _where
    from tests.web.text.test_search import agendas, search

    a = doc(office, body="undangan rapat koordinasi stunting", subject="Undangan")
    b = doc(office, body="rapat koordinasi", subject="Rapat koordinasi stunting desa")
    register = Document.objects.order_by("-registered_at", "-seq")
    nowhere = metadata_match(register, "koordinasi stunting undangan", None)
    assert not register.filter(nowhere).exists()
    assert _where(register.exclude(nowhere)) == ("", [])  # no exclusion at all
    assert agendas(search(office, "undangan stunting")) == [a.agenda]
    assert agendas(search(office, "koordinasi stunting")) == [b.agenda, a.agenda]
    somewhere = metadata_match(register, "koordinasi stunting", None)
    assert "field_fts" in str(register.filter(somewhere).query)
