"""Papers with hostile values (the office profile and the records are typed by people):
markup is printed as text, a value with no space longer than the line stays on the page,
the footer never runs into the page number, a short column heading stays whole beside a
column no layout can hold, and combining accents and control characters do not print as
missing-glyph boxes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from brankas.core.printing.pdf import (
    PrintDocument,
    PrintTable,
    PrintText,
    Signature,
    render_pdf,
)
from tests.web.test_papers import check_layout, pages_of

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (poppler-utils) is not installed")

LONG = "Z" * 300  # an agenda number or subject of 300 characters without a space
MARKUP = '<font size="40">BESAR</font> &amp; <script>x</script> <img src="/etc/passwd"/>'


def _page_sizes(pdf_path: Path) -> list[tuple[float, float]]:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True,
                         check=True, text=True).stdout
    return [(float(w), float(h)) for w, h in
            re.findall(r'<page width="([\d.]+)" height="([\d.]+)">', out)]


def test_a_word_longer_than_the_line_stays_on_the_page_and_off_the_page_number(
        tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = PrintDocument(
        office=f"PEMERINTAH KABUPATEN {LONG}", letterhead=[LONG], contact=[LONG],
        title=f"JUDUL {LONG}", number=LONG, facts=[("Label disk", LONG)],
        tables=[PrintText("Ringkasan", paragraphs=[LONG], facts=[("Perihal", LONG)]),
                PrintTable(columns=["No", "Perihal"], rows=[["1", LONG]])],
        notes=[LONG], place_date=LONG,
        signatures=[Signature("Dibuat oleh,", name=LONG, position=LONG, nip="1")],
        footer=f"001/RPD/2026 - dicetak oleh {LONG}")
    pdf = render_pdf(doc)
    pages = pages_of(pdf, tmp_path, "panjang")
    # every page numbered, nothing overprinted (the footer and "Halaman x dari y"), the
    # short heading "No" whole beside a column that no layout holds
    check_layout(pages, expected=["No", "Perihal", "Ringkasan", "Label", "disk"],
                 letterhead="PEMERINTAH KABUPATEN")
    # every copy whole (pdftotext leaves out what is printed beyond the page's edge): the
    # office line, the letterhead line, the contact line, the title, the number, the fact,
    # the paragraph, the block's fact, the table cell, the note, the place and date, the
    # signature's name and position
    joined = "".join(w.text for p in pages for w in p)
    assert joined.count(LONG) >= 13, joined.count(LONG)
    sizes = _page_sizes(tmp_path / "panjang.pdf")
    for number, (words, (width, _)) in enumerate(zip(pages, sizes, strict=True), start=1):
        for w in words:
            assert w.x0 >= 0 and w.x1 <= width, (
                f"page {number}: {w.text[:20]!r}... runs off the page ({w.x1:.0f} > "
                f"{width:.0f})")


def test_markup_in_a_value_is_printed_as_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = PrintDocument(office=MARKUP, title="NASKAH UJI", letterhead=[MARKUP],
                        facts=[("Perihal", MARKUP)],
                        tables=[PrintTable(columns=["No", "Perihal"], rows=[["1", MARKUP]])],
                        signatures=[Signature("Dibuat oleh,", name=MARKUP, nip="1")])
    text = " ".join(w.text for p in pages_of(render_pdf(doc), tmp_path, "markup") for w in p)
    assert text.count('<font size="40">BESAR</font>') >= 4
    assert text.count("&amp;") >= 4 and "<script>x</script>" in text


def test_combining_accents_and_control_characters_do_not_print_as_boxes(
        tmp_path) -> None:  # type: ignore[no-untyped-def]
    decomposed = "Kafe\u0301 Sulawesi\x07\x1b Bel\u200e"  # e + combining acute; BEL, ESC
    doc = PrintDocument(office=decomposed, title="NASKAH UJI", letterhead=[decomposed],
                        facts=[("Perihal", decomposed)],
                        tables=[PrintTable(columns=["No", "Perihal"],
                                           rows=[["1", decomposed]])],
                        signatures=[Signature("Dibuat oleh,", name=decomposed, nip="1")],
                        footer=decomposed)
    text = " ".join(w.text for p in pages_of(render_pdf(doc), tmp_path, "aksen") for w in p)
    assert text.count("Kafé") >= 5, text
    assert "\u25a0" not in text and "\x07" not in text, text
