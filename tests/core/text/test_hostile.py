"""Crafted PDFs against ``extract``'s text-layer read (pypdf), and text that must not be
stored as it comes: bounded time and memory, a clear ``text_failed``, never a hang.

Each hostile read runs ``extract`` in a fresh Python process (``_run``) so that a
regression shows as a failed test (its time limit, its peak memory), not a hung suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Iterable
from pathlib import Path

import pikepdf
import pytest

from brankas.core.errors import BrankasError
from brankas.core.text import STATUS_TEXT, extract, normalise

ROOT = Path(__file__).resolve().parents[3]
_UNIT = b"BT /F1 12 Tf 10 10 Td (kata) Tj ET\n"
_BOMB_UNITS = 70 * 2**20 // len(_UNIT)  # 70 MB of operators: about 200 KB deflated


def _deflated_bombs(pages: int) -> Iterable[bytes]:
    """``pages`` FlateDecode streams, each 70 MB of operators and a byte of its own (so no
    two are the same object), deflated as ``zlib.compress(..., 9)`` deflates them: the
    70 MB common to all deflated once, its compressor's state copied for each page's end
    (the same bytes; 20 compressions of 70 MB were 5 CPU-s of the test)."""
    common = zlib.compressobj(9)
    head = common.compress(_UNIT * _BOMB_UNITS)
    for n in range(pages):
        end = common.copy()
        yield head + end.compress(b"%" + bytes([n])) + end.flush()


def _pdf(path: Path, contents: Iterable[bytes], *, shared: int = 0,
         flate: bool = False, deflated: bool = False) -> Path:
    """A PDF whose pages draw ``contents`` (Helvetica); ``shared``: that many more pages
    drawing the last content stream again (one object, so the file stays small);
    ``flate``: each deflated here; ``deflated``: each deflated already."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica))
    stream = None
    for body in contents:
        stream = pikepdf.Stream(pdf, zlib.compress(body, 9) if flate else body)
        if flate or deflated:
            stream.Filter = pikepdf.Name.FlateDecode
        stream = pdf.make_indirect(stream)
        page = pdf.add_blank_page(page_size=(595, 842))
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = stream
    for _ in range(shared):
        page = pdf.add_blank_page(page_size=(595, 842))
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = stream
    pdf.save(path)
    return path


def _run(pdf: Path, limit: float, **kwargs: object) -> dict[str, object]:
    """``extract(pdf, engine=None, **kwargs)`` in a fresh process: its outcome, wall time
    and the peak memory of that process (the worker's, not its children's)."""
    script = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "from brankas.core.errors import BrankasError\n"
        "from brankas.core.text import extract\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    got = extract(Path(sys.argv[1]), engine=None, **json.loads(sys.argv[2]))\n"
        "    out = {'status': got.status, 'pages': got.pages, 'chars': len(got.text),\n"
        "           'truncated': getattr(got, 'truncated', None)}\n"
        "except BrankasError as exc:\n"
        "    out = {'code': exc.code, 'en': exc.message('en'), 'id': exc.message('id')}\n"
        "out['wall'] = time.monotonic() - started\n"
        "status = Path('/proc/self/status')\n"  # VmHWM: this process's peak (not the forker's)
        "hwm = [l for l in status.read_text().splitlines() if l.startswith('VmHWM')]\n"
        "out['peak_mib'] = int(hwm[0].split()[1]) / 1024 if hwm else 0\n"
        "print(json.dumps(out))\n")
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", script, str(pdf), json.dumps(kwargs)],
                              capture_output=True, text=True, timeout=limit, cwd=ROOT,
                              check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"extract did not end within {limit:.0f} s "
                    f"({time.monotonic() - started:.0f} s)")
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


posix_only = pytest.mark.skipif(os.name == "nt", reason="resource, RLIMIT_AS: POSIX")


