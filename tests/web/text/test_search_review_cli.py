"""Review of ``brankas list --query`` (s19-rev-search): arguments no keyboard types (lone
surrogates: a byte that is no UTF-8, as a POSIX shell passes it), a query longer than any
database's pattern limit; the real command in a real process, a real SQLite file."""

from __future__ import annotations

import pytest

from tests.cli.test_register_cli import register
from tests.conftest import make_pdf
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
    r = run_cli("list", "--query", query, "--json", user="kasi", process=True)
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
