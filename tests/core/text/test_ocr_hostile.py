"""The OCR child under hostile conditions: its parent killed, a stale folder, a flood of
error output, a full disk, a huge image, Tesseract crashing. (An odd folder name and the
home folder watched: test_ocr.py, on the scans read there.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brankas.core.errors import BrankasError
from brankas.core.text import OcrEngine, extract
from brankas.core.text.engine import run_ocr
from tests.core.text import letters
from tests.core.text.ocrtest import engine, stored_pdf
from tests.core.text.test_ocr import _processes_naming
from tests.tmpfs import mount_tmpfs

ROOT = Path(__file__).resolve().parents[3]
posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX signals, /proc")


def _scan(path: Path, pages: int = 1, dpi: int = 200) -> Path:
    return stored_pdf(path, [(f"hal{n}.png", letters.scan_bytes(
        letters.scan(letters.letter(n), seed=n, dpi=dpi), "png", dpi=dpi))
        for n in range(pages)])


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


@pytest.mark.slow
@posix_only
def test_parent_killed_leaves_no_orphan_and_no_folder(tmp_path: Path) -> None:
    """SIGKILL of the Brankas process while OCRmyPDF runs: the engine and all its children
    die with it (they used to run on as orphans) and its private folder goes."""
    engine()
    pdf = _scan(tmp_path / "stored.pdf", pages=2)
    work = tmp_path / "work"
    work.mkdir()
    script = ("import sys\nfrom pathlib import Path\nfrom brankas.core.text import extract\n"
              "extract(Path(sys.argv[1]), workdir=Path(sys.argv[2]))\n")
    parent = subprocess.Popen([sys.executable, "-c", script, str(pdf), str(work)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not any("ocrmypdf" in p.name for p in work.rglob("*")):  # the engine is busy
            assert time.monotonic() < deadline, "the engine never started"
            assert parent.poll() is None, "extract ended before it could be killed"
            time.sleep(0.1)
        time.sleep(1)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while (_processes_naming(str(pdf)) or list(work.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _processes_naming(str(pdf))
    assert left == [], left
    assert list(work.iterdir()) == []


@posix_only  # Windows: no owner check without extra packages; such folders are left
def test_stale_private_folder_is_swept(tmp_path: Path) -> None:
    """A private folder whose Brankas process is gone (the service killed with its engine,
    the machine stopped) is removed by the next run; a live one is left alone. That run's
    engine fails (no such file): ocr_failed, and its own private folder removed too (an
    engine's failure on a real file, on every system: test_ocr.py)."""
    engine()
    stale = tmp_path / "brankas-ocr-stale"
    (stale / "tmp").mkdir(parents=True)
    (stale / "tmp" / "000001_ocr.png").write_bytes(b"x" * 1000)
    (stale / "owner.pid").write_text(str(_dead_pid()))
    live = tmp_path / "brankas-ocr-live"
    live.mkdir()
    (live / "owner.pid").write_text(str(os.getppid()))
    other = tmp_path / "brankas-ocr-not-ours"
    other.mkdir()
    with pytest.raises(BrankasError) as caught:
        run_ocr(engine(), tmp_path / "tidak-ada.pdf", [1], 1, workdir=tmp_path)
    assert caught.value.code == "ocr_failed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brankas-ocr-live",
                                                          "brankas-ocr-not-ours"]


