"""The text of a document (issue 19): what a biasa document says, for the register's search.

Vocabulary: a document's *text* is read from the stored PDF (a biasa document's plaintext
file; an exempted document is never read here: its text is not indexed, docs/ocr.md). A
*born-digital* PDF carries a text layer, which is *extracted* (``method="pdf"``); a *scan*
(an image PDF, as intake makes of JPEG/PNG/TIFF) has none and is *OCR'd* with OCRmyPDF and
Tesseract's Indonesian data (``method="ocr"``). A scan OCR cannot read (blank, handwriting)
is *unreadable*: marked, not failed (``normalise.readable``). OCR is optional: without
OCRmyPDF and Tesseract the *engine* is missing, scans get no text, and Brankas says so once
and keeps working.

``extract.py`` is the one entry point (``extract``); ``engine.py`` finds and runs OCRmyPDF
(a child process with a time limit, its temporary files in the caller's ``workdir``);
``normalise.py`` is how text is stored and what counts as readable.
"""

from brankas.core.text.engine import OcrEngine, missing_reason, ocr_engine
from brankas.core.text.extract import (
    METHOD_OCR,
    METHOD_PDF,
    STATUS_TEXT,
    STATUS_UNREADABLE,
    Extracted,
    extract,
)

__all__ = ["METHOD_OCR", "METHOD_PDF", "STATUS_TEXT", "STATUS_UNREADABLE", "Extracted",
           "OcrEngine", "extract", "missing_reason", "ocr_engine"]
