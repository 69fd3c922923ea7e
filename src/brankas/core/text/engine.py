"""The OCR engine: OCRmyPDF with Tesseract and its Indonesian data, always as a child process.

How it is started (docs/ocr.md, "The engine"): ``python -m ocrmypdf`` when the ``ocrmypdf``
module is importable in this interpreter (the pip extra ``brankas[ocr]``, for Windows and
macOS users who install Tesseract themselves), else the ``ocrmypdf`` command on PATH (the
Debian package). Either way it runs in its own process group, so a hostile or huge PDF that
keeps Ghostscript or Tesseract busy is stopped by a time limit and killed with all its
children; its temporary files go to a private folder inside the caller's ``workdir``
(TMPDIR, TEMP and TMP point there), removed whatever happens.

Tesseract runs single-threaded (``OMP_THREAD_LIMIT=1``): OCRmyPDF otherwise lets it use two
OpenMP threads on a one-page document, whose spinning costs several times the CPU on a busy
server (measured: 1.7 s against 13-14 s of CPU for one page at 300 dpi on the shared 2-core
machine); the parallelism is across pages (``--jobs``) and documents instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from brankas.core.errors import BrankasError

LANGUAGE = "ind"  # Tesseract's Indonesian data (Debian: tesseract-ocr-ind)
PAGE_TIMEOUT = 120  # seconds Tesseract may spend on one page (then the page has no text)
# The whole run's limit: a start-up allowance and a share per page OCR'd (Ghostscript's
# rasterising included), whatever ``--jobs`` is.
RUN_TIMEOUT_BASE, RUN_TIMEOUT_PER_PAGE = 120, 120
# How OCRmyPDF prepares a scan for Tesseract (the stored file is never changed): straighten
# a skewed page, turn a sideways or upside-down one, and clean specks off it (unpaper).
# Each costs about half a second to a second of CPU a page; without them a turned page
# reads as nothing, a skew of 2-3 degrees splits words, and specks beside a word become
# punctuation glued to it ("proktordan", "sebagaimana-mestinya" on a 200 dpi scan).
# Cleaning needs unpaper (Debian: a dependency of ocrmypdf; often absent on Windows): used
# when it is installed.
OCR_OPTIONS = ("--deskew", "--rotate-pages")
CLEAN_OPTION = "--clean"
_SKIPPED = re.compile(r"\[OCR skipped on page\(s\) (\d+)(?:-(\d+))?\]")


@dataclass(frozen=True)
class OcrEngine:
    """An installed OCR engine (OCRmyPDF with Tesseract and its Indonesian data)."""

    command: tuple[str, ...]  # how OCRmyPDF is started
    version: str  # "ocrmypdf 14.0.1 + tesseract 5.3.0 (ind)"
    path: str | None = None  # the PATH its children get (Tesseract found off PATH), or None
    options: tuple[str, ...] = OCR_OPTIONS  # how it prepares a scan (``--clean`` if unpaper)


def _version_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return "?"


def _run_quiet(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60,
                              env=dict(env), stdin=subprocess.DEVNULL, errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout + done.stderr if done.returncode == 0 else None


def _tesseract(search: str | None) -> str | None:
    found = shutil.which("tesseract", path=search)
    if found or os.name != "nt":
        return found
    # The Windows installer (UB Mannheim's) puts it here without adding it to PATH.
    for base in (os.environ.get("PROGRAMFILES"), os.environ.get("LOCALAPPDATA")):
        if base:
            for candidate in (Path(base) / "Tesseract-OCR" / "tesseract.exe",
                              Path(base) / "Programs" / "Tesseract-OCR" / "tesseract.exe"):
                if candidate.is_file():
                    return str(candidate)
    return None


def find_engine(*, env: Mapping[str, str] | None = None,
                module: bool = True) -> tuple[OcrEngine | None, str]:
    """Look for the engine (uncached): ``(engine, "")`` or ``(None, what is missing)``.
    ``env`` is the environment to look in (its PATH, TESSDATA_PREFIX; this process's when
    ``None``); ``module`` whether ``python -m ocrmypdf`` in this interpreter counts."""
    env = dict(os.environ if env is None else env)
    search = env.get("PATH")
    if module and importlib.util.find_spec("ocrmypdf") is not None:
        command: tuple[str, ...] = (sys.executable, "-m", "ocrmypdf")
    elif found := shutil.which("ocrmypdf", path=search):
        command = (found,)
    else:
        return None, "ocrmypdf not found"
    tesseract = _tesseract(search)
    if tesseract is None:
        return None, "tesseract not found"
    path = None
    folder = str(Path(tesseract).parent)
    if shutil.which("tesseract", path=search) is None:  # found off PATH (Windows)
        path = os.pathsep.join([folder, *(search.split(os.pathsep) if search else [])])
        env["PATH"] = path
    langs = _run_quiet([tesseract, "--list-langs"], env)
    if langs is None:
        return None, "tesseract does not start"
    if LANGUAGE not in {line.strip() for line in langs.splitlines()[1:]}:
        return None, f"tesseract has no '{LANGUAGE}' language data (tesseract-ocr-{LANGUAGE})"
    tess_version = _run_quiet([tesseract, "--version"], env)
    ocr_version = _run_quiet([*command, "--version"], env)
    if ocr_version is None or tess_version is None:
        return None, "ocrmypdf does not start"
    tess = _version_line(tess_version).removeprefix("tesseract").strip()
    version = f"ocrmypdf {_version_line(ocr_version)} + tesseract {tess} ({LANGUAGE})"
    options: tuple[str, ...] = OCR_OPTIONS
    if shutil.which("unpaper", path=env.get("PATH")):
        options += (CLEAN_OPTION,)
    return OcrEngine(command=command, version=version, path=path, options=options), ""


_lock = threading.Lock()
_found: tuple[OcrEngine | None, str] | None = None


def ocr_engine() -> OcrEngine | None:
    """The OCR engine when it is installed (OCRmyPDF, Tesseract, the ``ind`` data), else
    ``None``; looked up once per process (``missing_reason`` says what is missing)."""
    global _found
    with _lock:
        if _found is None:
            _found = find_engine()
        return _found[0]


def missing_reason() -> str:
    """What is missing when ``ocr_engine()`` is ``None`` ("" when it is installed)."""
    ocr_engine()
    assert _found is not None
    return _found[1]


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Stop the engine and every child it started (Ghostscript, Tesseract, its workers)."""
    if os.name == "nt":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                       capture_output=True, check=False)
        with contextlib.suppress(OSError):
            proc.kill()
    else:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    if os.name != "nt":  # wait (briefly) until the whole group is gone
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except OSError:
                break
            time.sleep(0.05)


