"""Review of session 21's PostgreSQL search (r21): the window's session settings (no JIT,
no parallel workers) end with the search, in a caller's transaction as in autocommit; the
gathered window finds what the plain plan finds (filters, paging past the window, exempted
documents); an excerpt's snippet shows no part of a cut tag."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from tests.web.text.test_search import agendas, doc, search

pytestmark = [pytest.mark.postgres]

SETTINGS = ("SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather'), "
            "current_setting('statement_timeout')")


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


def _settings() -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(SETTINGS)
        row = cursor.fetchone()
    return (str(row[0]), str(row[1]), str(row[2]))


@pytest.mark.django_db
def test_r21_settings_end_with_the_search_in_a_callers_transaction(office) -> None:  # type: ignore[no-untyped-def]
    """A search inside a transaction of its caller (here the test's; a service's, a
    command's): the statements after it, in the same transaction, run as before."""
    doc(office, body="rapat koordinasi", subject="Perihal qx")
    before = _settings()
    assert before[0] != "off" or before[1] != "0"  # something to change
    assert agendas(search(office, "rapat")) and agendas(search(office, "qx"))
    assert _settings() == before
    with transaction.atomic():  # and inside a savepoint of the caller's
        search(office, "koordinasi")
        assert _settings() == before
    assert _settings() == before


@pytest.mark.django_db(transaction=True)
def test_r21_settings_end_with_the_search_in_autocommit() -> None:
    """Autocommit (a web request, the CLI: no transaction of their own; a persistent
    connection kept for the next request): the settings end with the search's own."""
    from brankas.web.documents.models import Document
    from brankas.web.text.selectors import text_count, text_search

    assert connection.get_autocommit() and not connection.in_atomic_block
    before = _settings()
    text_search("rapat koordinasi", within=Document.objects.all(), limit=10)
    text_count("rapat", within=Document.objects.all(), cap=5)
    assert _settings() == before
    assert connection.get_autocommit() and not connection.in_atomic_block



@pytest.mark.django_db(transaction=True)
def test_r21_settings_end_with_a_web_search(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    """The register's page (no ATOMIC_REQUESTS; the test client keeps the connection, as
    CONN_MAX_AGE does between requests): the next statement on it runs as before."""
    a = doc(office, body="rapat koordinasi", subject="Perihal qx")
    before = _settings()
    for query in ("rapat", "qx", "koordinasi rapat"):
        page = signed_in("kasi").get("/documents/", {"q": query})
        assert page.status_code == 200 and a.agenda in page.content.decode()
        assert _settings() == before


@pytest.mark.django_db
def test_r21_gathered_window_finds_what_the_plain_plan_finds(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The gathered window (sorted, then the register by LATERAL lookups) and the plain
    plan give the same documents in the same order: filters, two characters with a
    filter, paging past the ranked window, exempted documents never found by text."""
    from brankas.web.text import fts, selectors

    monkeypatch.setattr(selectors, "RANKED", 3)
    for i in range(14):
        doc(office, body=f"rapat koordinasi nomor {i} zq" if i % 4 else f"rapat saja {i}",
            subject=f"Perihal {i}" + (" zq" if i % 5 == 0 else ""),
            direction="pengiriman" if i % 3 == 0 else "penerimaan",
            classification="rahasia" if i == 7 else "biasa", year=2025 + i % 2)
    queries: list[tuple[str, dict[str, Any]]] = [
        ("rapat", {}), ("rapat koordinasi", {}), ("rapat", {"direction": "pengiriman"}),
        ("rapat", {"year": 2026}), ("zq", {}), ("zq", {"direction": "penerimaan"}),
        ("rapat", {"classification": "biasa"}), ("koordinasi", {"year": 2025}),
    ]
    for gathered in (True, False):
        monkeypatch.setattr(fts, "gather_matches", lambda *a, g=gathered: g)
        found = {(q, tuple(f.items())): agendas(search(office, q, **f)) for q, f in queries}
        if gathered:
            first = found
    assert found == first
    assert all(found.values())


@pytest.mark.django_db
def test_r21_an_excerpts_snippet_shows_no_part_of_a_cut_tag(office) -> None:  # type: ignore[no-untyped-def]
    """ts_headline drops a markup tag of the text (its parser's tag token); an excerpt
    cut at a space inside one (``<span class="a" title="b">``) would show its tail as
    words."""
    from brankas.web.text.fts import excerpt, snippet_text
    from brankas.web.text.selectors import text_snippets

    long_words = " ".join(f"panjang{'x' * 30}{i}" for i in range(30))
    tag = "<span " + " ".join(f'data-k{i}="v{i}"' for i in range(40)) + ">"
    near = " ".join(f"kata{'y' * 30}{i}" for i in range(8))
    body = f"{long_words} {tag} {near} rapat {long_words}"
    piece = excerpt(body, ["rapat"])
    assert piece is not None and "rapat" in piece
    (snippet,) = text_snippets("rapat", [doc(office, body=body).pk]).values()
    text = snippet_text(snippet)
    assert "«rapat»" in text
    assert "data-k" not in text and '="' not in text and ">" not in text, text


from tests.web.text.test_r21_search import (  # noqa: E402,F401 (collected here too)
    test_r21_hostile_queries_are_answered,
    test_r21_snippets_of_long_texts,
    test_r21_the_bigram_migration_goes_back_and_forth,
    test_r21_two_characters_with_filters_and_pages,
)


@pytest.mark.django_db
def test_r21_an_excerpt_around_a_false_substring_marks_the_real_match(office) -> None:  # type: ignore[no-untyped-def]
    """Two words, the shortest span holding both as substrings being no match of one
    ("koordinasi" inside "xkoordinasix"): the snippet marks both words where the text
    matches them together, as the whole text's headline does."""
    from brankas.web.text.fts import snippet_text
    from brankas.web.text.selectors import text_snippets

    filler = " ".join(f"kata{i}" for i in range(200))
    body = f"rapat xkoordinasix {filler} {filler} koordinasi dan rapat {filler}"
    (snippet,) = text_snippets("rapat koordinasi", [doc(office, body=body).pk]).values()
    text = snippet_text(snippet).lower()
    assert "«koordinasi»" in text and "«rapat»" in text, text


@pytest.mark.django_db
def test_r21_snippets_never_bring_a_huge_text_into_memory(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL's excerpts are cut here from the bodies the database sends: a text of up
    to 2,000,000 characters (normalise.MAX_TEXT_CHARS), 900 ids a statement (the CLI's
    ``list --query`` snippets every result) would be gigabytes. A text longer than
    ``fts.EXCERPT_BODY_MAX`` is headlined whole by the database, as before session 21; the
    body statements take at most ``selectors.BODY_IDS`` ids."""
    from brankas.web.text import fts, selectors
    from brankas.web.text.fts import snippet_text

    assert fts.EXCERPT_BODY_MAX * selectors.BODY_IDS <= 20_000_000
    monkeypatch.setattr(fts, "EXCERPT_BODY_MAX", 5000)
    seen: list[int] = []
    real = fts.excerpt

    def measured(body: str, lexemes: list[str]) -> str | None:
        seen.append(len(body))
        return real(body, lexemes)

    monkeypatch.setattr(fts, "excerpt", measured)
    filler = " ".join(f"kata{i}" for i in range(1500))  # about 14,000 characters
    big = doc(office, body=f"{filler} rapat koordinasi {filler}")
    small = doc(office, body=f"{filler[:2000]} rapat koordinasi {filler[:2000]}")
    snippets = selectors.text_snippets("rapat", [big.pk, small.pk])
    assert set(snippets) == {big.pk, small.pk}
    assert all("«rapat»" in snippet_text(s) for s in snippets.values()), snippets
    assert seen and max(seen) <= 5000, seen
