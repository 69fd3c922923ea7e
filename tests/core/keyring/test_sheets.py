"""core.keyring.sheets: the printed share sheet (PDF) says what the issue asks, Bahasa
Indonesia first, and the words in its boxes read back into the same share."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from brankas.core import crypto
from brankas.core.keyring import shares, sheets


@pytest.fixture(scope="module")
def made() -> tuple[str, list[str]]:
    identity = crypto.generate().identity
    return identity, shares.split(identity, shares=5, threshold=3)


def _sheet(mnemonic: str, number: int) -> sheets.ShareSheet:
    return sheets.ShareSheet(office="Dinas Komunikasi dan Informatika Kabupaten Bolmut",
                             number=number, shares=5, threshold=3, date="2026-12-05",
                             identifier=shares.parse("x", mnemonic).identifier,
                             fingerprint="0123456789abcdef", mnemonic=mnemonic,
                             footer="Dicetak oleh admin")


def _pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [re.sub(r"[ \t]+", " ", p.extract_text()) for p in reader.pages]


def test_one_sheet_says_everything_indonesian_first(made) -> None:
    _, mnemonics = made
    [text] = _pages(sheets.sheets_pdf([_sheet(mnemonics[1], 2)]))
    flat = " ".join(text.split())
    for needed in ("Dinas Komunikasi dan Informatika Kabupaten Bolmut",
                   "Bagian 2 dari 5", "Share 2 of 5", "3 bagian diperlukan", "3 shares needed",
                   "2026-12-05", "RAHASIA", "SECRET", "0123456789abcdef",
                   "amplop tertutup", "pejabat yang berbeda", "disk back up",
                   "sealed envelope", "different official", "same safe as the backup disks",
                   "Cara memakai", "How to use it", "brankas recover"):
        assert needed in flat, needed
    # Bahasa Indonesia first, then English.
    assert flat.index("Bagian 2 dari 5") < flat.index("Share 2 of 5")
    assert flat.index("amplop tertutup") < flat.index("sealed envelope")
    assert flat.index("Cara memakai") < flat.index("How to use it")


def test_the_words_in_the_boxes_read_back_into_the_share(made) -> None:
    identity, mnemonics = made
    pages = _pages(sheets.sheets_pdf([_sheet(m, i) for i, m in enumerate(mnemonics, start=1)]))
    assert len(pages) == 5  # one share per page
    typed = []
    for number, page in enumerate(pages, start=1):
        assert f"Bagian {number} dari 5" in page
        boxes = page[page.index("numbers") + len("numbers"):page.index("RAHASIA:")]
        parsed = shares.parse(f"page {number}", boxes)  # copied text, boxes and all
        assert parsed.mnemonic == mnemonics[number - 1]
        assert parsed.number == number
        typed.append((f"page {number}", boxes))
    assert str(shares.identity(typed[1:4])) == identity


def test_the_sheet_does_not_carry_the_identity(made) -> None:
    identity, mnemonics = made
    pdf = sheets.sheets_pdf([_sheet(mnemonics[0], 1)])
    assert identity.encode() not in pdf
    assert "AGE-SECRET-KEY" not in " ".join(_pages(pdf))