def _remove(folder: Path) -> None:
    for _ in range(5):  # a dying child may still be closing a file (Windows: locked)
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.2)


def _last_words(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return ((errors or lines or ["no message"])[-1])[:300]


def run_ocr(engine: OcrEngine, source: Path, pages: Sequence[int], total: int, *,
            workdir: Path | None = None, timeout: float | None = None,
            page_timeout: float = PAGE_TIMEOUT, jobs: int | None = None) -> list[str | None]:
    """OCR pages ``pages`` (1-based) of the PDF at ``source`` (``total`` pages): the text
    of each of the ``total`` pages, ``None`` for a page not OCR'd. Temporary files go to a
    private folder in ``workdir`` (the system's temp folder when ``None``), removed on the
    way out. Raises ``BrankasError("ocr_failed")`` when the engine fails or runs out of
    time (``timeout``: seconds for the whole run)."""
    if timeout is None:
        timeout = RUN_TIMEOUT_BASE + RUN_TIMEOUT_PER_PAGE * len(pages)
    private = Path(tempfile.mkdtemp(prefix="brankas-ocr-", dir=workdir))
    try:
        tmp = private / "tmp"
        tmp.mkdir()
        sidecar = private / "text.txt"
        argv = [*engine.command, "--quiet", "--language", LANGUAGE, "--output-type", "none",
                "--sidecar", str(sidecar), "--force-ocr", *engine.options,
                "--tesseract-timeout", str(int(page_timeout))]
        if jobs:
            argv += ["--jobs", str(jobs)]
        if len(pages) < total:
            argv += ["--pages", page_ranges(pages)]
        argv += ["--", str(Path(source).absolute()), "-"]
        env = dict(os.environ)
        env.update(TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp), OMP_THREAD_LIMIT="1",
                   PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
        if engine.path is not None:
            env["PATH"] = engine.path
        stderr_path = private / "stderr.txt"
        with open(stderr_path, "wb") as stderr:
            # its own process group (POSIX: session) so a time-out kills its children too
            extra: dict[str, object] = (
                {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
                if os.name == "nt" else {"start_new_session": True})
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=stderr, env=env,
                                        cwd=str(private), **extra)  # type: ignore[call-overload]
            except OSError as exc:
                raise BrankasError("ocr_failed", detail=f"ocrmypdf did not start: {exc}") from None
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_tree(proc)
                raise BrankasError("ocr_failed", detail=(
                    f"dihentikan setelah {timeout:.0f} detik (batas waktu)",
                    f"stopped after {timeout:.0f} seconds (the time limit)")) from None
            except BaseException:  # interrupted (Ctrl+C, a job cancelled): leave nothing
                _kill_tree(proc)
                raise
        if code != 0:
            words = _last_words(stderr_path.read_text("utf-8", errors="replace"))
            raise BrankasError("ocr_failed", detail=f"ocrmypdf exit {code}: {words}")
        try:
            text = sidecar.read_text("utf-8", errors="replace")
        except OSError as exc:
            raise BrankasError("ocr_failed", detail=f"no text file: {exc}") from None
        return _pages(text, total)
    finally:
        _remove(private)


def page_ranges(pages: Sequence[int]) -> str:
    """OCRmyPDF's ``--pages`` for these page numbers: ``[1, 2, 3, 5]`` -> ``"1-3,5"``."""
    runs: list[list[int]] = []
    for page in sorted(set(pages)):
        if runs and page == runs[-1][1] + 1:
            runs[-1][1] = page
        else:
            runs.append([page, page])
    return ",".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)


def _pages(sidecar: str, total: int) -> list[str | None]:
    """The sidecar's pages (separated by form feeds; a run of pages not OCR'd is one
    "[OCR skipped on page(s) 2-4]"), one entry per page of the PDF."""
    out: list[str | None] = []
    for part in sidecar.split("\f"):
        skipped = _SKIPPED.fullmatch(part.strip())
        if skipped:
            first = int(skipped.group(1))
            last = int(skipped.group(2) or first)
            out += [None] * (last - first + 1)
        else:
            out.append(part)
    if len(out) != total:
        raise BrankasError("ocr_failed",
                           detail=f"the engine returned {len(out)} pages of {total}")
    return out
