"""SQLite's FTS5 index does not stem (docs/search.md): a word matches itself only."""

from __future__ import annotations

import pytest

from tests.web.text.test_search import agendas, doc, search

pytestmark = pytest.mark.django_db


def test_fts5_matches_whole_words_without_stemming(office) -> None:  # type: ignore[no-untyped-def]
    a = doc(office, body="Dinas kesehatan berkoordinasi dengan kecamatan")
    assert search(office, "koordinasi") == []
    assert search(office, "berkoordinas") == []  # no prefix search either
    assert agendas(search(office, "berkoordinasi")) == [a.agenda]
