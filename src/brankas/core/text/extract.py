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

import contextlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from brankas.core.errors import BrankasError
from brankas.core.processes import module_env
from brankas.core.text import normalise
from brankas.core.text.engine import OcrEngine, ocr_engine, run_ocr
from brankas.core.text.proc import EXIT_MEMORY, Reader, kill_tree, spawn

METHOD_PDF = "pdf"  # the PDF's own text layer (born-digital)
METHOD_OCR = "ocr"  # OCRmyPDF + Tesseract on a scan
STATUS_TEXT = "text"  # text was found
STATUS_UNREADABLE = "unreadable"  # a scan OCR could not read (blank, handwriting): marked
# A page whose text layer has fewer words is OCR'd as well: a scanner app's stamp
# ("Dipindai dengan CamScanner") over a scanned page is not the page's text.
MIN_LAYER_WORDS = 10
# Bounds on reading a crafted PDF's text layer (in a child process): time, memory (POSIX),
# pages. A 300-page born-digital report reads in a few seconds; see docs/ocr.md.
LAYER_TIMEOUT_BASE, LAYER_TIMEOUT_PER_PAGE = 60.0, 1.0
LAYER_MEMORY = 1024 * 2**20  # bytes of address space for the reader
MAX_PAGES = 5000
# the reader's output, at most: the text (UTF-8, JSON) and a line a page
MAX_LAYER_BYTES = 6 * normalise.MAX_TEXT_CHARS + 64 * MAX_PAGES


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
    # the text was cut at ``normalise.MAX_TEXT_CHARS`` (the rest of the document is not read)
    truncated: bool = False


def _text_layer(source: Path, timeout: float | None) -> tuple[list[str], str]:
    """Each page's text layer (normalised; "" where pypdf cannot read a page) and pypdf's
    name, read in a child process (``child.layer``) with a time limit (``timeout``, or
    ``LAYER_TIMEOUT_BASE`` plus ``LAYER_TIMEOUT_PER_PAGE`` a page) and, on POSIX, a memory
    limit (``LAYER_MEMORY``): a crafted PDF costs the child, never this process.
    Raises ``text_failed`` naming what stopped it."""
    base, per_page = ((LAYER_TIMEOUT_BASE, LAYER_TIMEOUT_PER_PAGE) if timeout is None
                      else (timeout, 0.0))
    argv = [sys.executable, "-m", "brankas.core.text.child", "layer",
            str(Path(source).absolute()), str(LAYER_MEMORY), str(MAX_PAGES), str(base),
            str(per_page)]
    env = module_env(PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
    try:
        # stdin: a pipe held open while it reads; it ends when this process dies
        proc = spawn(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
    except OSError as exc:
        raise BrankasError("text_failed", detail=f"the reader did not start: {exc}") from None
    assert proc.stdout is not None and proc.stderr is not None
    out = Reader(proc.stdout, MAX_LAYER_BYTES, tail=False)
    err = Reader(proc.stderr)
    started = time.monotonic()
    limit = LAYER_TIMEOUT_BASE if timeout is None else timeout
    try:
        while True:
            try:
                code = proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
            if timeout is None and (count := _announced(out)) is not None:
                limit = LAYER_TIMEOUT_BASE + LAYER_TIMEOUT_PER_PAGE * count
            if time.monotonic() - started > limit:
                kill_tree(proc)
                raise BrankasError("text_failed", detail=(
                    f"pembacaan dihentikan setelah {limit:.0f} detik (batas waktu)",
                    f"reading stopped after {limit:.0f} seconds (the time limit)"))
    except BaseException:
        if proc.poll() is None:
            kill_tree(proc)
        raise
    finally:
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
    lines = out.bytes().decode("utf-8", errors="replace").splitlines()
    if code == EXIT_MEMORY or (code != 0 and "MemoryError" in err.text()):
        raise BrankasError("text_failed", detail=(
            f"pembacaan melebihi batas memori {LAYER_MEMORY // 2**20} MiB",
            f"reading went over the memory limit of {LAYER_MEMORY // 2**20} MiB"))
    try:
        records = [json.loads(line) for line in lines]
    except ValueError:
        records = []
    if records and "error" in records[0]:
        raise BrankasError("text_failed", detail=str(records[0]["error"])[:200])
    if code != 0 or out.overflow or not records or "pages" not in records[0]:
        words = (err.text().strip().splitlines() or [""])[-1][:200]
        raise BrankasError("text_failed", detail=f"the reader stopped (exit {code}) {words}")
    pages = [str(r.get("text", "")) for r in records[1:]]
    if len(pages) != records[0]["pages"]:
        raise BrankasError("text_failed", detail=f"the reader stopped (exit {code})")
    return pages, str(records[0]["name"])


def _announced(out: Reader) -> int | None:
    """The page count the reader printed first, once it has."""
    head = bytes(out.data[:200])
    if b"\n" not in head:
        return None
    try:
        return int(json.loads(head.split(b"\n", 1)[0]).get("pages"))
    except (ValueError, TypeError, AttributeError):
        return None


def extract(source: Path, *, ocr: bool = True, workdir: Path | None = None,
            engine: OcrEngine | None | Literal["auto"] = "auto",
            timeout: float | None = None, jobs: int | None = None,
            layer_timeout: float | None = None) -> Extracted:
    """The text of the biasa PDF at ``source``: its text layer, or (``ocr`` and an engine
    installed) OCR of the pages that have none. ``workdir`` is where OCR's temporary files
    go (a private folder inside it, removed before returning; the system's temp folder when
    ``None``). ``engine``: the one to use (``None``: as if none were installed; default:
    ``ocr_engine()``); ``timeout``: seconds for the whole OCR run (default: by pages);
    ``jobs``: pages OCR'd at once (default: one per core); ``layer_timeout``: seconds for
    reading the text layer (default: ``LAYER_TIMEOUT_BASE`` + ``LAYER_TIMEOUT_PER_PAGE`` a
    page). The text is cut at ``normalise.MAX_TEXT_CHARS`` (``truncated``); pages after
    the cut are not OCR'd.
    Without an engine, a document with a readable text layer gives that text (``pending``
    counts the pages left unread); one without raises ``ocr_unavailable``.
    Raises ``BrankasError`` (``ocr_unavailable`` when a scan needs OCR and no engine is
    installed; ``ocr_failed`` naming what the engine said or that it ran out of time;
    ``text_failed`` when the file is no readable PDF, has over ``MAX_PAGES`` pages, or its
    reading went over its time or memory limit) rather than a traceback."""
    layer, name = _text_layer(source, layer_timeout)
    used, last = 0, len(layer)  # pages after the text's limit is reached are not read
    for n, text in enumerate(layer, 1):
        used += len(text) + 1
        if used >= normalise.MAX_TEXT_CHARS:
            last = n
            break
    need = [n for n, text in enumerate(layer, 1)
            if n <= last and normalise.words(text) < MIN_LAYER_WORDS]
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
    truncated = len(text) > normalise.MAX_TEXT_CHARS or last < len(layer)
    text = text[:normalise.MAX_TEXT_CHARS]
    if not normalise.readable(text):
        return Extracted(text="", method=method, status=STATUS_UNREADABLE, pages=len(layer),
                         engine=name, pending=pending)
    return Extracted(text=text, method=method, status=STATUS_TEXT, pages=len(layer),
                     engine=name, pending=pending, truncated=truncated)
