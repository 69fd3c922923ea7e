"""OCR with the real engine (OCRmyPDF + Tesseract ``ind``) on realistic scans.

Indonesian official letters are rendered at 200-300 dpi, skewed 1-3 degrees, specked and
saved as JPEG, PNG and TIFF, turned into the stored PDF by the real intake (img2pdf), then
read by ``extract``: at least 9 of each letter's 10 phrases must be found, searched as the
search box does. One OCR run per document (a few seconds of CPU each, a second or two of
them the engine's start-up): the three scans are the pages of one document, after a
born-digital page, and that one run is checked for everything it shows (each scan's
phrases, the born-digital page's exact text, where temporary files went, odd names).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pikepdf
import pytest

from brankas.core.errors import BrankasError
from brankas.core.text import (
    METHOD_OCR,
    STATUS_TEXT,
    STATUS_UNREADABLE,
    OcrEngine,
    extract,
    ocr_engine,
)
from brankas.core.text.engine import find_engine
from tests.core.text import letters
from tests.core.text.ocrtest import engine, found, stored_pdf

pytestmark = pytest.mark.slow

# kind: (letter seed, dpi, skew in degrees)
SCANS = {"jpeg": (0, 300, 1.2), "png": (1, 250, -2.0), "tiff": (2, 200, 2.8)}
# The scanned sheets: A4's width, cut 210 mm down (the letters' lines end by 185 mm; the
# blank rest of the sheet cost unpaper, Tesseract and Ghostscript about a seventh of a run)
SHEET_MM = 210


def _walk(folder: Path) -> list[Path]:
    """Every path under ``folder`` that is still there while it is walked."""
    found: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # removed meanwhile
        return found
    for entry in entries:
        path = Path(entry.path)
        found.append(path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            found.extend(_walk(path))
    return found


class _Watch:
    """Every path that appears under some folders while a call runs (polled)."""

    def __init__(self, *folders: Path) -> None:
        self.folders, self.seen = folders, {f: set[str]() for f in folders}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.stop.is_set():
            for folder in self.folders:
                # a folder the engine removes while it is walked: keep what was seen, walk on
                # (an exception here ended the watch silently, and the test saw less)
                for path in _walk(folder):
                    self.seen[folder].add(str(path.relative_to(folder)))
            time.sleep(0.02)

    def __enter__(self) -> _Watch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


# Where each scan's stored PDF and workdir go: a folder and file names with spaces and
# non-ASCII letters
ODD_FOLDER, ODD_FILE, ODD_WORK = "arsip surat Ñusa – 文書", "surat masuk é.pdf", "kerja ø"


def test_scans_phrases_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One stored document read once (the engine's start-up, Tesseract's data loaded, paid
    once instead of once a scan): a born-digital letter, then the JPEG, PNG and TIFF scans
    of three others, and what that one run shows, each fact with its own message: the
    born-digital page's text exactly (not OCR'd); 9 of each scanned letter's 10 phrases on
    its own page; the stored file and the workdir had odd names (spaces, non-ASCII
    letters); OCRmyPDF's temporary folder was in the private folder inside the workdir,
    nothing went to the system's temp folder or to HOME (both pointed at watched folders
    of their own) and nothing is left."""
    engine()
    folder = tmp_path / ODD_FOLDER
    folder.mkdir()
    kinds = sorted(SCANS)
    items = {kind: letters.letter(SCANS[kind][0]) for kind in kinds}
    scans = stored_pdf(tmp_path / "scans.pdf", [
        (f"surat.{kind}", letters.scan_bytes(
            letters.scan(items[kind], seed=seed, dpi=dpi, skew=skew, height_mm=SHEET_MM),
            kind, dpi=dpi))
        for kind in kinds for seed, dpi, skew in [SCANS[kind]]])
    first = letters.letter(3)  # born digital: a letter none of the scans holds
    digital = tmp_path / "digital.pdf"
    digital.write_bytes(letters.born_digital_pdf(first))
    pdf = folder / ODD_FILE
    with pikepdf.open(digital) as mixed, pikepdf.open(scans) as extra:
        mixed.pages.extend(extra.pages)
        mixed.save(pdf)
    work, home, systmp = folder / ODD_WORK, tmp_path / "home", tmp_path / "systmp"
    for made in (work, home, systmp):
        made.mkdir()
    monkeypatch.setenv("TMPDIR", str(systmp))  # the engine must not use the system's
    monkeypatch.setenv("HOME", str(home))  # nor write to the home folder
    with _Watch(work, home, systmp) as watch:
        got = extract(pdf, workdir=work)

    assert (got.method, got.status, got.pages, got.pending) == (METHOD_OCR, STATUS_TEXT, 4, 0)
    assert "ocrmypdf" in got.engine and "(ind)" in got.engine
    page1, *scanned = got.text.split("\f")
    assert page1 == letters.born_digital_text(first)
    assert len(scanned) == len(kinds), got.text
    for kind, text in zip(kinds, scanned, strict=True):
        hits = found(text, items[kind].phrases)
        missed = sorted(set(items[kind].phrases) - set(hits))
        assert len(hits) >= 9, f"{kind}: found {len(hits)} of 10; missed {missed}\n{text}"
    # OCRmyPDF's own temporary folder was seen inside the private folder in workdir ...
    assert any("ocrmypdf" in name for name in watch.seen[work]), \
        f"OCRmyPDF's temporary folder not seen in the workdir: {watch.seen[work]}"
    # ... nothing went to the system's temp folder nor to HOME, and nothing is left
    assert watch.seen[systmp] == set(), "written to the system's temp folder"
    assert watch.seen[home] == set(), "written to HOME"
    assert list(work.iterdir()) == [], "left in the workdir"