@posix_only
@pytest.mark.slow  # its cost is the reader's time limit, spent whole
def test_operator_flood_in_a_small_file_stops_at_the_time_limit(tmp_path: Path) -> None:
    """40 pages sharing one 4 MiB content stream of text operators (a 12 KB file): pypdf
    in-process spends minutes of CPU on it; the reader is stopped at its time limit (1.5 s
    here: what the limit stops costs the suite that much CPU)."""
    pdf = _pdf(tmp_path / "flood.pdf", [_UNIT * (4 * 2**20 // len(_UNIT))], shared=39,
               flate=True)
    assert pdf.stat().st_size < 100_000
    got = _run(pdf, 60, layer_timeout=1.5)
    assert got.get("code") == "text_failed", got
    assert "time limit" in str(got["en"]) and "batas waktu" in str(got["id"])
    assert float(str(got["wall"])) < 30


@posix_only
@pytest.mark.slow
def test_decompression_bombs_stay_within_the_memory_limit(tmp_path: Path) -> None:
    """20 pages, each a FlateDecode content stream of 70 MB of operators (a 4 MB file):
    pypdf keeps each page's decoded stream, about 100 MB a page, so in-process the worker
    grows past 2 GB (measured: 1.2 GB for 12 pages). The reader stops at its time (or
    memory) limit; the worker's own memory stays small. The time limit is 3 s here (it was
    10, all of them spent on the first page: its stream is decoded, 185 MB, within 2 s,
    then its operators are parsed for minutes); the memory limit alone: the test below."""
    pdf = _pdf(tmp_path / "bomb.pdf", _deflated_bombs(20), deflated=True)
    assert pdf.stat().st_size < 6_000_000
    got = _run(pdf, 120, layer_timeout=3)
    assert got.get("code") == "text_failed", got
    assert "memory limit" in str(got["en"]) or "time limit" in str(got["en"]), got
    if Path("/proc/self/status").exists():
        assert 0 < float(str(got["peak_mib"])) < 200, got


@posix_only
def test_the_reader_has_a_memory_limit(tmp_path: Path) -> None:
    """The text-layer reader itself, limited to 200 MB, on one bomb page: it stops with
    its memory exit code rather than growing.

    The limit leaves the reader (about 125 MB of address space once pypdf is loaded) too
    little room for the page's 70 MB decoded stream twice over, so it fails in one large
    allocation. A limit that pypdf's parse only just reaches (300–450 MB here) fails small
    allocations one at a time instead: each costs glibc a refused brk and mmap, and the
    reader crawls on for minutes. Extraction stops that one at its time limit (the test
    above); this one is about the memory limit, so it must not depend on that edge."""
    from brankas.core.text.proc import EXIT_MEMORY

    pdf = _pdf(tmp_path / "bomb.pdf", [_UNIT * _BOMB_UNITS], flate=True)
    reader = subprocess.Popen([sys.executable, "-m", "brankas.core.text.child", "layer",
                               str(pdf), str(200 * 2**20), "5000"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # its standard input held open: it ends when that ends
        assert reader.wait(timeout=60) == EXIT_MEMORY
    finally:
        assert reader.stdin is not None
        reader.stdin.close()
        if reader.poll() is None:
            reader.kill()
            reader.wait()


@posix_only
@pytest.mark.slow  # its cost is the reader's CPU limit, spent whole
def test_an_orphaned_reader_stops_at_its_cpu_backstop(tmp_path: Path) -> None:
    """A reader nobody stops (its parent gone, its input still open, as when the worker died
    while the reader sat at its memory limit and its watching thread could not run) ends at
    twice its time limit of CPU and 2 s: here 0.01 s, so about 3 CPU-s on the operator flood
    (its CPU limit is whole seconds, rounded up: with 0.5 s it was 4)."""
    import signal

    pdf = _pdf(tmp_path / "flood.pdf", [_UNIT * (4 * 2**20 // len(_UNIT))], shared=39,
               flate=True)
    reader = subprocess.Popen([sys.executable, "-m", "brankas.core.text.child", "layer",
                               str(pdf), str(1024 * 2**20), "5000", "0.01", "0"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        code = reader.wait(timeout=90)
        assert code in (-signal.SIGXCPU, -signal.SIGKILL), code
    finally:
        assert reader.stdin is not None
        reader.stdin.close()
        if reader.poll() is None:
            reader.kill()
            reader.wait()


def test_too_many_pages_is_text_failed(tmp_path: Path) -> None:
    pdf = _pdf(tmp_path / "pages.pdf", [b""], shared=6000)
    started = time.monotonic()
    with pytest.raises(BrankasError) as caught:
        extract(pdf, engine=None)
    assert caught.value.code == "text_failed"
    assert "6001 pages" in caught.value.message("en")
    assert time.monotonic() - started < 60


def test_broken_xref_and_garbage_are_text_failed(tmp_path: Path) -> None:
    good = _pdf(tmp_path / "good.pdf", [b"BT /F1 12 Tf 50 700 Td (Surat undangan rapat) Tj ET"])
    data = good.read_bytes()
    broken = tmp_path / "xref.pdf"  # the xref table overwritten: readers rebuild it
    at = data.rindex(b"xref")
    broken.write_bytes(data[:at] + b"x" * (len(data) - at - 30) + data[-30:])
    got = extract(broken, engine=None)
    assert "Surat undangan rapat" in got.text
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + os.urandom(50_000))
    with pytest.raises(BrankasError) as caught:
        extract(garbage, engine=None)
    assert caught.value.code == "text_failed"


def test_control_characters_in_the_text_layer(tmp_path: Path) -> None:
    """A text layer carrying NUL (PostgreSQL refuses it), a form feed (the page separator:
    page numbers would shift) and ESC: none is stored; pages still split right."""
    body = (b"BT /F1 12 Tf 50 700 Td (Undangan rapat koordinasi stunting \\000 dan \\014 "
            b"halaman palsu \\033 kata lain untuk sepuluh kata lebih banyak lagi) Tj ET")
    second = b"BT /F1 12 Tf 50 700 Td (Halaman kedua berisi teks yang cukup panjang) Tj ET"
    got = extract(_pdf(tmp_path / "ctl.pdf", [body, second]), engine=None)
    assert got.status == STATUS_TEXT
    assert len(got.text.split("\f")) == got.pages == 2
    assert not any(c in got.text for c in "\x00\x1b")
    assert "Undangan rapat koordinasi stunting" in got.text.split("\f")[0]


def test_text_is_bounded(tmp_path: Path) -> None:
    """12 pages of 200,000 characters each: the document's text is cut, and says so."""
    line = b"kata " * 40_000
    pages = [b"BT /F1 1 Tf 10 10 Td (" + line + b") Tj ET"] * 12
    got = extract(_pdf(tmp_path / "long.pdf", pages, flate=True), engine=None)
    assert len(got.text) <= normalise.MAX_TEXT_CHARS
    assert got.truncated
    assert got.pages == 12


@pytest.mark.parametrize(("raw", "expected"), [
    ("nul\x00byte", "nulbyte"),
    ("satu\fdua", "satu\ndua"),  # the page separator never inside a page
    ("bel\x07 esc\x1b del\x7f c1\x9b", "bel esc del c1"),
    ("tab\tdi sini", "tab di sini"),
    ("lone \ud800 surrogate \udfff", "lone \ufffd surrogate \ufffd"),
    ("nama \u202egnp.exe\u202c dan \u2066isolat\u2069", "nama gnp.exe dan isolat"),
    ("=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"),  # kept: the CSV writer guards (docs)
], ids=["nul", "form-feed", "controls", "tab", "surrogates", "bidi", "csv-formula"])
def test_unsafe_characters(raw: str, expected: str) -> None:
    for fn in (normalise.pdf_text, normalise.ocr_text):
        got = fn(raw)
        assert ascii(got) == ascii(expected)  # ascii: a lone surrogate in a report breaks xdist
        got.encode("utf-8")  # storable


def test_a_page_of_ten_megabytes_is_cut() -> None:
    page = "kata " * 2_000_000
    started = time.process_time()
    assert len(normalise.pdf_text(page)) == normalise.MAX_PAGE_CHARS
    assert len(normalise.ocr_text(page)) == normalise.MAX_PAGE_CHARS
    assert time.process_time() - started < 5


@posix_only
def test_reader_ends_when_the_worker_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the worker while the text-layer reader chews on a flood: the reader
    (in its own process group, so not killed with it) ends too, not running on alone."""
    import signal

    pdf = _pdf(tmp_path / "flood.pdf", [_UNIT * (4 * 2**20 // len(_UNIT))], shared=39,
               flate=True)
    script = ("import sys\nfrom pathlib import Path\nfrom brankas.core.text import extract\n"
              "extract(Path(sys.argv[1]), engine=None)\n")
    worker = subprocess.Popen([sys.executable, "-c", script, str(pdf)], cwd=ROOT)

    def readers() -> list[str]:
        out = []
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                state = (entry / "stat").read_text().split(") ", 1)[1][:1]
            except (OSError, IndexError, UnicodeDecodeError):
                continue
            if "brankas.core.text.child" in cmdline and str(pdf) in cmdline and state != "Z":
                out.append(entry.name)
        return out

    try:
        deadline = time.monotonic() + 60
        while not readers():
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    deadline = time.monotonic() + 15
    while readers() and time.monotonic() < deadline:
        time.sleep(0.2)
    left = readers()
    for pid in left:  # do not leave it running for the rest of the suite
        os.kill(int(pid), signal.SIGKILL)
    assert left == []
