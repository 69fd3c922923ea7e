"""``python -m bench`` (``make bench``): Brankas against the standard tools, one table.

Steps: generate the data (fixed seeds), set up a fresh instance through the CLI (admin,
a Sandiman, a Kabid with a key: two recipients with the office recovery key), then
measure each command against the standard tool on the same files in the same run.
Results go to stdout as a table and to ``.bench/results.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import backup, data, grant, instance, reports, scale, suite

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench"

METHOD = [
    "Every command runs as a separate process, timed from spawn to exit (wall clock).",
    "Brankas runs the real CLI as a Sandiman (python -m brankas ...): Python and Django start-up",
    "  and the Argon2 password check are included. Best of {repeats} runs per side, interleaved.",
    "Warm cache for both sides: every input file is read once before any timing; os.sync()",
    "  runs before each timed command so earlier writes are not billed to it.",
    "Brankas fsyncs each stored file and its folder before the record commits; cp and age",
    "  do not fsync (their writes may still be in the page cache when they exit).",
    "Register: --allow-duplicate, same file each run; age writes a fresh out.age each run.",
    "Import: each run on a fresh copy of the same empty instance; cp -r to a fresh folder.",
    "Peak memory: the process's VmHWM (/proc/PID/status). 'After the password check': one",
    "  extra run of the same CLI whose high-water mark and clock are taken once the user is",
    "  authenticated (bench/memwrap.py): the memory-hard Argon2 check is then excluded.",
    "The work folder is marked top-of-hierarchy (chattr +T) so ext4 gives it fresh block",
    "  groups: on this journal-less ext4, creating files right after many were deleted",
    "  nearby is slowed by the kernel's recently-deleted-inode check, for either side.",
    "Backup: {backup_files} archive files imported once (set-up); each full backup runs on",
    "  its own copy of that instance into a fresh empty folder on the same file system, as",
    "  each rsync -a copy does; sha256sum then hashes every copied file from the page cache",
    "  (rsync's writes are flushed, untimed, before it; the copy is dropped from the cache",
    "  after it). Brankas fsyncs, drops each copy from the page cache and re-reads it.",
    "No-change backup: into the first full backup's disk; restic's repository got its first",
    "  backup untimed, then each run backs up the unchanged archive again.",
    "Verify: brankas verify reads past the page cache by design, so before each timed run",
    "  of either side the bag's files are dropped from it (posix_fadvise DONTNEED): both read",
    "  the disk. sha256sum -c with the files cached is shown for reference.",
    "Afterwards (not timed) standard tools check the results: every stored file against its",
    "  record's SHA-256, exempted files through age -d with the recovery key, audit verify;",
    "  the bag validates with the bagit library, its manifest matches sha256sum of the rsync",
    "  copy, and verify names a changed, a missing and an unexpected file on a spare disk.",
    "Grant: {grant_mib:,} MiB of exempted scans (2-8 MiB each) imported once (set-up), a",
    "  second Kabid with a key; each key grant (best of up to 3) runs on its own copy of that",
    "  instance (archive hard-linked) as the Kabid with the passphrase, against one sh loop",
    "  of age -d -i IDENTITY FILE | age -r x3 -o OUT over the same files. The grant rewrites",
    "  each file's age header (same file key, payload copied), hashes the old and the new",
    "  file, fsyncs each file (eight together) and its folders, records and audits the files",
    "  (eight to a transaction), then removes the old files; age does none of that.",
    "  The age loop is given the identity unlocked; a third side, reported, starts as the",
    "  grant does: age -d unlocks the same passphrase-protected key file once (on a terminal",
    "  made by script), then the same loop.",
    "Reports: a monthly messages report of 5,000 entries rendered in one process (bench/",
    "  reports.py): seconds for the PDF and for the XLSX (in process, after set-up), and the",
    "  process's peak memory (VmHWM, Python and Django included); no standard tool to compare.",
    "Office scale (bench/scale.py): an instance of BRANKAS_BENCH_DOCS documents (default",
    "  100,000 one-page PDFs of 1.5-4 KB, a quarter exempted, over ten years) and ten audit",
    "  entries per document, loaded by bench/bulk.py (not timed); full backup to an empty",
    "  folder (each round on its own copy of the instance, archive hard-linked) against rsync",
    "  -a + sha256sum of the same files (find | xargs), no-change backup against restic's",
    "  no-change backup, a backup of 100 new documents to the disk holding the rest, audit",
    "  verify, the busiest month's messages report (PDF + XLSX, one process), list --query.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--big-mib", type=int, default=256, help="size of the big scan")
    parser.add_argument("--files", type=int, default=2000, help="scans in the import tree")
    parser.add_argument("--repeats", type=int, default=5, help="runs per side (best is kept)")
    parser.add_argument("--backup-files", type=int, default=5000,
                        help="PDFs (50-500 KB) in the backed-up archive")
    parser.add_argument("--grant-mib", type=int, default=1024,
                        help="MiB of exempted scans (2-8 MiB each) handed over by key grant")
    parser.add_argument("--only", choices=["register", "import", "backup", "reports", "grant",
                                           "scale"],
                        help="run one measure only")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--json", type=Path, default=OUT / "results.json")
    parser.add_argument("--quiet-wait", type=float, default=suite.QUIET_WAIT,
                        help="seconds each round may wait for the machine to be quiet (0: none)")
    args = parser.parse_args(argv)

    tools = [] if args.only == "reports" else ["age", "sha256sum", "cp"]
    if args.only in (None, "backup", "scale"):
        tools += ["rsync", "restic"]
    for tool in tools:
        if shutil.which(tool) is None:
            print(f"bench: {tool} not found (make system-deps-bench)", file=sys.stderr)
            return 2
    suite.QUIET_WAIT = args.quiet_wait
    OUT.mkdir(exist_ok=True)
    _top_of_hierarchy(OUT)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=OUT))
    started = time.perf_counter()
    load_before = os.getloadavg()
    try:
        measures, context = _run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    context["bench_seconds"] = round(time.perf_counter() - started, 1)
    context["load_average"] = {"before": [round(x, 2) for x in load_before],
                               "after": [round(x, 2) for x in os.getloadavg()]}
    context["busy_at_round_start"] = list(suite.busy_log)
    text = _table(measures, context, _method(args))
    print(text)
    payload = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": context["machine"],
        "method": _method(args),
        "measures": [
            {"name": m.name.strip(), "unit": m.unit, "brankas": round(m.brankas, 4),
             "baseline": None if m.baseline is None else round(m.baseline, 4),
             "baseline_label": m.baseline_label,
             "ratio": None if m.ratio is None else round(m.ratio, 3),
             "target": m.target, "met": m.met, "detail": m.detail, "problems": m.problems}
            for m in measures
        ],
        "bench_seconds": context["bench_seconds"],
        "load_average": context["load_average"],
        "busy_at_round_start": context["busy_at_round_start"],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {_shown(args.json)}")
    return 1 if any(m.problems for m in measures) else 0


def _run(args: argparse.Namespace, work: Path) -> tuple[list[suite.Measure], dict[str, Any]]:
    log = _log
    context: dict[str, Any] = {"machine": _machine()}
    if args.only == "reports":  # needs no CLI instance and no standard tool
        log(f"messages report of {reports.ENTRIES:,} entries: PDF and XLSX ...")
        return reports.measure(work), context
    if args.only == "scale":  # its own instance (bench/bulk.py)
        return _scale(work, args), context
    inputs = work / "inputs"
    inputs.mkdir()
    big = inputs / "pindaian-besar.pdf"
    log("setting up an instance through the CLI (init, user add, key new) ...")
    inst = instance.create(work / "home", work / "scratch")
    pristine = work / "home-pristine"
    shutil.copytree(inst.home, pristine, symlinks=True)
    out = work / "out"
    out.mkdir()
    measures: list[suite.Measure] = []
    # Each measure's data is made just before it (and the big file removed after it), so
    # one measure's writes are long settled when the next begins.
    if args.only in (None, "register"):
        log(f"generating a {args.big_mib} MiB PDF scan ...")
        data.big_pdf(big, args.big_mib * data.MIB)
        log(f"register vs age + sha256sum, {args.repeats} runs each ...")
        measures += suite.register(inst, big, out, args.repeats)
        big.unlink()
    if args.only in (None, "import"):
        log(f"generating {args.files:,} scans in a four-folder tree ...")
        tree = data.import_tree(inputs / "arsip-lama", args.files)
        log(f"import vs cp -r + sha256sum, {args.repeats} runs each ...")
        measures += suite.import_tree(inst, pristine, tree, out, args.repeats)
    if args.only in (None, "backup"):
        log(f"generating {args.backup_files:,} PDFs and importing them (set-up) ...")
        prepared = backup.prepare(inst, pristine, inputs, work, args.backup_files)
        log(f"backup vs rsync -a + sha256sum, no-change backup vs restic, verify vs"
            f" sha256sum -c, {args.repeats} runs each ...")
        backup_out = work / "backup"
        backup_out.mkdir()
        measures += backup.measure(prepared, backup_out, args.repeats)
    if args.only in (None, "grant"):
        log(f"generating {args.grant_mib:,} MiB of exempted scans, importing them and adding"
            " a second Kabid (set-up) ...")
        prepared_grant = grant.prepare(inst, pristine, inputs, work, args.grant_mib * data.MIB)
        grant_out = work / "grant"
        grant_out.mkdir()
        runs = min(args.repeats, 3)
        log(f"key grant vs age -d | age -r, {runs} runs each ...")
        measures += grant.measure(prepared_grant, grant_out, runs)
    if args.only in (None, "reports"):
        log(f"messages report of {reports.ENTRIES:,} entries: PDF and XLSX ...")
        measures += reports.measure(work)
    if args.only is None:
        measures += _scale(work, args)
    return measures, context


def _scale(work: Path, args: argparse.Namespace) -> list[suite.Measure]:
    docs = scale.size_from_env()
    _log(f"office scale: {docs:,} documents and {docs * scale.ENTRIES_PER_DOC:,} audit entries"
         " (bench/bulk.py; BRANKAS_BENCH_DOCS sets the size), then backups, audit verify,"
         " the monthly report and list --query ...")
    return scale.measure(work, docs, repeats=min(args.repeats, 2))


def _method(args: argparse.Namespace) -> list[str]:
    return [line.format(repeats=args.repeats, backup_files=f"{args.backup_files:,}",
                        grant_mib=args.grant_mib)
            for line in METHOD]


def _table(measures: list[suite.Measure], context: dict[str, Any], method: list[str]) -> str:
    headers = ["Measure", "Brankas", "Standard tools", "Ratio", "Target", "Met"]
    rows = []
    for m in measures:
        value = f"{m.brankas:.2f} s" if m.unit == "s" else f"{m.brankas:.0f} MiB"
        if m.baseline is None:
            base = "-"
        elif m.unit == "s":
            base = f"{m.baseline:.2f} s ({m.baseline_label})"
        else:
            base = f"{m.baseline:.0f} MiB ({m.baseline_label})"
        ratio = f"{m.ratio:.2f}x" if m.ratio is not None and m.unit == "s" else "-"
        met = {True: "yes", False: "NO", None: "-"}[m.met]
        rows.append([m.name, value, base, ratio, m.target, met])
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [
        f"Brankas benchmarks ({context['machine']['summary']})",
        "",
        line(headers),
        line(["-" * w for w in widths]),
        *(line(r) for r in rows),
        "",
        *_checks(measures),
        "",
        "Method:",
        *("  " + m for m in method),
        f"Whole bench: {context['bench_seconds']} s. Other work on the machine inflates both"
        f" sides: each round waits up to {suite.QUIET_WAIT:.0f} s for the CPUs to be quiet;",
        f"  busy share seen by the rounds: {_busy(context['busy_at_round_start'])}; load average"
        f" (1 min) {context['load_average']['before'][0]} before,"
        f" {context['load_average']['after'][0]} after.",
    ]
    return "\n".join(out)


def _checks(measures: list[suite.Measure]) -> list[str]:
    lines = []
    for m in measures:
        if "checked" not in m.detail:
            continue
        what = m.detail["checked"]
        if isinstance(what, dict):
            what = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in what.items())
        verdict = "passed" if not m.problems else f"FAILED ({len(m.problems)} problems)"
        lines.append(f"Check {m.name.split(' (')[0]}: {verdict}; {what}.")
        lines += [f"  - {p}" for p in m.problems[:10]]
    return lines


def _busy(shares: list[float]) -> str:
    if not shares:
        return "-"
    return f"{min(shares):.0%} to {max(shares):.0%}"


def _top_of_hierarchy(folder: Path) -> None:
    """Best effort ``chattr +T``: ext4's Orlov allocator then spreads the folder's
    subfolders over fresh block groups, as it does for folders at the top of a disk."""
    if shutil.which("chattr"):
        subprocess.run(["chattr", "+T", str(folder)], capture_output=True, check=False)


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = os.cpu_count() or 0
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    summary = (f"{cpu}, {cores} cores, {mem:.0f} GiB RAM, Python "
               f"{platform.python_version()}, {platform.system()} {platform.release()}")
    return {"cpu": cpu, "cores": cores, "ram_gib": round(mem, 1), "summary": summary,
            "python": platform.python_version(), "kernel": platform.release()}


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