@posix_only
def test_error_output_flood_is_bounded(tmp_path: Path) -> None:
    """An engine printing 300 MB of error output: the worker keeps its last lines only (it
    used to land in a file in the workdir and be read whole into memory)."""
    flood = ("import sys\nline = 'x' * 999 + '\\n'\n"
             "for _ in range(300_000):\n    sys.stderr.write(line)\n"
             "sys.stderr.write('ERROR: the last words\\n')\nsys.exit(7)\n")
    script = (
        "import json, sys\nfrom pathlib import Path\n"
        "from brankas.core.errors import BrankasError\n"
        "from brankas.core.text.engine import OcrEngine, run_ocr\n"
        "eng = OcrEngine(command=(sys.executable, '-c', sys.argv[1]), version='flood')\n"
        "try:\n"
        "    run_ocr(eng, Path(sys.argv[2]), [1], 1, workdir=Path(sys.argv[2]).parent)\n"
        "    out = {}\n"
        "except BrankasError as exc:\n"
        "    out = {'code': exc.code, 'en': exc.message('en')}\n"
        "hwm = [l for l in Path('/proc/self/status').read_text().splitlines()\n"
        "       if l.startswith('VmHWM')]\n"
        "out['peak_mib'] = int(hwm[0].split()[1]) / 1024\n"
        "print(json.dumps(out))\n")
    work = tmp_path / "work"
    work.mkdir()
    source = work / "x.pdf"
    source.write_bytes(b"%PDF-1.7\n")
    done = subprocess.run([sys.executable, "-c", script, flood, str(source)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.splitlines()[-1])
    assert got["code"] == "ocr_failed"
    assert "ERROR: the last words" in got["en"] and "exit 7" in got["en"]
    assert got["peak_mib"] < 150, got
    assert [p.name for p in work.iterdir()] == ["x.pdf"]


@pytest.mark.slow
@posix_only
def test_full_disk_workdir_is_ocr_failed_and_clean(tmp_path: Path) -> None:
    """The workdir on a 128 KiB tmpfs: OCRmyPDF copies the scan there (47 KB) but cannot
    write its page images (300 KB as it cleans them); a clear ocr_failed naming what the
    engine said, nothing left there, no process left. The cheapest scan that gets there:
    the top third of a letter at 100 dpi (the whole page at 300 dpi on 2 MB: 4.5 CPU-s)."""
    engine()
    image = letters.scan(letters.letter(0), seed=0, dpi=100)
    pdf = stored_pdf(tmp_path / "stored.pdf", [("hal.png", letters.scan_bytes(
        image.crop((0, 0, image.width, image.height // 3)), "png", dpi=100))])
    work = tmp_path / "small"
    mount_tmpfs(work, "128k")
    try:
        with pytest.raises(BrankasError) as caught:
            extract(pdf, workdir=work)
        assert caught.value.code == "ocr_failed"
        assert "ocrmypdf exit" in caught.value.message("en"), caught.value.message("en")
        assert list(work.iterdir()) == []
        assert _processes_naming(str(pdf)) == []
    finally:
        subprocess.run(["umount", str(work)], check=False)


@pytest.mark.slow
def test_huge_image_is_a_clear_error_in_bounded_time(tmp_path: Path) -> None:
    """A page carrying a 19,000 x 19,000 px image (1-bit, 55 KB deflated): the engine's
    decompression-bomb check refuses it, or it is rasterised within the time limit.
    (OCRmyPDF 14 rasterises the A4 page at the image's resolution, 19,000 x 26,888 px,
    before Pillow's check, twice its 250-megapixel limit, refuses it: the smallest square
    image over that check, since the rasterising is the test's cost.)"""
    import zlib

    import pikepdf

    engine()
    pdf = pikepdf.new()
    side = 19_000
    image = pikepdf.Stream(pdf, zlib.compress(b"\xff" * (side * side // 8), 9))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width = image.Height = side
    image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceGray, 1
    image.Filter = pikepdf.Name.FlateDecode
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    path = tmp_path / "besar.pdf"
    pdf.save(path)
    work = tmp_path / "work"
    work.mkdir()
    started = time.monotonic()
    try:
        got = extract(path, workdir=work, timeout=300)
        assert got.text == ""  # a white page
    except BrankasError as exc:
        assert exc.code == "ocr_failed", exc
    assert time.monotonic() - started < 330
    assert list(work.iterdir()) == []


def test_engine_that_does_not_exist_is_ocr_failed(tmp_path: Path) -> None:
    missing = OcrEngine(command=(str(tmp_path / "tidak-ada"),), version="none")
    with pytest.raises(BrankasError) as caught:
        run_ocr(missing, tmp_path / "x.pdf", [1], 1, workdir=tmp_path)
    assert caught.value.code == "ocr_failed"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@posix_only
def test_tesseract_crashing_is_ocr_failed_not_unreadable(tmp_path: Path) -> None:
    """Tesseract dying of SIGSEGV on every page: the document is ocr_failed (OCR can be
    run again), never marked unreadable as if the scan were blank."""
    import dataclasses
    import shutil

    found_engine = engine()  # skipped without OCR, a failure under make test
    real = shutil.which("tesseract")
    assert real is not None, "the OCR engine was found but tesseract is not on PATH"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "tesseract").write_text(
        "#!/bin/sh\n"
        f'case "$1" in --version|--list-langs) exec {real} "$@";; esac\n'
        f'for a in "$@"; do case "$a" in --print-parameters) exec {real} "$@";; esac; done\n'
        "kill -SEGV $$\n")
    (fake / "tesseract").chmod(0o755)
    crashing = dataclasses.replace(found_engine, path=f"{fake}{os.pathsep}{os.environ['PATH']}")
    pdf = _scan(tmp_path / "stored.pdf")
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(BrankasError) as caught:
        extract(pdf, workdir=work, engine=crashing)
    assert caught.value.code == "ocr_failed"
    assert list(work.iterdir()) == []
