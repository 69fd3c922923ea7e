"""tests/web/text/test_search.py on PostgreSQL (the generated ``search_vector`` column, its
GIN index, ``plainto_tsquery``/``ts_rank``/``ts_headline`` in the ``indonesian``
configuration), and what only PostgreSQL does: Indonesian stemming."""

from __future__ import annotations

import pytest

from tests.web import pgoffice
from tests.web.text.test_search import (  # noqa: F401 (collected here too)
    HOSTILE,
    agendas,
    doc,
    search,
    test_a_hostile_query_is_a_query_not_an_error,
    test_an_exempted_document_is_never_a_content_match,
    test_every_word_must_appear_in_any_order_case_and_accents_folded,
    test_field_matches_first_then_the_texts_best_first,
    test_no_content_search_without_a_word,
    test_pages_of_a_search_are_the_ranked_list_cut_in_fifties,
    test_past_the_ranked_matches_older_ones_follow_newest_first,
    test_the_filters_combine_with_the_text_match,
    test_the_first_page_and_its_capped_count_read_the_index_once,
    test_the_index_follows_every_insert_change_and_delete,
    test_the_list_page_counts_a_capped_search,
    test_the_page_answers_every_hostile_query,
    test_the_snippet_is_escaped_and_only_the_matches_are_marked,
    test_the_text_match_drives_the_query_then_the_filters,
)

office, pg_office = pgoffice.office, pgoffice.pg_office  # the office, built once (PostgreSQL)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


def test_the_indonesian_configuration_stems_the_words(office) -> None:  # type: ignore[no-untyped-def]
    """Checked, not assumed: PostgreSQL 15's Snowball Indonesian stemmer takes the prefixes
    and suffixes off ("berkoordinasi" -> "koordinasi", "pertemuan" -> "temu",
    "disampaikan" -> "sampai"); FTS5 (no stemmer) does not."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsvector('indonesian', 'berkoordinasi pertemuan disampaikan')")
        (vector,) = cursor.fetchone()
    assert vector == "'koordinasi':1 'sampai':3 'temu':2"
    a = doc(office, body="Dinas kesehatan berkoordinasi dengan kecamatan")
    b = doc(office, body="Pertemuan membahas anggaran yang disampaikan kepala bidang")
    assert agendas(search(office, "koordinasi")) == [a.agenda]
    assert agendas(search(office, "dikoordinasikan")) == [a.agenda]
    assert agendas(search(office, "penyampaian pertemuan")) == [b.agenda]
    assert agendas(search(office, "menyampaikan temu")) == [b.agenda]
    # a stemmer, not a dictionary: "bertemu" is cut to "berte", not "temu"
    assert search(office, "bertemu") == []
