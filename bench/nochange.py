"""The no-change and +100 backups of ``bench/scale.py`` alone, on a disk made once
(untimed), with CPU seconds beside wall time: ``python -m bench.nochange WORK [ROUNDS]``
(the size from ``BRANKAS_BENCH_DOCS``; the instance in ``WORK/scale-home`` as
``bench.scale.prepare`` makes or finds it, and its disk in ``WORK/nochange``, kept between
calls so that later calls measure a disk with many runs).

Each round: ``brankas backup DISK`` with nothing changed, then ``restic backup`` of the
unchanged archive (the repository made on the first call), alternating; then 100
documents registered (``bench.bulk.add``, untimed) and backed up, at this size and at
``BRANKAS_BENCH_PLUS_SMALL`` (20,000 by default; 0 for none). Prints one line per run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bench import bulk, proc, scale


def _line(tag: str, run: proc.Run, *, brankas: bool = True) -> str:
    carried = len(json.loads(run.stdout)["agendas"]) if brankas else "-"
    return (f"{tag:<22} wall {run.seconds:7.2f} s  cpu {run.cpu_seconds:6.2f} s  "
            f"peak {run.peak_rss_kib / 1024:5.0f} MiB  carried {carried}")


def _instance(work: Path, docs: int) -> tuple[scale.Home, Path]:
    base = scale.prepare(work, docs)
    out = work / "nochange"
    out.mkdir(exist_ok=True)
    home = out / "home"
    inst = (scale.Home(home, base.tmp, base.built) if home.exists()
            else scale._clone(base, home))
    disk = out / "disk"
    if not disk.exists():  # untimed: the disk then holds every document
        inst.brankas("backup", str(disk), "--label", "nochange", "--json")
    return inst, disk


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    work = Path(args[0] if args else ".bench/scale-work").absolute()
    rounds = int(args[1]) if len(args) > 1 else 3
    docs = scale.size_from_env()
    inst, disk = _instance(work, docs)
    arsip = work / "scale-home" / "arsip"
    repo = work / "nochange" / "restic"
    renv = {**os.environ, "RESTIC_PASSWORD": "bench-scale"}  # noqa: S105 - a bench secret
    if not repo.exists():
        proc.run(["restic", "init", "--repo", str(repo)], env=renv)
        proc.run(["restic", "-r", str(repo), "backup", "--quiet", str(arsip)], env=renv)
    for _ in range(rounds):
        print(_line("no-change", inst.brankas("backup", str(disk), "--json")), flush=True)
        proc.settle()
        print(_line("restic no-change", proc.run(
            ["restic", "-r", str(repo), "backup", "--json", str(arsip)], env=renv),
            brankas=False), flush=True)
    small = int(os.environ.get("BRANKAS_BENCH_PLUS_SMALL") or 20_000)
    sizes = [(docs, work)] + ([(small, work / f"plus-{small}")] if 0 < small < docs else [])
    for size, folder in sizes:
        home, target = _instance(folder, size) if size != docs else (inst, disk)
        for seed in range(rounds):
            bulk.add(home.home, 100, seed=1000 + seed + len(list(target.glob("data/backup/*"))))
            print(_line(f"+100 at {size:,}", home.brankas("backup", str(target), "--json")),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
