"""Reading a stored biasa PDF's text: its text layer when it has one, else OCR.

The interface the register (``web/text``) uses. A caller hands the path of a *biasa*
document's stored file (plaintext on disk already); never an exempted document's
(docs/ocr.md: their text is not indexed).

Per page: the text layer (pypdf) when it holds at least ``MIN_LAYER_WORDS`` words; else
(a scan, a scan with a scanner app's one-line stamp, an empty page) the page is OCR'd and
keeps whichever of the two reads more words (a short born-digital page keeps its own text
on a tie). One engine run per document, for all such pages at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from brankas.core.errors import BrankasError
from brankas.core.text import normalise
from brankas.core.text.engine import OcrEngine, ocr_engine, run_ocr

METHOD_PDF = "pdf"  # the PDF's own text layer (born-digital)
METHOD_OCR = "ocr"  # OCRmyPDF + Tesseract on a scan
STATUS_TEXT = "text"  # text was found
STATUS_UNREADABLE = "unreadable"  # a scan OCR could not read (blank, handwriting): marked
# A page whose text layer has fewer words is OCR'd as well: a scanner app's stamp
# ("Dipindai dengan CamScanner") over a scanned page is not the page's text.
MIN_LAYER_WORDS = 10


@dataclass(frozen=True)
class Extracted:
    """What was read of one document."""

    text: str  # pages joined by form feeds ("\f"), normalised to NFC; "" when unreadable
    method: str  # METHOD_PDF or METHOD_OCR (some page's text came from OCR)
    status: str  # STATUS_TEXT or STATUS_UNREADABLE
    pages: int
    engine: str  # what read it, with versions: "pypdf 5.1.0", "pypdf ... + ocrmypdf ..."
    # pages that needed OCR and did not get it (``ocr=False``, or no engine installed
    # while other pages have text): a caller may OCR the document again later
    pending: int = 0


def _text_layer(source: Path) -> tuple[list[str], str]:
    """Each page's text layer (normalised; "" where pypdf cannot read a page) and pypdf's
    name. pypdf is lenient: a page it cannot read is left to OCR."""
    import pypdf

    name = f"pypdf {pypdf.__version__}"
    try:
        reader = pypdf.PdfReader(str(source), strict=False)
        count = len(reader.pages)
    except Exception:  # pypdf raises many kinds on a damaged file
        return [""] * _page_count(source), name
    pages = []
    for index in range(count):
        try:
            pages.append(normalise.pdf_text(reader.pages[index].extract_text() or ""))
        except Exception:
            pages.append("")
    return pages, name


def _page_count(source: Path) -> int:
    import pikepdf

    try:
        with pikepdf.open(source) as pdf:
            return len(pdf.pages)
    except Exception as exc:  # damaged, encrypted, not a PDF at all
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise BrankasError("text_failed", detail=detail) from None


def extract(source: Path, *, ocr: bool = True, workdir: Path | None = None,
            engine: OcrEngine | None | Literal["auto"] = "auto",
            timeout: float | None = None, jobs: int | None = None) -> Extracted:
    """The text of the biasa PDF at ``source``: its text layer, or (``ocr`` and an engine
    installed) OCR of the pages that have none. ``workdir`` is where OCR's temporary files
    go (a private folder inside it, removed before returning; the system's temp folder when
    ``None``). ``engine``: the one to use (``None``: as if none were installed; default:
    ``ocr_engine()``); ``timeout``: seconds for the whole OCR run (default: by pages);
    ``jobs``: pages OCR'd at once (default: one per core).
    Without an engine, a document with a readable text layer gives that text (``pending``
    counts the pages left unread); one without raises ``ocr_unavailable``.
    Raises ``BrankasError`` (``ocr_unavailable`` when a scan needs OCR and no engine is
    installed; ``ocr_failed`` naming what the engine said or that it ran out of time;
    ``text_failed`` when the file is no readable PDF) rather than a traceback."""
    layer, name = _text_layer(source)
    need = [n for n, text in enumerate(layer, 1) if normalise.words(text) < MIN_LAYER_WORDS]
    texts, method, pending = list(layer), METHOD_PDF, 0
    if need and ocr:
        found = ocr_engine() if engine == "auto" else engine
        if found is None:
            if not normalise.readable("\n".join(layer)):
                raise BrankasError("ocr_unavailable")
            pending = len(need)
        else:
            assert isinstance(found, OcrEngine)
            read = run_ocr(found, source, need, len(layer), workdir=workdir, timeout=timeout,
                           jobs=jobs)
            name = f"{name} + {found.version}"
            for n in need:
                text = normalise.ocr_text(read[n - 1] or "")
                if normalise.readable(text) and normalise.words(text) > normalise.words(
                        texts[n - 1]):
                    texts[n - 1], method = text, METHOD_OCR
    elif need:
        pending = len(need)
    text = "\f".join(texts)
    if not normalise.readable(text):
        return Extracted(text="", method=method, status=STATUS_UNREADABLE, pages=len(layer),
                         engine=name, pending=pending)
    return Extracted(text=text, method=method, status=STATUS_TEXT, pages=len(layer),
                     engine=name, pending=pending)
