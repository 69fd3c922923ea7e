"""The pipeline with the real OCR engine (OCRmyPDF and Tesseract with the ``ind`` data):
a scan read through a private workdir that leaves nothing behind, in the data folder or the
system's temp folders; a blank scan marked unreadable; an exempted scan never read.
Skipped where the engine is not installed (``make test`` installs it)."""

from __future__ import annotations

import io
import secrets
import time
from pathlib import Path

import pytest

from brankas.core.text import ocr_engine
from brankas.web.text import services as text
from brankas.web.text.models import DocumentText
from tests.conftest import make_jpeg
from tests.leakscan import SHARED_TEMP, scan_for
from tests.web.text.test_pipeline import ocr_left, register

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(ocr_engine() is None, reason="OCR is not installed here")]


def rendered_scan(text: str) -> bytes:
    """A page of A4 at 100 dpi with ``text`` (its lines) in large type (23 pt), as a PNG
    scan: the cheapest scan the pipeline's tests need, OCR'd in 1.7 CPU-s (2.7 at 200 dpi;
    the engine's reading of realistic scans: tests/core/text/test_ocr.py). Every line must
    fit inside the page's margins: a line cut at the edge is read with its last characters
    wrong (one in three scans of a 40-character line lost its last digit)."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (827, 1170), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=32)
    for i, line in enumerate(text.splitlines()):
        at = (75, 150 + 60 * i)
        right = draw.textbbox(at, line, font=font)[2]
        assert right <= page.width - 75, f"{line!r} runs off the page ({right} px)"
        draw.text(at, line, fill=0, font=font)
    out = io.BytesIO()
    page.save(out, format="PNG", dpi=(100, 100))
    return out.getvalue()


def database_files(home: Path) -> tuple[Path, ...]:
    db = home / "brankas.sqlite3"
    return (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))


def test_a_scan_is_read_by_ocr_and_its_temporary_files_go(office) -> None:
    started = time.time() - 1
    number = f"{secrets.randbelow(10**8):08d}"
    doc = register(office, data=rendered_scan(f"UNDANGAN RAPAT KOORDINASI\nNOMOR {number}"),
                   name="scan.png")
    row = text.text_read(document=doc)
    assert row is not None
    row.refresh_from_db()
    assert (row.method, row.status) == ("ocr", "text")
    assert "KOORDINASI" in row.body.upper()
    assert ocr_left(office.home) == []
    # what OCR made of the random number (a digit may be misread): in the database only
    marker = row.body.split()[-1].encode()
    assert len(marker) >= 6
    assert scan_for(marker, [office.home], exclude=database_files(office.home)) == []
    assert scan_for(marker, SHARED_TEMP, since=started,
                    exclude=database_files(office.home)) == []


def test_a_blank_scan_is_marked_unreadable_and_an_exempted_one_is_never_read(office) -> None:
    started = time.time() - 1
    blank = register(office, data=make_jpeg(size=(827, 1170)), name="kosong.jpg")  # A4, 100 dpi
    number = f"{secrets.randbelow(10**8):08d}"
    hidden = register(office, classification="rahasia",
                      data=rendered_scan(f"RAHASIA OPERASI SENYAP\nNOMOR {number}"),
                      name="rahasia.png")
    summary = text.text_job_run(actor=office.users["operator"], params={"scope": "pending"})
    assert (summary.total, summary.unreadable, summary.failed_count) == (1, 1, 0)
    assert DocumentText.objects.get(pk=blank.pk).status == "unreadable"
    assert not DocumentText.objects.filter(pk=hidden.pk).exists()
    assert scan_for(number.encode(), [office.home, *SHARED_TEMP], since=started) == []
