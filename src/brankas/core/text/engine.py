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
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from brankas.core.errors import BrankasError
from brankas.core.processes import module_env, pid_alive
from brankas.core.text.proc import Reader, kill_tree, spawn

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
# The sidecar read back: Tesseract gives a few KiB a page; more is not a page's text.
MAX_SIDECAR_BYTES = 64 * 2**20
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
    env = module_env(env)  # ``-m ocrmypdf``
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


def _remove(folder: Path) -> None:
    for _ in range(5):  # a dying child may still be closing a file (Windows: locked)
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.2)


_OWNER = "owner.pid"  # in a private folder: the pid of the Brankas process that made it


def sweep(workdir: Path | None) -> None:
    """Remove private folders left in ``workdir`` by a Brankas process that died with its
    engine (the whole service killed at once, the machine stopped): their owner is gone."""
    folder = Path(workdir if workdir is not None else tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for private in folder.glob("brankas-ocr-*"):
            try:
                pid = int((private / _OWNER).read_text("ascii").strip())
            except (OSError, ValueError):
                continue  # not ours, or being made right now
            if pid != os.getpid() and not pid_alive(pid):
                _remove(private)


def _stop(guard: subprocess.Popen[bytes]) -> None:
    """Stop the engine: closing the guard's standard input makes it kill the engine with
    all its children (``child.guard``); the guard itself is killed if it does not end."""
    with contextlib.suppress(OSError):
        assert guard.stdin is not None
        guard.stdin.close()
    try:
        guard.wait(timeout=15)
    except subprocess.TimeoutExpired:
        kill_tree(guard)


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
    sweep(workdir)
    private = Path(tempfile.mkdtemp(prefix="brankas-ocr-", dir=workdir))
    try:
        (private / _OWNER).write_text(str(os.getpid()), "ascii")
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
        env = module_env()
        # temporary files and caches (Ghostscript's, fontconfig's, Tesseract's) inside the
        # private folder: nothing in the system's temp folder or the service's home
        env.update(TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp), HOME=str(tmp),
                   USERPROFILE=str(tmp), XDG_CACHE_HOME=str(tmp), OMP_THREAD_LIMIT="1",
                   PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
        if engine.path is not None:
            env["PATH"] = engine.path
        # The engine runs under a guard (``child.guard``, its own process group) that kills
        # it with all its children when this process dies or gives up: no orphan.
        guarded = [sys.executable, "-m", "brankas.core.text.child", "guard", str(private),
                   "--", *argv]
        try:
            guard = spawn(guarded, env=env, cwd=str(private), stdin=subprocess.PIPE,
                          stderr=subprocess.PIPE)
        except OSError as exc:
            raise BrankasError("ocr_failed", detail=f"ocrmypdf did not start: {exc}") from None
        assert guard.stderr is not None
        stderr = Reader(guard.stderr)  # its last 64 KiB: a flood costs no memory, no disk
        try:
            code = guard.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(guard)
            raise BrankasError("ocr_failed", detail=(
                f"dihentikan setelah {timeout:.0f} detik (batas waktu)",
                f"stopped after {timeout:.0f} seconds (the time limit)")) from None
        except BaseException:  # interrupted (Ctrl+C, a job cancelled): leave nothing
            _stop(guard)
            raise
        finally:
            with contextlib.suppress(OSError):
                assert guard.stdin is not None
                guard.stdin.close()
        if code != 0:
            words = _last_words(stderr.text())
            raise BrankasError("ocr_failed", detail=f"ocrmypdf exit {code}: {words}")
        try:
            if sidecar.stat().st_size > MAX_SIDECAR_BYTES:
                raise BrankasError("ocr_failed", detail=(
                    f"teks hasil OCR lebih dari {MAX_SIDECAR_BYTES // 2**20} MiB",
                    f"the OCR text is over {MAX_SIDECAR_BYTES // 2**20} MiB"))
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
