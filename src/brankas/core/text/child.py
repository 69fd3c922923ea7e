"""What runs in the text engine's child processes (``python -m brankas.core.text.child``).

``layer PDF MEMORY``: read each page's text layer with pypdf, with the address space
limited to ``MEMORY`` bytes (POSIX; Windows: the parent's time limit only). A crafted PDF
(a content stream of millions of operators, a decompression bomb, deeply nested forms)
costs the child its time and memory, never the worker's. It prints JSON lines: first
``{"pages": N, "name": "pypdf X"}`` (or ``{"error": "..."}``), then ``{"text": "..."}``
per page, each normalised and capped (``normalise.MAX_PAGE_CHARS``). It ends when its
standard input ends (the Brankas process died): no orphan reader. ``layer PDF MEMORY
MAX_PAGES BASE PER_PAGE`` also limits its CPU time (POSIX, ``RLIMIT_CPU``) to twice the
parent's time limit (``BASE`` seconds plus ``PER_PAGE`` a page) and 2 s: a backstop
for a reader whose parent died while it sat at its memory limit, where every allocation
can fail (the watching thread's too) and pypdf catches the ``MemoryError`` and goes on.

``guard FOLDER -- ARGV...``: run ``ARGV`` (OCRmyPDF) and wait for it; when this process's
standard input ends first (the Brankas process that started it died, even by SIGKILL, or
gave up on it), kill ``ARGV`` with all its children and remove ``FOLDER`` (the run's
private folder). Without it an engine whose parent was killed runs on as an orphan and
leaves its temporary files behind.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading

from brankas.core.text.proc import EXIT_MEMORY


def _limit_memory(limit: int) -> None:
    if os.name == "nt" or limit <= 0:
        return  # Windows: bounded by the parent's time limit (docs/ocr.md)
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _limit_cpu(seconds: float) -> None:
    """At most ``seconds`` of CPU (POSIX: the kernel ends it with SIGXCPU, then SIGKILL)."""
    if os.name == "nt" or seconds <= 0:
        return  # Windows: the parent's time limit only (docs/ocr.md)
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    used = resource.getrusage(resource.RUSAGE_SELF)
    limit = int(used.ru_utime + used.ru_stime + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))


def _emit(record: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _detail(exc: BaseException) -> str:
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    return first or type(exc).__name__


def _cpu_budget(base: float, per_page: float, pages: int) -> float:
    """The CPU backstop: twice the parent's time limit for ``pages``, and 2 s."""
    return 2 * (base + per_page * pages) + 2 if base > 0 else 0


def layer(source: str, max_pages: int, base: float = 0, per_page: float = 0) -> None:
    import pypdf

    from brankas.core.text import normalise

    name = f"pypdf {pypdf.__version__}"
    try:
        reader = pypdf.PdfReader(source, strict=False)
        count = len(reader.pages)
    except MemoryError:
        raise
    except Exception:  # pypdf raises many kinds on a damaged file: ask qpdf how many pages
        try:
            import pikepdf

            with pikepdf.open(source) as pdf:
                count = len(pdf.pages)
        except MemoryError:
            raise
        except Exception as exc:  # damaged, encrypted, not a PDF at all
            _emit({"error": _detail(exc)})
            return
        reader = None
    if count > max_pages:
        _emit({"error": f"{count} pages (the limit is {max_pages})"})
        return
    _limit_cpu(_cpu_budget(base, per_page, count))
    _emit({"pages": count, "name": name})
    room = normalise.MAX_TEXT_CHARS  # a document's text is cut there (extract says so)
    for index in range(count):
        text = ""
        if reader is not None and room > 0:
            try:
                text = normalise.pdf_text(reader.pages[index].extract_text() or "")
            except MemoryError:
                raise
            except Exception:  # a page pypdf cannot read is left to OCR
                text = ""
        text = text[:room]
        room -= len(text)
        _emit({"text": text})


def guard(folder: str, argv: list[str]) -> int:
    from brankas.core.text.proc import kill_tree, spawn

    proc = spawn(argv, stdout=None, stderr=None)  # stderr: this process's (the parent's pipe)
    stopping = threading.Event()

    def watch() -> None:
        try:
            while os.read(0, 4096):  # unbuffered: nothing to lock at exit
                pass
        except OSError:
            pass
        if proc.poll() is None:
            stopping.set()
            kill_tree(proc)
            shutil.rmtree(folder, ignore_errors=True)
            os._exit(1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    code = proc.wait()
    if stopping.is_set():  # killed by the watcher: let it remove the folder and exit
        watcher.join()
    return code


def _exit_with_parent() -> None:
    """End this process when its standard input (a pipe from Brankas) ends: the Brankas
    process died (even by SIGKILL) and can no longer stop it at its time limit."""

    def watch() -> None:
        code = 1
        try:
            while os.read(0, 4096):
                pass
        except MemoryError:  # at the memory limit: this thread must still end the process
            code = EXIT_MEMORY
        except BaseException:  # noqa: BLE001 - OSError, or anything else: end all the same
            code = 1
        os._exit(code)

    threading.Thread(target=watch, daemon=True).start()


def main(args: list[str]) -> int:
    if args[:1] == ["layer"] and len(args) in (4, 6):
        _exit_with_parent()
        _limit_memory(int(args[2]))
        base, per_page = (float(args[4]), float(args[5])) if len(args) == 6 else (0.0, 0.0)
        _limit_cpu(_cpu_budget(base, per_page, 0))
        try:
            layer(args[1], int(args[3]), base, per_page)
        except MemoryError:
            os._exit(EXIT_MEMORY)
        return 0
    if args[:1] == ["guard"] and len(args) > 3 and args[2] == "--":
        code = guard(args[1], args[3:])
        os._exit(code if code >= 0 else 128 - code)  # not waiting for the watching thread
    print("usage: layer PDF MEMORY MAX_PAGES [BASE PER_PAGE] | guard FOLDER -- ARGV...",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
