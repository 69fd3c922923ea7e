"""The text of biasa documents travels on the backup disk: in the database snapshot (a whole
one, or a journal part), so ``brankas recover`` brings the rows back; and in the register
CSV a clerk opens in a spreadsheet (a text column, formula-guarded, biasa only)."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest

import brankas.core.text.engine as engine
from tests.cli.backup.conftest import EXEMPT_MARKERS, Office, newest_seal
from tests.conftest import cli
from tests.web.text.test_pipeline import letter

pytestmark = pytest.mark.slow  # two backups and a recover through the command

ROWS = "SELECT d.agenda, t.status, t.method, t.body, t.pages, t.engine, t.content_sha256, " \
       "t.read_at FROM text_documenttext t JOIN documents_document d ON d.id = t.document_id " \
       "ORDER BY d.agenda"


@pytest.fixture
def disk_office(backed_up_template: Office, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Office:
    """A private copy of the backed-up office and its disk, its commands run in this process
    as if no OCR engine were installed: the template's biasa documents (a line of text, too
    few words to skip OCR: 4-5 CPU-s of Tesseract each at the engine's 400 dpi for a page
    without images) are then read from their text layer, the rest of them left pending, as
    on a server without OCR. What this test follows is the rows, not how they were read
    (tests/core/text, test_pipeline_ocr.py: the engine)."""
    monkeypatch.setattr(engine, "_found", (None, "left out by test_pipeline_backup"))
    t = backed_up_template
    base = tmp_path / "o"
    base.mkdir()
    shutil.copytree(t.home, base / "home")
    shutil.copytree(t.disk, base / "disk")
    return Office(base=base, home=base / "home", disk=base / "disk", secrets=t.secrets,
                  recovery_file=t.recovery_file, docs=dict(t.docs), first_run=t.first_run)


def newest_register(disk: Path, name: str) -> list[dict[str, str]]:
    folders = sorted(p for p in (disk / "data" / "backup").iterdir() if (p / name).exists())
    data = (folders[-1] / name).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(data)))


def test_recover_brings_the_text_back_and_the_register_csv_carries_it(
        disk_office: Office) -> None:
    office = disk_office
    formula = office.register("penerimaan", "biasa", "Rumus",
                              pdf=letter("=HYPERLINK(\"http://x\") rapat"))
    later = office.register("penerimaan", "biasa", "Nota", pdf=letter("Nota dinas"))
    r = office.cli("ocr", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    biasa = [d for d in office.docs.values() if not d.exempted]
    assert r.json()["read"] == len(biasa)
    before = office.sql(ROWS)
    assert [row[0] for row in before] == sorted(d.agenda for d in biasa)

    # a whole snapshot: the register CSV gets the text column
    r = office.backup()
    assert r.returncode == 0, r.stderr
    rows = {row["No. Agenda"]: row for row in newest_register(office.disk,
                                                              "register-biasa.csv")}
    assert set(rows) == {d.agenda for d in biasa}
    for doc in biasa:
        if doc not in (formula, later):
            assert doc.subject in rows[doc.agenda]["Teks Dokumen"]
    assert rows[formula.agenda]["Teks Dokumen"].startswith("'=HYPERLINK")
    assert "\f" not in "".join(r["Teks Dokumen"] for r in rows.values())

    # journal parts carry the rows written since (a text read after a later document's,
    # out of pk order, then texts read again), not the whole table each time
    con = sqlite3.connect(office.home / "brankas.sqlite3")
    with con:
        con.execute("DELETE FROM text_documenttext WHERE document_id = "
                    "(SELECT id FROM documents_document WHERE agenda = ?)", (formula.agenda,))
    con.close()
    r = office.backup()  # a whole snapshot, without that row
    assert r.returncode == 0, r.stderr
    assert office.cli("ocr", user="operator").returncode == 0  # that one, read again
    for redo in (False, True):
        if redo:  # (born-digital ones: the template's few-word pages would be OCR'd)
            assert office.cli("ocr", formula.agenda, later.agenda,
                              user="operator").returncode == 0
        r = office.cli("backup", str(office.disk), "--json", user="operator",
                       env={"BRANKAS_JOURNAL_MIN_BYTES": "0"})
        assert r.returncode == 0, r.stderr
        seal = newest_seal(office.disk)
        marks = seal["snapshot_marks"]["timed"]["text.DocumentText"]
        assert marks["count"] == len(biasa)
    assert len(newest_seal(office.disk)["snapshot"]["journal"]) >= 2
    before = office.sql(ROWS)

    new = office.base / "recovered"
    r = cli(new, office.base, "recover", str(office.disk), "--home", str(new), "--identity",
            str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    recovered = Office(base=office.base, home=new, disk=office.disk, secrets=office.secrets,
                       recovery_file=office.recovery_file)
    assert recovered.sql(ROWS) == before
    # and nothing of an exempted document's text is anywhere on the disk in the clear
    for marker in EXEMPT_MARKERS:
        for path in office.disk.rglob("*"):
            if path.is_file():
                assert marker.encode() not in path.read_bytes(), path
