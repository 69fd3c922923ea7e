"""``python -m bench.ocr [WORK] [ROUNDS]`` (in ``make bench``): OCR throughput in pages per
minute, Brankas's ``extract`` against ``ocrmypdf`` run directly on the same PDFs (issue 19).

Set-up (not timed): BRANKAS_BENCH_OCR_PAGES (default 20) pages of realistic Indonesian
official letters (tests/core/text/letters.py: kop surat, nomor, perihal, body, signature)
rendered at 200, 250 and 300 dpi in turn, skewed 1-3 degrees, specked, saved as JPEG, PNG
or TIFF and turned into stored PDFs by Brankas's intake (img2pdf): one document in three
has two pages. Then, each round, alternating which side goes first:

- brankas: one process reading every stored PDF with ``brankas.core.text.extract`` (text
  layer by pypdf, then OCRmyPDF as a child process with its temporary files in a work
  folder), as the OCR job does;
- ocrmypdf: ``ocrmypdf`` on each PDF in turn from a shell loop, with the same options
  Brankas gives it (``-l ind --output-type none --sidecar --force-ocr --deskew
  --rotate-pages --clean --tesseract-timeout``) and the same ``OMP_THREAD_LIMIT=1``.

Wall time and CPU seconds (user+system, children included) of each side's process; pages
per minute from the wall time. Target: Brankas <= 1.1x ocrmypdf's time. Quality: how many
of each letter's ten phrases Brankas's text holds. Results: a table, ``.bench/ocr.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import proc

ROOT = Path(__file__).resolve().parent.parent
PAGES = int(os.environ.get("BRANKAS_BENCH_OCR_PAGES") or 20)
TARGET = 1.1
KINDS = (("jpeg", 300), ("png", 250), ("tiff", 200))


def _make(inputs: Path) -> dict[str, list[str]]:
    """The stored PDFs (and each one's phrases), ``PAGES`` pages in all."""
    sys.path.insert(0, str(ROOT))
    from tests.core.text import letters
    from tests.core.text.ocrtest import stored_pdf

    inputs.mkdir(parents=True)
    phrases: dict[str, list[str]] = {}
    page, doc = 0, 0
    while page < PAGES:
        count = 2 if doc % 3 == 2 and PAGES - page >= 2 else 1
        kind, dpi = KINDS[doc % len(KINDS)]
        scans, wanted = [], []
        for n in range(count):
            seed = page + n
            item = letters.letter(seed)
            skew = (1.0 + (seed % 5) * 0.5) * (1 if seed % 2 else -1)
            image = letters.scan(item, seed=seed, dpi=dpi, skew=skew)
            scans.append((f"surat-{seed}.{kind}", letters.scan_bytes(image, kind, dpi=dpi)))
            wanted += item.phrases
        name = f"doc{doc:03d}.pdf"
        stored_pdf(inputs / name, scans)
        phrases[name] = wanted
        page += count
        doc += 1
    return phrases


def _extract_all(folder: Path, work: Path) -> int:
    """The brankas side (a child process): extract every PDF in ``folder``; prints JSON."""
    from brankas.core.text import extract, ocr_engine

    engine = ocr_engine()
    assert engine is not None, "no OCR engine"
    out: dict[str, Any] = {"engine": engine.version, "documents": {}}
    for pdf in sorted(folder.glob("*.pdf")):
        got = extract(pdf, workdir=work)
        out["documents"][pdf.name] = {"text": got.text, "pages": got.pages,
                                      "status": got.status, "method": got.method}
    print(json.dumps(out))
    return 0


def _line(tag: str, run: proc.Run, pages: int) -> str:
    return (f"{tag:<22} wall {run.seconds:7.1f} s  cpu {run.cpu_seconds:7.1f} s  "
            f"{pages / run.seconds * 60:6.1f} pages/min  {run.cpu_seconds / pages:5.2f} "
            "cpu s/page")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--extract"]:
        return _extract_all(Path(args[1]), Path(args[2]))
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if any(arg.startswith("-") for arg in args):  # WORK is deleted: never an option's name
        print(f"bench.ocr: unknown option {next(a for a in args if a.startswith('-'))}; "
              "usage: python -m bench.ocr [WORK] [ROUNDS]", file=sys.stderr)
        return 2
    work = Path(args[0] if args else ROOT / ".bench" / "ocr").absolute()
    rounds = int(args[1]) if len(args) > 1 else 3
    if shutil.which("ocrmypdf") is None:
        print("bench.ocr: ocrmypdf is missing (sh scripts/system-deps.sh ocrmypdf "
              "tesseract-ocr tesseract-ocr-ind)", file=sys.stderr)
        return 3
    from brankas.core.text import engine as text_engine

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if work.exists():
        shutil.rmtree(work)
    inputs, tmp = work / "inputs", work / "tmp"
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    phrases = _make(inputs)
    pdfs = sorted(inputs.glob("*.pdf"))
    print(f"OCR throughput: {PAGES} pages in {len(pdfs)} stored PDFs "
          f"(made in {time.perf_counter() - started:.0f} s); {rounds} rounds", flush=True)
    proc.warm(pdfs)
    env = {**os.environ, "TMPDIR": str(tmp), "OMP_THREAD_LIMIT": "1",
           "PYTHONPATH": str(ROOT)}
    engine = text_engine.ocr_engine()
    if engine is None:
        print(f"bench.ocr: no OCR engine ({text_engine.missing_reason()})", file=sys.stderr)
        return 3
    options = " ".join(["--quiet", "--language", text_engine.LANGUAGE, "--output-type", "none",
                        "--force-ocr", *engine.options, "--tesseract-timeout",
                        str(text_engine.PAGE_TIMEOUT)])
    loop = (f'for f in "$1"/*.pdf; do ocrmypdf {options} --sidecar "$2/$(basename "$f").txt" '
            f'-- "$f" - || exit 1; done')
    sides = {
        "brankas": [sys.executable, "-m", "bench.ocr", "--extract", str(inputs), str(tmp)],
        "ocrmypdf": ["sh", "-c", loop, "sh", str(inputs), str(tmp)],
    }
    runs: dict[str, list[proc.Run]] = {side: [] for side in sides}
    found = total = 0
    for n in range(rounds):
        order = list(sides) if n % 2 == 0 else list(reversed(sides))
        for side in order:
            proc.settle()
            busy = proc.busy_share()
            run = proc.run(sides[side], env=env, cwd=ROOT)
            runs[side].append(run)
            print(_line(f"{side} #{n + 1}", run, PAGES) + f"  (machine busy {busy:.0%})",
                  flush=True)
            if side == "brankas" and n == 0:
                out = json.loads(run.stdout)
                for name, wanted in phrases.items():
                    text = " ".join(out["documents"][name]["text"].split()).casefold()
                    found += sum(1 for p in wanted if " ".join(p.split()).casefold() in text)
                    total += len(wanted)
            left = sorted(p.name for p in tmp.iterdir())
            assert side == "ocrmypdf" or not left, f"brankas left files behind: {left}"
            for leftover in tmp.iterdir():  # the direct side's sidecars
                leftover.unlink()
    ratios = [b.seconds / o.seconds for b, o in zip(runs["brankas"], runs["ocrmypdf"],
                                                    strict=True)]
    cpu_ratios = [b.cpu_seconds / o.cpu_seconds
                  for b, o in zip(runs["brankas"], runs["ocrmypdf"], strict=True)]
    best = {side: min(r.seconds for r in rs) for side, rs in runs.items()}
    each = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"brankas / ocrmypdf: wall {statistics.median(ratios):.2f}x median of rounds "
          f"({each}), best-of {best['brankas'] / best['ocrmypdf']:.2f}x; "
          f"cpu {statistics.median(cpu_ratios):.2f}x median (target <= {TARGET})")
    print(f"brankas: {PAGES / best['brankas'] * 60:.1f} pages/min best round; "
          f"phrases found {found} of {total}")
    results = {
        "pages": PAGES, "documents": len(pdfs), "rounds": rounds,
        "engine": engine.version,
        "runs": {side: [{"seconds": r.seconds, "cpu_seconds": r.cpu_seconds,
                         "pages_per_minute": PAGES / r.seconds * 60} for r in rs]
                 for side, rs in runs.items()},
        "ratio_wall_median": statistics.median(ratios),
        "ratio_cpu_median": statistics.median(cpu_ratios),
        "ratio_wall_best": best["brankas"] / best["ocrmypdf"],
        "phrases_found": found, "phrases": total,
    }
    (ROOT / ".bench").mkdir(exist_ok=True)
    (ROOT / ".bench" / "ocr.json").write_text(json.dumps(results, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
