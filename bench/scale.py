"""Office scale: backups, ``audit verify``, the monthly report and the register search on
an instance of 100,000 documents and 1,000,000 audit entries (``bench/bulk.py``).

``python -m bench --only scale`` (or ``python -m bench.scale``); the size comes from
``BRANKAS_BENCH_DOCS`` (default 100,000 documents, ten audit entries per document) for
quicker runs; ``python -m bench.scale DIR --only-full [--repeats N]`` measures the full
backup and its peers alone (N rounds, 2 by default). Every Brankas figure is a separate
process through the real CLI (wall clock from spawn to exit, whole-process peak memory:
VmHWM), against the standard tools on the same files in the same run:

- full backup to an empty folder (every copy durable and read back) against
  ``rsync -a arsip/ COPY/`` + ``sha256sum`` of every copied file (target ratio <= 2);
  its peak memory (target <= 150 MiB);
- no-change backup against a second ``restic backup`` of the unchanged archive (target
  ratio <= 1.0), and both peaks;
- a backup after 100 more documents were registered, to the disk holding the rest, against
  the full backup (it should depend on the 100: the audit log goes to the disk as
  segments of the entries the disk lacks), and the same at a smaller archive
  (``BRANKAS_BENCH_PLUS_SMALL``, 20,000 documents by default, 0 for none) to show how
  it grows with the archive;
- ``brankas audit verify`` over the whole log: time and peak memory;
- the monthly messages report (PDF and XLSX) of a month of the loaded history: time and
  the rendering process's peak memory;
- ``brankas list --query`` (a word of many subjects, first page): time.

The disks and copies of a bench stay in ``WORK/scale`` until the next bench's start, which
deletes them and then waits ``BRANKAS_BENCH_DELETE_SETTLE`` seconds (310) before its first
timed run: on ext4 without a journal every new inode is slower for minutes after many
deletions, and no side must pay for the other's deleted trees (``DELETE_SETTLE``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import bulk, proc, suite
from bench.suite import Measure

DEFAULT_DOCS = 100_000
ENTRIES_PER_DOC = 10
MIB = 1 << 20
# ext4 without a journal (this bench machine's ``/dev/vda``) passes over, at every new
# inode, each free inode of the group deleted in the last 5 s, or the last 305 s while its
# inode table block is dirty (which a new inode beside it makes it): right after 100,000
# files were deleted, each of the next 100,000 creates scans thousands of them in the
# kernel (``recently_deleted``). ``rsync -a`` of 20,000 files took 1.1 s of system time
# on this file system, 11.1 s right after 40,000 files were deleted (session 22). The
# trees of earlier runs are deleted at the start only (never between timed runs), and the
# first timed run waits this many seconds after that deletion, so neither side pays for
# the deletions of the other's trees (before, the backup ran right after the deletion of
# the last run's 100,000-file disk; rsync, later, did not).
DELETE_SETTLE = float(os.environ.get("BRANKAS_BENCH_DELETE_SETTLE") or 310)


def size_from_env() -> int:
    return int(os.environ.get("BRANKAS_BENCH_DOCS") or DEFAULT_DOCS)


@dataclass
class Home:
    home: Path
    tmp: Path
    built: dict[str, Any]

    def env(self, user: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
        env.update({"BRANKAS_HOME": str(self.home), "BRANKAS_LANG": "en",
                    "TMPDIR": str(self.tmp)})
        if user:
            env.update({"BRANKAS_USER": user,
                        "BRANKAS_PASSWORD": self.built["users"][user]["password"]})
        return env

    def brankas(self, *args: str, user: str = "operator", check: bool = True) -> proc.Run:
        return proc.run([sys.executable, "-m", "brankas", *args], env=self.env(user),
                        cwd=self.tmp, check=check)


def prepare(work: Path, docs: int) -> Home:
    """The bench instance (set-up, not timed): reused from ``work/scale-home`` when a
    previous run with the same size left it there (``--keep``)."""
    home = work / "scale-home"
    marker = work / "scale-built.json"
    if marker.exists() and json.loads(marker.read_text())["documents"] == docs:
        built = json.loads(marker.read_text())
    else:
        shutil.rmtree(home, ignore_errors=True)
        built = bulk.build(home, docs, docs * ENTRIES_PER_DOC)
        marker.write_text(json.dumps(built))
    tmp = work / "scale-tmp"
    tmp.mkdir(exist_ok=True)
    return Home(home, tmp, built)


def _remove_earlier(out: Path) -> float | None:
    """Delete the trees an earlier bench left in ``out`` (its disks and copies: kept to
    the end of a run, so no timed run follows a deletion); the time it was done, or None
    when there was nothing."""
    if not out.exists():
        return None
    shutil.rmtree(out)
    proc.settle()
    return time.monotonic()


def _settle_deletions(deleted: float | None) -> None:
    """Wait until ``DELETE_SETTLE`` seconds have passed since ``deleted`` (the set-up's
    clone and warm-up usually take part of it)."""
    if deleted is not None:
        left = DELETE_SETTLE - (time.monotonic() - deleted)
        if left > 0:
            print(f"bench.scale: waiting {left:.0f} s after deleting the last run's trees "
                  "(BRANKAS_BENCH_DELETE_SETTLE)", file=sys.stderr, flush=True)
            time.sleep(left)


def _clone(src: Home, home: Path) -> Home:
    """A copy of the instance: the database and small files copied, the archive
    hard-linked (so each full-backup round starts from a database that knows no disk)."""
    shutil.copytree(src.home, home, symlinks=True, ignore=lambda d, names: (
        ["arsip"] if Path(d) == src.home else []))
    shutil.copytree(src.home / "arsip", home / "arsip", copy_function=os.link)
    return Home(home, src.tmp, src.built)


def _sh(script: str) -> proc.Run:
    return proc.run(["sh", "-c", script])


def _mib(kib: int) -> float:
    return kib / 1024


def measure(work: Path, docs: int | None = None, repeats: int = 2, *,
            only_full: bool = False) -> list[Measure]:
    """Every figure above; ``only_full``: the full backup and its peers only."""
    docs = docs or size_from_env()
    base = prepare(work, docs)
    out = work / "scale"
    deleted = _remove_earlier(out)
    out.mkdir()
    arsip = base.home / "arsip"
    files = sum(1 for p in arsip.rglob("*") if p.is_file())
    source_bytes = sum(p.stat().st_size for p in arsip.rglob("*") if p.is_file())
    proc.warm([p for p in arsip.rglob("*") if p.is_file()])
    measures: list[Measure] = []

    # -- full backup against rsync -a + sha256sum ----------------------------------------
    full, first_home = _full_backup(base, out, docs, repeats, files, source_bytes,
                                    deleted=deleted)
    measures += full
    best = full[0].brankas  # the best full backup's wall (the +100 run's baseline)
    if only_full:
        return measures

    # -- no-change backup against restic no-change ----------------------------------------
    assert first_home is not None
    disk = out / "disk-0"
    first_home.brankas("backup", str(disk), "--json")  # untimed: the disk has everything
    repo = out / "restic"
    renv = {**os.environ, "RESTIC_PASSWORD": "bench-scale"}  # noqa: S105 - a bench secret
    proc.run(["restic", "init", "--repo", str(repo)], env=renv)
    proc.run(["restic", "-r", str(repo), "backup", "--quiet", str(arsip)], env=renv)
    again_runs: list[proc.Run] = []
    restic_runs: list[proc.Run] = []
    for _ in range(max(repeats, 3)):
        suite.round_start()
        again_runs.append(first_home.brankas("backup", str(disk), "--json"))
        proc.settle()
        restic_runs.append(proc.run(["restic", "-r", str(repo), "backup", "--json",
                                     str(arsip)], env=renv))
    again = [json.loads(r.stdout) for r in again_runs]
    problems = [f"no-change run carried {len(s['agendas'])} documents" for s in again
                if s["agendas"]]
    best_again = min(r.seconds for r in again_runs)
    best_restic = min(r.seconds for r in restic_runs)
    measures += [
        Measure("backup again, nothing changed", "s", best_again, best_restic,
                "restic backup", "ratio <= 1.0", best_again / best_restic <= 1.0,
                {"runs": suite._runs(again_runs), "restic_runs": suite._runs(restic_runs),
                 "checked": "no document carried again"}, problems),
        Measure("  peak memory of that backup, whole process", "MiB",
                _mib(max(r.peak_rss_kib for r in again_runs)),
                _mib(max(r.peak_rss_kib for r in restic_runs)), "restic backup",
                "reported", None),
    ]

    # -- +100 documents --------------------------------------------------------------------
    plus, detail, problems = _plus_100(first_home, disk)
    detail["no_change_seconds"] = round(best_again, 3)
    small = int(os.environ.get("BRANKAS_BENCH_PLUS_SMALL") or 20_000)
    small_plus = None
    if 0 < small < docs:  # the same at a smaller archive: set-up untimed
        inst = _clone(prepare(work / f"plus-{small}", small), out / f"home-plus-{small}")
        small_disk = out / f"disk-plus-{small}"
        inst.brankas("backup", str(small_disk), "--json")
        small_plus, small_detail, small_problems = _plus_100(inst, small_disk)
        detail["at_smaller_archive"] = {"documents": small, **small_detail}
        problems += [f"at {small:,}: {p}" for p in small_problems]
    measures += [
        Measure(f"backup of 100 new documents to the disk holding {docs:,}", "s",
                plus.seconds, best, "the full backup", "reported", None, detail, problems),
        Measure("  peak memory of that backup, whole process", "MiB",
                _mib(plus.peak_rss_kib), None, "", "reported", None),
    ]
    if small_plus is not None:
        measures.append(Measure(
            f"  the same, 100 new documents to the disk holding {small:,}", "s",
            small_plus.seconds, plus.seconds, f"at {docs:,}", "reported", None,
            detail["at_smaller_archive"]))

    # -- audit verify ----------------------------------------------------------------------
    suite.round_start()
    verify = base.brankas("audit", "verify", "--json", user="admin", check=False)
    report = json.loads(verify.stdout) if verify.stdout.strip().startswith("{") else {}
    entries = report.get("entries") or report.get("chain", {}).get("entries")
    problems = [] if verify.returncode == 0 else [f"audit verify exited {verify.returncode}"]
    measures += [
        Measure(f"audit verify ({docs * ENTRIES_PER_DOC:,} entries)", "s", verify.seconds,
                None, "", "reported", None,
                {"run": suite._runs([verify])[0], "entries": entries,
                 "checked": "the chain intact (exit 0)"}, problems),
        Measure("  peak memory of audit verify, whole process", "MiB",
                _mib(verify.peak_rss_kib), None, "", "<= 150 MiB",
                _mib(verify.peak_rss_kib) <= 150),
    ]

    # -- the monthly report, and the register search --------------------------------------
    measures += _report(base)
    list_runs = []
    for _ in range(3):
        list_runs.append(base.brankas("list", "--query", "koordinasi", "--limit", "50",
                                      "--json"))
    rows = json.loads(list_runs[-1].stdout)
    measures.append(Measure("register search: list --query, first 50", "s",
                            min(r.seconds for r in list_runs), None, "", "reported", None,
                            {"runs": suite._runs(list_runs), "rows": len(rows)},
                            [] if rows else ["the search found nothing"]))
    return measures


def _full_backup(base: Home, out: Path, docs: int, repeats: int, files: int,
                 source_bytes: int, *, deleted: float | None = None
                 ) -> tuple[list[Measure], Home]:
    """The full backup to an empty folder, each round against ``rsync -a`` +
    ``sha256sum`` of the same files in the same round: the best wall of each side, every
    run's wall and CPU seconds and peak (whole process) in the detail."""
    arsip = base.home / "arsip"
    measures: list[Measure] = []
    full_runs: list[proc.Run] = []
    rsync_runs: list[proc.Run] = []
    sha_runs: list[proc.Run] = []
    summaries: list[dict[str, Any]] = []
    first_home: Home | None = None
    for i in range(repeats):
        inst = _clone(base, out / f"home-{i}")
        first_home = first_home or inst
        dest = out / f"disk-{i}"
        if i == 0:  # after the clone (hard links and the database: few new inodes)
            _settle_deletions(deleted)
        suite.round_start()
        run = inst.brankas("backup", str(dest), "--label", f"scale{i}", "--json")
        summaries.append(json.loads(run.stdout))
        full_runs.append(run)
        copy = out / f"copy-{i}"
        proc.settle()
        rsync_runs.append(proc.run(["rsync", "-a", f"{arsip}/", f"{copy}/"]))
        subprocess.run(["sync"], check=False)
        sha_runs.append(_sh(f"find '{copy}' -type f -print0 | xargs -0 sha256sum > /dev/null"))
        # The copy stays until the next bench's start (``_remove_earlier``): deleted
        # here, its 100,000 inodes would slow the next round's backup (``DELETE_SETTLE``).
    problems = []
    for s in summaries:
        if s["status"] != "completed" or len(s["agendas"]) != docs or not s["verified"]:
            problems.append(f"full backup: {s['status']}, {len(s['agendas'])} agendas")
    best = min(r.seconds for r in full_runs)
    best_rsync = min(r.seconds for r in rsync_runs)
    best_sha = min(r.seconds for r in sha_runs)
    peak = max(r.peak_rss_kib for r in full_runs)
    # s24: the audit segment is made in a second process: the tree's peak (sum of VmRSS of
    # the backup and its children, bench/proc.py) is the one held to the target.
    tree = max(r.tree_peak_kib for r in full_runs)
    # CPU (user + system) beside wall: on a shared machine the wall of either side
    # carries the others' load; each round's CPU ratio is the steadier figure.
    cpu_ratios = [round(b.cpu_seconds / (r.cpu_seconds + h.cpu_seconds), 2)
                  for b, r, h in zip(full_runs, rsync_runs, sha_runs, strict=True)]
    wall_ratios = [round(b.seconds / (r.seconds + h.seconds), 2)
                   for b, r, h in zip(full_runs, rsync_runs, sha_runs, strict=True)]
    measures += [
        Measure(f"backup {docs:,} small documents ({source_bytes / MIB:,.0f} MiB), "
                "read back", "s", best, best_rsync + best_sha,
                f"rsync -a {best_rsync:.2f} + sha256sum {best_sha:.2f}", "ratio <= 2",
                best / (best_rsync + best_sha) <= 2,
                {"files": files, "bytes": source_bytes, "runs": suite._runs(full_runs),
                 "rsync_runs": suite._runs(rsync_runs), "sha256sum_runs": suite._runs(sha_runs),
                 "wall_ratio_per_round": wall_ratios, "cpu_ratio_per_round": cpu_ratios,
                 "checked": f"each run completed, verified, {docs:,} agendas carried"},
                problems),
        Measure("  peak memory of that backup, whole process", "MiB", _mib(peak),
                _mib(max(r.peak_rss_kib for r in rsync_runs)),
                f"rsync; sha256sum {_mib(max(r.peak_rss_kib for r in sha_runs)):.0f}",
                "reported", None),
        Measure("  peak memory of that backup, process tree (sum of VmRSS)", "MiB",
                _mib(tree), _mib(max(r.tree_peak_kib for r in rsync_runs)),
                "rsync (its own children)", "<= 150 MiB", _mib(tree) <= 150),
        Measure("  peak memory of that backup, process tree (sum of Pss)", "MiB",
                _mib(max(r.tree_pss_peak_kib for r in full_runs)), None, "", "reported",
                None),
    ]

    assert first_home is not None
    return measures, first_home


