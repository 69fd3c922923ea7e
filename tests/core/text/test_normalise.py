"""How text is stored (NFC, line edges, hyphenation) and the rule for "readable"."""

from __future__ import annotations

import unicodedata

import pytest

from brankas.core.errors import BrankasError
from brankas.core.text import normalise
from brankas.core.text.engine import _pages, page_ranges


@pytest.mark.parametrize(("raw", "expected"), [
    ("rapat koordi-\nnasi lintas", "rapat koordinasi lintas"),  # a word broken at the line end
    ("wilayah masing-\nmasing.", "wilayah masing-masing."),  # reduplication stays
    ("Kupu-\nkupu terbang", "Kupu-kupu terbang"),
    ("jalur Jawa-\nBali", "jalur Jawa-Bali"),  # a name going on with a capital
    ("Nomor 12-\n2026", "Nomor 12-\n2026"),  # digits: not a broken word
    ("ﬁnal dan eﬀektif", "final dan effektif"),  # ligatures spelled out
    ("  Perihal : Undangan  \n\n\n\n  Yth.  ", "Perihal : Undangan\n\nYth."),
])
def test_ocr_text(raw: str, expected: str) -> None:
    assert normalise.ocr_text(raw) == expected


def test_nfc_and_pdf_text_kept_as_written() -> None:
    decomposed = unicodedata.normalize("NFD", "Dinas Pariwisata, Café Kopi")
    assert decomposed != "Dinas Pariwisata, Café Kopi"
    assert normalise.pdf_text(decomposed) == "Dinas Pariwisata, Café Kopi"
    # a born-digital text layer is its author's: no hyphen is taken out
    assert normalise.pdf_text(" koordi-\r\nnasi ") == "koordi-\nnasi"


@pytest.mark.parametrize(("text", "readable"), [
    ("", False),
    ("~ ,. ll1 | ~~ .", False),  # specks read as marks
    ("mmm nnn Ww rrr", False),  # no vowel: not words
    ("Lampiran satu", False),  # two words: not enough
    ("Undangan rapat koordinasi", True),
    ("Perihal: Laporan Keuangan 2026", True),
])
def test_readable(text: str, readable: bool) -> None:
    assert normalise.readable(text) is readable


def test_sidecar_pages_with_skipped_runs() -> None:
    sidecar = "[OCR skipped on page(s) 1-2]\fteks tiga\f[OCR skipped on page(s) 4]\fteks lima"
    assert _pages(sidecar, 5) == [None, None, "teks tiga", None, "teks lima"]
    with pytest.raises(BrankasError) as caught:
        _pages(sidecar, 6)
    assert caught.value.code == "ocr_failed"


def test_page_ranges() -> None:
    assert page_ranges([1]) == "1"
    assert page_ranges([5, 1, 2, 3, 7, 8]) == "1-3,5,7-8"
