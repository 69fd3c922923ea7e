"""Representative hostile inputs through the real ``brankas register`` (a subprocess)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest

from brankas.core.errors import MESSAGES
from tests.hostile.checks import files_under
from tests.hostile.corpus import CASES, OK, Case, fields_of

CLI_CASES = [c for c in CASES if c.cli]


def counts(home) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        docs = db.execute("select count(*) from documents_document").fetchone()[0]
        ok = db.execute("select count(*) from audit_auditevent where action like 'document.%'"
                        " and outcome = 'ok'").fetchone()[0]
    return docs, ok


def test_some_cases_run_through_the_cli() -> None:
    assert len(CLI_CASES) >= 6
    assert {c.code for c in CLI_CASES} >= {OK, "file_polyglot", "pdf_active_content"}


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_hostile_input_through_the_cli(run_cli, cli_office, cli_home, tmp_path,
                                       case: Case) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name, data in case.files():
        path = folder / name
        path.write_bytes(data)
        paths.append(str(path))
    fields = fields_of(case, dt.date.today().isoformat())
    args = ["register", *paths, "--json"]
    for key in ("direction", "classification", "number", "subject", "correspondent"):
        args += [f"--{key}", fields[key]]
    args += ["--date", fields["doc_date"]]
    if fields["pages"]:
        args += ["--pages", fields["pages"]]
    r = run_cli(*args, user="operator")
    if case.code == OK:
        assert r.returncode == 0, r.stderr
        assert counts(cli_home) == (1, 1)
        return
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("brankas: ")
    literal = max(re.split(r"\{[^}]*\}", MESSAGES[case.code][1]), key=len).strip()
    assert literal in r.stderr
    assert "Traceback" not in r.stderr
    assert counts(cli_home) == (0, 0)
    assert files_under(cli_home / "arsip") == [] and files_under(cli_home / "tmp") == []
