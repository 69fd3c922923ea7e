"""The office layout's own rules (issue 14), on documents made here: a value wraps at a
space or after a "/", never inside a word; a table too wide for a portrait page gets
landscape pages of its own; every page is numbered "Halaman x dari y"; dates read as
Indonesians write them."""

from __future__ import annotations

import io
import shutil
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pypdf
import pytest

from brankas.core.printing.dates import date_id, datetime_id, restyle
from brankas.core.printing.pdf import (
    PrintDocument,
    PrintTable,
    Signature,
    render_pdf,
    wrap,
)
from tests.web.test_papers import atoms, check_layout, pages_of


def test_wrap_breaks_at_spaces_then_after_a_slash_never_inside_a_word() -> None:
    assert wrap("Permintaan pengiriman berita", 60) == ["Permintaan", "pengiriman", "berita"]
    lines = wrap("005/1234/Setda/2026", 45)
    assert "".join(lines) == "005/1234/Setda/2026" and len(lines) > 1
    assert all(line.endswith("/") for line in lines[:-1])  # broken only after a "/"
    # too narrow even for one word: cut where the line is full (the last resort only)
    assert "".join(wrap("Dikembalikan", 20)) == "Dikembalikan"
    assert wrap("a\nb c", 500) == ["a", "b c"]


def test_dates_as_indonesians_write_them() -> None:
    assert date_id(date(2026, 12, 5)) == "5 Desember 2026"
    at = datetime(2026, 12, 5, 7, 30, tzinfo=UTC)
    assert datetime_id(at, ZoneInfo("Asia/Jakarta")) == "5 Desember 2026 14.30 WIB"
    assert datetime_id(at, ZoneInfo("Asia/Makassar")) == "5 Desember 2026 15.30 WITA"
    assert restyle("mulai 2026-05-07 16:00, selesai 2026-05-08") == \
        "mulai 7 Mei 2026 16.00, selesai 8 Mei 2026"
    assert restyle("M-2026-0001 dan 5/DK/05/2026 dan 2026-05") == \
        "M-2026-0001 dan 5/DK/05/2026 dan 2026-05"  # agenda, numbers, periods untouched


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_wide_table_gets_landscape_pages_and_every_page_is_numbered(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Nine columns of unbreakable words: too wide for a portrait page even at 7 points.
    columns = [f"Kolom {n}" for n in range(1, 10)]
    rows = [[*(f"Permintaanpanjang{r}{c}" for c in range(8)), f"{r}/1234/Setda/2026"]
            for r in range(60)]
    doc = PrintDocument(
        office="PEMERINTAH KABUPATEN CONTOH", letterhead=["DINAS CONTOH"],
        contact=["Jl. Contoh 1"], title="NASKAH UJI", number="001/UJI/2026",
        tables=[PrintTable(columns=["No", "Uraian"], rows=[["1", "sempit"]]),
                PrintTable(columns=columns, rows=rows, title="Tabel lebar")],
        signatures=[Signature("Dibuat oleh,", "Nama Pejabat", nip="198001012005011001")],
        place_date="Lolak, 5 Desember 2026")
    pdf = render_pdf(doc)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    shapes = [float(p.mediabox.width) > float(p.mediabox.height) for p in reader.pages]
    assert shapes[0] is False and True in shapes  # the first page portrait, then landscape
    assert shapes[-1] is False  # back to portrait for the signatures
    expected = [a for c in columns for a in atoms(c)] + \
        [a for row in rows for cell in row for a in atoms(cell)]
    check_layout(pages_of(pdf, tmp_path, "lebar"), expected=expected,
                 letterhead="PEMERINTAH KABUPATEN CONTOH")
