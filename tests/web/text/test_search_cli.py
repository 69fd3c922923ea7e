"""``brankas list --query`` searches the documents' texts too; ``--json`` gives the
snippet, each match between « and » (the real command, a real SQLite file)."""

from __future__ import annotations

import sqlite3

from tests.cli.test_register_cli import register
from tests.conftest import make_pdf


def put_text(home, agenda: str, body: str) -> None:  # type: ignore[no-untyped-def]
    """A text row written as any other writer would (here raw SQL on the instance's
    database): the index follows by its triggers."""
    db = sqlite3.connect(home / "brankas.sqlite3")
    with db:
        (pk,) = db.execute("SELECT id FROM documents_document WHERE agenda = ?",
                           [agenda]).fetchone()
        db.execute("DELETE FROM text_documenttext WHERE document_id = ?", [pk])
        db.execute("INSERT INTO text_documenttext (document_id, status, method, body, pages, "
                   "engine, content_sha256, read_at) VALUES (?, 'text', 'ocr', ?, 1, 't', ?, "
                   "'2026-12-06 00:00:00')", [pk, body, "0" * 64])
    db.close()


def test_list_query_finds_the_text_and_gives_its_snippet(run_cli, cli_office, cli_home, tmp_path):  # type: ignore[no-untyped-def]
    agendas = []
    for i, subject in enumerate(["Laporan keuangan", "Undangan musyawarah"]):
        pdf = tmp_path / f"d{i}.pdf"
        make_pdf(pdf, text=subject)
        r = register(run_cli, pdf, "biasa", "penerimaan", subject)
        assert r.returncode == 0, r.stderr
        agendas.append(r.json()["agenda"])
    put_text(cli_home, agendas[0], "Hasil <b>rapat</b> koordinasi penanganan stunting di desa")
    rows = run_cli("list", "--query", "stunting koordinasi", "--json", user="kasi").json()
    assert [r["agenda"] for r in rows] == [agendas[0]]
    assert "«koordinasi»" in rows[0]["snippet"] and "«stunting»" in rows[0]["snippet"]
    assert "<b>rapat</b>" in rows[0]["snippet"]  # plain text: nothing escaped, nothing lost
    # a field match carries no snippet unless its text matches too
    rows = run_cli("list", "--query", "musyawarah", "--json", user="kasi").json()
    assert [r["agenda"] for r in rows] == [agendas[1]] and "snippet" not in rows[0]
    text = run_cli("list", "--query", "stunting", user="kasi")
    assert text.returncode == 0 and "«stunting»" in text.stdout
    for hostile in ['"', "NEAR(", "a:b", "*", ")("]:
        r = run_cli("list", "--query", hostile, "--json", user="kasi")
        assert r.returncode == 0, (hostile, r.stderr)