def _plus_100(home: Home, disk: Path) -> tuple[proc.Run, dict[str, Any], list[str]]:
    """Register 100 documents (untimed), then back them up to ``disk``: the run, what it
    wrote (the audit segment, the snapshot) and the problems."""
    added = bulk.add(home.home, 100)
    suite.round_start()
    run = home.brankas("backup", str(disk), "--json")
    summary = json.loads(run.stdout)
    problems = [] if len(summary["agendas"]) == 100 else [
        f"the +100 run carried {len(summary['agendas'])} documents"]
    folder = disk / "data" / "backup" / summary["folder"]
    segments = sorted((disk / "data" / "audit").glob("*.jsonl.age"))
    detail = {"run": suite._runs([run])[0], "added": added,
              "checked": "exactly the 100 new documents carried",
              "bytes_added": summary["bytes_added"],
              "audit_segment": ({"name": segments[-1].name,
                                 "bytes": segments[-1].stat().st_size} if segments else None),
              "run_folder_bytes": {p.name: p.stat().st_size for p in folder.iterdir()}}
    return run, detail, problems


def _report(base: Home) -> list[Measure]:
    env = base.env(None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent.parent), *sys.path])
    r = subprocess.run([sys.executable, "-m", "bench.scale", "report", str(base.home)],
                       capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        return [Measure("monthly report at scale (failed)", "s", 0, None, "", "", False,
                        problems=[r.stderr[-2000:]])]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    detail = {"checked": f"{out['entries']:,} entries in {out['period']}", **out}
    return [
        Measure(f"monthly report PDF + XLSX ({out['entries']:,} entries, {out['period']})",
                "s", out["pdf_seconds"] + out["xlsx_seconds"], None, "", "reported", None,
                detail),
        Measure("  peak memory of making and rendering it", "MiB", out["peak_mib"], None, "",
                "reported", None),
    ]


def _report_child(home: Path) -> dict[str, Any]:
    os.environ["BRANKAS_HOME"] = str(home)
    from brankas import instance

    instance.start()
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    from brankas.web.accounts.models import User
    from brankas.web.documents.models import Document
    from brankas.web.reports.services import report_create, report_export

    busiest = (Document.objects.annotate(m=TruncMonth("registered_at")).values("m")
               .annotate(n=Count("id")).order_by("-n").first())
    assert busiest is not None
    period = f"{busiest['m']:%Y-%m}"
    operator = User.objects.get(username="operator")
    t0 = time.perf_counter()
    report = report_create(actor=operator, kind="messages", period=period)
    t1 = time.perf_counter()
    pdf = report_export(actor=operator, number=report.number, fmt="pdf")
    t2 = time.perf_counter()
    xlsx = report_export(actor=operator, number=report.number, fmt="xlsx")
    t3 = time.perf_counter()
    with open("/proc/self/status", "rb") as fh:
        peak = next(int(line.split()[1]) for line in fh if line.startswith(b"VmHWM:")) / 1024
    return {"period": period, "entries": len(report.data["entries"]),
            "create_seconds": round(t1 - t0, 3), "pdf_seconds": round(t2 - t1, 3),
            "xlsx_seconds": round(t3 - t2, 3), "pdf_bytes": len(pdf), "xlsx_bytes": len(xlsx),
            "peak_mib": round(peak, 1)}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        # Not a WORK folder: without this, ``--help`` built a 100,000-document instance
        # in a folder of that name.
        print("usage: python -m bench.scale [WORK] [--only-full] [--repeats N]\n"
              "  WORK (default .bench/scale-work) holds the instance, reused when built\n"
              "  for the same BRANKAS_BENCH_DOCS (default 100,000); --only-full measures\n"
              "  the full backup against rsync -a + sha256sum alone, N rounds (default 2).")
        return 0
    if any(a.startswith("-") and a not in ("--only-full", "--repeats") for a in args):
        print(f"unknown option: {next(a for a in args if a.startswith('-'))}", file=sys.stderr)
        return 2
    if args[:1] == ["report"]:
        print(json.dumps(_report_child(Path(args[1]))))
        return 0
    only_full = "--only-full" in args
    repeats = 2
    if "--repeats" in args:
        repeats = int(args[args.index("--repeats") + 1])
        del args[args.index("--repeats"):args.index("--repeats") + 2]
    args = [a for a in args if a != "--only-full"]
    work = Path(args[0]) if args else Path(".bench/scale-work")
    work.mkdir(parents=True, exist_ok=True)
    measures = measure(work.absolute(), repeats=repeats, only_full=only_full)
    # Every run's wall and CPU seconds and peaks (the table below shows the best wall).
    (work / "scale-results.json").write_text(json.dumps(
        [{"name": m.name, "unit": m.unit, "brankas": m.brankas, "baseline": m.baseline,
          "ratio": m.ratio, "detail": m.detail, "problems": m.problems} for m in measures],
        indent=1, default=str))
    for m in measures:
        value = f"{m.brankas:.2f} s" if m.unit == "s" else f"{m.brankas:.0f} MiB"
        base = "" if m.baseline is None else (
            f"{m.baseline:.2f} s" if m.unit == "s" else f"{m.baseline:.0f} MiB")
        ratio = f"{m.ratio:.2f}x" if m.ratio is not None and m.unit == "s" else "-"
        print(f"{m.name:<70} {value:>10} {base:>10} ({m.baseline_label}) {ratio} "
              f"{m.target} {m.met} {m.problems[:2]}")
        if m.detail and "cpu_ratio_per_round" in m.detail:
            print(f"{'':<4}per round: wall {m.detail['wall_ratio_per_round']}x, "
                  f"CPU {m.detail['cpu_ratio_per_round']}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
