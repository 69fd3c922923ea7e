"""Reading a stored biasa PDF's text: its text layer when it has one, else OCR.

The interface the register (``web/text``) uses; its parts are owned by the text engine's
work (issue 19). A caller hands the path of a *biasa* document's stored file (plaintext on
disk already); never an exempted document's (docs/ocr.md: their text is not indexed).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from brankas.core.errors import BrankasError

METHOD_PDF = "pdf"  # the PDF's own text layer (born-digital)
METHOD_OCR = "ocr"  # OCRmyPDF + Tesseract on a scan
STATUS_TEXT = "text"  # text was found
STATUS_UNREADABLE = "unreadable"  # a scan OCR could not read (blank, handwriting): marked


@dataclass(frozen=True)
class Extracted:
    """What was read of one document."""

    text: str  # pages joined by form feeds ("\f"), normalised to NFC
    method: str  # METHOD_PDF or METHOD_OCR
    status: str  # STATUS_TEXT or STATUS_UNREADABLE
    pages: int
    engine: str  # what read it, with versions: "pypdf 5.1.0", "ocrmypdf 14.0.1 + ..."


@dataclass(frozen=True)
class OcrEngine:
    """An installed OCR engine (OCRmyPDF with Tesseract and its Indonesian data)."""

    command: tuple[str, ...]  # how OCRmyPDF is started
    version: str  # "ocrmypdf 14.0.1 + tesseract 5.3.0 (ind)"


def ocr_engine() -> OcrEngine | None:
    """The OCR engine when it is installed (OCRmyPDF, Tesseract, the ``ind`` data), else
    ``None``; looked up once per process."""
    return None  # issue 19, the text engine's part: the lookup of OCRmyPDF and Tesseract


def extract(source: Path, *, ocr: bool = True, workdir: Path | None = None) -> Extracted:
    """The text of the biasa PDF at ``source``: its text layer, or (``ocr`` and an engine
    installed) OCR of the pages that have none. ``workdir`` is where OCR's temporary files
    go (a private folder the caller removes; the system's temp folder when ``None``).
    Raises ``BrankasError`` (``ocr_unavailable`` when a scan needs OCR and no engine is
    installed; ``ocr_failed`` naming what the engine said) rather than a traceback."""
    # The text layer (born-digital PDFs); the OCR of scans is the text engine's part.
    import pypdf

    reader = pypdf.PdfReader(str(source))
    pages = [unicodedata.normalize("NFC", page.extract_text() or "") for page in reader.pages]
    text = "\f".join(pages)
    if text.strip():
        return Extracted(text=text, method=METHOD_PDF, status=STATUS_TEXT, pages=len(pages),
                         engine=f"pypdf {pypdf.__version__}")
    if ocr and ocr_engine() is None:
        raise BrankasError("ocr_unavailable")
    return Extracted(text="", method=METHOD_PDF, status=STATUS_UNREADABLE, pages=len(pages),
                     engine=f"pypdf {pypdf.__version__}")