def test_blank_and_scribble_are_unreadable(tmp_path: Path) -> None:
    """A blank sheet and a page of scribbles, one document read once: no text on either
    page (a word read from either would make the document's status text)."""
    engine()
    pdf = stored_pdf(tmp_path / "stored.pdf", [
        (f"scan{n}.png", letters.scan_bytes(make(seed=3), "png", dpi=200))
        for n, make in enumerate((letters.blank_scan, letters.scribble_scan))])
    got = extract(pdf, workdir=tmp_path)
    assert (got.status, got.text, got.pages, got.pending) == (STATUS_UNREADABLE, "", 2, 0)
    assert list(tmp_path.iterdir()) == [pdf]


def _processes_naming(text: str) -> list[str]:
    """Live processes whose command line names ``text`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except (OSError, IndexError, UnicodeDecodeError):
            continue
        if text in cmdline and state != "Z":
            out.append(cmdline)
    return out


@pytest.mark.skipif(os.name == "nt", reason="process groups: POSIX")
def test_time_limit_kills_the_engine_and_leaves_nothing(tmp_path: Path) -> None:
    engine()
    pages = [(f"hal{n}.png", letters.scan_bytes(
        letters.scan(letters.letter(n), seed=n, dpi=200), "png", dpi=200)) for n in range(3)]
    pdf = stored_pdf(tmp_path / "stored.pdf", pages)
    work = tmp_path / "work"
    work.mkdir()
    started = time.monotonic()
    with pytest.raises(BrankasError) as caught:
        extract(pdf, workdir=work, timeout=1.5)
    assert time.monotonic() - started < 30
    assert caught.value.code == "ocr_failed"
    assert "batas waktu" in caught.value.message("id")
    assert "time limit" in caught.value.message("en")
    assert list(work.iterdir()) == []
    if Path("/proc/self/cmdline").exists():  # OCRmyPDF and its workers are gone too
        assert _processes_naming(str(pdf)) == []


def test_engine_failure_is_ocr_failed(tmp_path: Path) -> None:
    """The engine refuses the file (encrypted with an owner password only: pypdf reads it,
    OCRmyPDF does not; intake never stores one): a clear error naming what the engine
    said, nothing left behind."""
    engine()
    scan = stored_pdf(tmp_path / "scan.pdf", [("a.png", letters.scan_bytes(
        letters.blank_scan(dpi=100), "png", dpi=100))])
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(scan) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="pemilik", user=""))
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(BrankasError) as caught:
        extract(locked, workdir=work)
    assert caught.value.code == "ocr_failed"
    assert "ocrmypdf exit" in caught.value.message("en")
    assert "OCR dokumen gagal" in caught.value.message("id")
    assert list(work.iterdir()) == []


def test_missing_indonesian_data_is_no_engine(tmp_path: Path) -> None:
    """Real Tesseract with only the English data: no engine, saying what is missing."""
    engine()
    eng = Path("/usr/share/tesseract-ocr/5/tessdata/eng.traineddata")
    if not eng.exists():
        pytest.skip(f"{eng} not found (not Debian's layout)")
    tessdata = tmp_path / "tessdata"
    tessdata.mkdir()
    (tessdata / "eng.traineddata").symlink_to(eng)
    missing, reason = find_engine(env={**os.environ, "TESSDATA_PREFIX": str(tessdata)})
    assert missing is None
    assert "'ind'" in reason


def test_engine_found_once_per_process() -> None:
    first = engine()
    assert isinstance(first, OcrEngine)
    assert ocr_engine() is first
    assert first.version.startswith("ocrmypdf ") and " + tesseract " in first.version
