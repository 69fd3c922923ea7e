"""The real OCR engine for tests, and searching text as the search box does.

``engine()``: the installed engine (OCRmyPDF + Tesseract ``ind``); without it a test is
skipped, or FAILS when ``BRANKAS_TEST_OCR_REQUIRED`` is set (``make test`` sets it and
installs the Debian packages: scripts/system-deps.sh). ``stored_pdf`` turns scans into the
PDF Brankas stores, through the real intake (img2pdf). ``found`` matches phrases the way
the search does: case-insensitive, white space (line breaks, page breaks) normalised.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from brankas.core.register.intake import InputFile, prepare
from brankas.core.text import OcrEngine, missing_reason, ocr_engine

REQUIRED_ENV = "BRANKAS_TEST_OCR_REQUIRED"


def engine() -> OcrEngine:
    found = ocr_engine()
    if found is not None:
        return found
    message = (f"OCR tests need OCRmyPDF and Tesseract with 'ind' ({missing_reason()}): "
               "apt-get install ocrmypdf tesseract-ocr tesseract-ocr-ind")
    if os.environ.get(REQUIRED_ENV):
        pytest.fail(message + "; it is missing under make test", pytrace=False)
    pytest.skip(message)


def stored_pdf(target: Path, scans: list[tuple[str, bytes]]) -> Path:
    """The PDF intake stores for these scans ((name, bytes) each), written to ``target``."""
    prepared = prepare([InputFile.from_bytes(name, data) for name, data in scans],
                       limit_mb=50, max_image_pixels=300_000_000)
    assert prepared.converted
    with prepared.open_pdf() as fh:
        target.write_bytes(fh.read())
    return target


def squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def found(text: str, phrases: list[str]) -> list[str]:
    """The phrases ``text`` contains, searched case-insensitively, white space normalised."""
    haystack = squash(text)
    return [p for p in phrases if squash(p) in haystack]
