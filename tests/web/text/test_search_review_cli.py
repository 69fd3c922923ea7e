"""Review of ``brankas list --query`` (s19-rev-search): arguments no keyboard types (lone
surrogates: a byte that is no UTF-8, as a POSIX shell passes it), a query longer than any
database's pattern limit; the real command in a real process, a real SQLite file."""

from __future__ import annotations

import pytest

from tests.cli.test_register_cli import register
from tests.clirun import migrate_db_targets_from_template
from tests.conftest import make_pdf
from tests.web.text.test_pipeline_cli import text_rows
from tests.web.text.test_search_cli import put_text


@pytest.fixture
def one_letter(run_cli, cli_office, cli_home, tmp_path):  # type: ignore[no-untyped-def]
    pdf = tmp_path / "d.pdf"
    make_pdf(pdf, text="Laporan")
    r = register(run_cli, pdf, "biasa", "penerimaan", "Laporan keuangan")
    assert r.returncode == 0, r.stderr
    agenda = r.json()["agenda"]
    put_text(cli_home, agenda, "rapat koordinasi penanganan stunting")
    return agenda


@pytest.mark.parametrize("query", [
    "\udcff", "rapat\udcffkoordinasi", "\udce9rapat", "rapat \udc80",
    "x" * 60_000, "rapat " + "%" * 60_000, "rapat " + "_" * 60_000,
], ids=["lone", "inside", "leading", "high-surrogate", "60k", "60k-percent", "60k-underscore"])
def test_list_query_of_any_argument_answers_cleanly(run_cli, one_letter, query: str) -> None:  # type: ignore[no-untyped-def]
    """A query no one could mean, refused cleanly. An argument with undecodable bytes (a
    lone surrogate as Python decodes it): the first in a real process, whose standard
    error writes it (what only a process shows, once: 0.3 CPU-s a process), the others
    where it sits in the query in this process; a 60,000-character ASCII one in this
    process (tests/clirun.py: the same command, and nothing of it a process alone
    shows)."""
    r = run_cli("list", "--query", query, "--json", user="kasi", process=query == "\udcff")
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    # refused as a usage error, worded (not a database error, not a traceback)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "--query" in r.stderr and "200" in r.stderr, r.stderr[-2000:]
    assert r.stdout == ""


def test_list_query_at_the_limit_still_searches(run_cli, one_letter) -> None:  # type: ignore[no-untyped-def]
    query = "stunting " + "x" * 191
    r = run_cli("list", "--query", query[:200], "--json", user="kasi")
    assert r.returncode == 0, r.stderr
    r = run_cli("list", "--query", "stunting rapat", "--json", user="kasi")
    assert [row["agenda"] for row in r.json()] == [one_letter]


def _fts_state(path) -> tuple[list[int], list[int]]:  # type: ignore[no-untyped-def]
    """(the ids FTS5 finds for "stunting", the ids of the texts holding it), after
    FTS5's own integrity check of the index against its content table."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute("INSERT INTO text_fts(text_fts, rank) VALUES ('integrity-check', 1)")
        found = [r for (r,) in con.execute(
            "SELECT rowid FROM text_fts WHERE text_fts MATCH '\"stunting\"' ORDER BY rowid")]
        texts = [r for (r,) in con.execute(
            "SELECT document_id FROM text_documenttext WHERE body LIKE '%stunting%' "
            "ORDER BY document_id")]
        return found, texts
    finally:
        con.close()


def test_migrate_db_to_sqlite_copies_the_text_rows_and_gives_a_whole_index(  # type: ignore[no-untyped-def]
        run_cli, one_letter, cli_home, tmp_path) -> None:
    """The text rows are copied as they are. The copy inserts the texts raw (``_insert``):
    the target's triggers index them; the index's own tables are not copied (they would
    double every entry). (One migrate-db for both: the rows' test was in
    test_pipeline_cli.py. Its target is given the migrated tables first, as ``brankas
    init``'s database is: 2.2 -> 0.5 CPU-s.)"""
    before = text_rows(cli_home)
    assert len(before) == 1, before
    found, texts = _fts_state(cli_home / "brankas.sqlite3")
    assert found == texts and len(texts) == 1
    target = tmp_path / "baru.sqlite3"
    with migrate_db_targets_from_template():  # the copy is the point here, not migrating
        r = run_cli("migrate-db", "--to", f"sqlite:///{target}", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    assert {t["table"]: t["rows"] for t in r.json()["tables"]}["text_documenttext"] == 1, \
        "migrate-db's count of the text rows"
    assert _fts_state(target) == (found, texts), "the target's index"
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "brankas.sqlite3").write_bytes(target.read_bytes())
    assert text_rows(moved) == before, "the text rows copied as they were"
    from tests.conftest import cli

    rows = cli(moved, tmp_path, "list", "--query", "stunting", "--json", user="kasi").json()
    assert [row["agenda"] for row in rows] == [one_letter] and "«stunting»" in rows[0]["snippet"]
