"""extract() without OCR: born-digital text exactly, and what happens with no engine."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from brankas.core.errors import BrankasError
from brankas.core.text import METHOD_PDF, STATUS_TEXT, STATUS_UNREADABLE, extract
from brankas.core.text.engine import find_engine
from tests.core.text import letters


@pytest.fixture(scope="module")
def born_digital(tmp_path_factory: pytest.TempPathFactory) -> tuple[letters.Letter, Path]:
    item = letters.letter(1)
    path = tmp_path_factory.mktemp("text") / "surat.pdf"
    path.write_bytes(letters.born_digital_pdf(item))
    return item, path


def test_born_digital_text_exactly(born_digital: tuple[letters.Letter, Path]) -> None:
    item, path = born_digital
    # no engine at all: a born-digital PDF never needs one
    got = extract(path, engine=None)
    assert got.text == letters.born_digital_text(item)
    assert (got.method, got.status, got.pages, got.pending) == (METHOD_PDF, STATUS_TEXT, 1, 0)
    assert got.engine.startswith("pypdf ")
    assert "\f" not in got.text


def test_engine_missing_from_path(tmp_path: Path) -> None:
    engine, reason = find_engine(env={"PATH": str(tmp_path)}, module=False)
    assert engine is None
    assert reason == "ocrmypdf not found"


def _scan_pdf(path: Path) -> Path:
    scan = letters.scan_bytes(letters.blank_scan(dpi=100), "png", dpi=100)
    from tests.core.text.ocrtest import stored_pdf

    return stored_pdf(path, [("pindaian.png", scan)])


def test_scan_without_engine_says_ocr_unavailable(tmp_path: Path) -> None:
    scan = _scan_pdf(tmp_path / "scan.pdf")
    with pytest.raises(BrankasError) as caught:
        extract(scan, engine=None)
    assert caught.value.code == "ocr_unavailable"
    assert "OCR belum terpasang" in caught.value.message("id")
    # not asked for OCR: marked, with the page still to do
    got = extract(scan, ocr=False)
    assert (got.status, got.text, got.pending) == (STATUS_UNREADABLE, "", 1)


def test_mixed_without_engine_keeps_the_text_layer(
        tmp_path: Path, born_digital: tuple[letters.Letter, Path]) -> None:
    item, path = born_digital
    scan = _scan_pdf(tmp_path / "scan.pdf")
    mixed = tmp_path / "mixed.pdf"
    with pikepdf.open(path) as pdf, pikepdf.open(scan) as extra:
        pdf.pages.extend(extra.pages)
        pdf.save(mixed)
    got = extract(mixed, engine=None)
    assert got.text == letters.born_digital_text(item) + "\f"
    assert (got.status, got.pages, got.pending) == (STATUS_TEXT, 2, 1)


def test_not_a_pdf_is_text_failed(tmp_path: Path) -> None:
    bad = tmp_path / "rusak.pdf"
    bad.write_bytes(b"%PDF-1.7\nnot really a pdf\n")
    with pytest.raises(BrankasError) as caught:
        extract(bad, engine=None)
    assert caught.value.code == "text_failed"


def test_password_protected_is_text_failed(tmp_path: Path) -> None:
    scan = _scan_pdf(tmp_path / "scan.pdf")
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(scan) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="pemilik", user="pengguna"))
    with pytest.raises(BrankasError) as caught:
        extract(locked, engine=None)
    assert caught.value.code == "text_failed"


def test_no_engine_on_path_in_a_real_process(
        tmp_path: Path, born_digital: tuple[letters.Letter, Path]) -> None:
    """A process whose PATH has no OCRmyPDF: scans say ocr_unavailable, the engine is
    looked up once (the second scan does not look again), born-digital text still comes."""
    import os
    import subprocess
    import sys

    scan = _scan_pdf(tmp_path / "scan.pdf")
    empty = tmp_path / "bin"
    empty.mkdir()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from brankas.core.errors import BrankasError\n"
        "from brankas.core.text import engine, extract\n"
        "calls = []\n"
        "find = engine.find_engine\n"
        "engine.find_engine = lambda **kw: calls.append(1) or find(**kw, module=False)\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        extract(Path(sys.argv[1]))\n"
        "    except BrankasError as exc:\n"
        "        print(exc.code)\n"
        "print(len(calls), engine.missing_reason())\n"
        "print(extract(Path(sys.argv[2])).status)\n")
    done = subprocess.run([sys.executable, "-c", script, str(scan), str(born_digital[1])],
                          env={**os.environ, "PATH": str(empty)}, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["ocr_unavailable", "ocr_unavailable",
                                        "1 ocrmypdf not found", "text"]
